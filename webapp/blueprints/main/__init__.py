"""The main area: routes.py (views) and forms.py (WTForms)."""
