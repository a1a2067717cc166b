"""WSGI entry point: `gunicorn wsgi:app`, and `flask --app wsgi …` for the CLI.

The configuration comes from APP_ENV (production unless said otherwise; the testing one is
refused here) and the environment variables in config.py.

Once the app is built, what exists lives as long as the process (modules, the app, its
templates, catalogues and metadata: about 260,000 objects the cyclic garbage collector
tracks). `gc.freeze()` takes them out of its sight, so a full collection walks only what
requests made since: before, one took about 140 ms every few thousand requests, a pause the
requests queued behind it waited out (and about 2 % of a worker's time). Refcounting still
frees them as before. Not in the app factory: the test suite builds hundreds of apps.
"""
import gc

from webapp import create_app

app = create_app()
gc.collect()  # what is garbage now is not kept for good
gc.freeze()
