"""WSGI entry point: `gunicorn wsgi:app`, and `flask --app wsgi …` for the CLI.

The configuration comes from APP_ENV (production unless said otherwise; the testing one is
refused here) and the environment variables in config.py.
"""
from webapp import create_app

app = create_app()
