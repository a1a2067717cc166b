"""Satisfaction surveys for parents: the site's survey page (signed in) and the email's
signed one-click answer links (no sign-in needed) — routes.py, forms.py."""
