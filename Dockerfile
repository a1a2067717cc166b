# The site's image: web (gunicorn), scheduler and outbox sender run from it with different
# commands (see compose.yaml and docs/DEPLOYMENT.md).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    FLASK_APP=wsgi \
    APP_ENV=production \
    INSTANCE_PATH=/data/instance \
    UPLOAD_DIR=/data/uploads \
    LOG_FORMAT=json

# pg_dump / pg_restore / psql for `flask backup` (the client may be newer than the server).
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system app \
    && useradd --system --gid app --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p /data/instance /data/uploads \
    && chown -R app:app /data

WORKDIR /app

# Dependencies first (a layer that only changes with pyproject.toml / constraints.txt):
# the project's runtime dependencies and its [deploy] extra, at the pinned versions.
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
print('\n'.join(p['dependencies'] + p['optional-dependencies']['deploy']))" > /tmp/requirements.txt \
    && pip install -c constraints.txt -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The code, installed editable (read from here), then the catalogues. A plain `pip install .`
# works as well: templates, static files, catalogues and migrations ship in the package
# (scripts/check_install.sh proves it).
COPY . .
RUN pip install --no-deps -e . \
    && pybabel compile -d webapp/translations \
    && chmod 0755 docker/entrypoint.sh

USER app
VOLUME ["/data"]
EXPOSE 8000

ENTRYPOINT ["/app/docker/entrypoint.sh"]
# Workers: WEB_CONCURRENCY (gunicorn reads it). The app logs one JSON line per request, so
# gunicorn's own access log stays off.
# X-Forwarded-* are trusted only through TRUSTED_PROXY_COUNT (the app's ProxyFix).
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--timeout", "60", "--graceful-timeout", "20", \
     "wsgi:app"]
