"""The outbox (staff): failed and dead email deliveries of the ledger."""
