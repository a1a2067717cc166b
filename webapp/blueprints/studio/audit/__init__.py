"""The staff access log (admins only)."""
