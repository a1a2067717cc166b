"""Rewards (staff): the samples catalogue (marketers) and the redemptions (service)."""
