"""Interactions with suggested items: the cards' log endpoint and the tracked "where to buy"."""
