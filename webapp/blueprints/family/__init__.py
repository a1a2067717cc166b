"""The family area: routes.py (views) and forms.py (WTForms)."""
