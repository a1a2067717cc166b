"""The account area: routes.py (views) and forms.py (WTForms)."""
