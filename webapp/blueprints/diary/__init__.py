"""The diary area: routes.py (views) and forms.py (WTForms)."""
