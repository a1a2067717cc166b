"""Rewards: points earned for taking part (diary streaks, milestones, surveys…), the balance
and its history, and a small catalogue of samples to redeem.

Beside `care` and `community`, which it never imports: the web layer joins them (it awards
the points for what those packages record and opens the redemption's ticket).

A merge of two accounts (crm.duplicates) moves points and samples too: importing the package
registers `rewards.merge`'s mover with it.
"""
from rewards import merge as _merge  # noqa: E402,F401  (registers the mover)
