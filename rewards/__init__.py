"""Rewards: points earned for taking part (diary streaks, milestones, surveys…), the balance
and its history, and a small catalogue of samples to redeem.

Beside `care` and `community`, which it never imports: the web layer joins them (it awards
the points for what those packages record and opens the redemption's ticket).
"""
