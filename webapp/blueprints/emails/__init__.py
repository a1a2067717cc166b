"""Email links and settings: click tracking, one-click unsubscribe, the preference centre,
the bounce webhook, and the staff's view of the outbox (routes.py, forms.py)."""
