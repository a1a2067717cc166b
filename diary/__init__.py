"""The baby's book: accounts, families, children, timeline entries, photos and age maths.

Plain Python on SQLAlchemy sessions; never imports Flask and never commits.
"""
