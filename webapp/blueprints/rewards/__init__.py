"""Rewards for parents: the balance and history, the samples and redeeming them."""
