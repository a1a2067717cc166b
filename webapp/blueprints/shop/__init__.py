"""The brand shop's integrations: order lines in (authenticated by a key per integration)."""
