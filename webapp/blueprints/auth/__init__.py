"""The auth area: routes.py (views) and forms.py (WTForms)."""
