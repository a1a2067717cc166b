"""Journeys: stages families move through, the delivery ledger, inbox, digests, scheduler jobs.

Plain Python on SQLAlchemy sessions; never imports Flask and never commits.
"""
