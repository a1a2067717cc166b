"""Per-app services the views use: the mailer, the photo stores and sending their images."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, Response, abort, current_app, send_file, url_for

from diary.photos import PhotoStore
from mailer import Email, FileMailer, Mailer, SMTPMailer
from recommender.artifacts import ArtifactStore
from recommender.train import Model


def init_app(app: Flask) -> None:
    if "mailer" not in app.extensions:
        app.extensions["mailer"] = _make_mailer(app)
    app.extensions["photo_store"] = PhotoStore(app.config["UPLOAD_DIR"])
    app.extensions["content_store"] = PhotoStore(Path(app.config["UPLOAD_DIR"]) / "content")
    app.extensions["reco_artifacts"] = ArtifactStore(
        Path(app.config["RECO_ARTIFACT_DIR"]), app.config["RECO_RELOAD_SECONDS"],
        on_error=lambda error: app.logger.warning("recommender artifact: %s", error))


def _make_mailer(app: Flask) -> Mailer:
    c = app.config
    if c.get("MAIL_SERVER"):
        return SMTPMailer(c["MAIL_SERVER"], c["MAIL_PORT"], c["MAIL_FROM"], c["MAIL_USE_TLS"],
                          c.get("MAIL_USERNAME"), c.get("MAIL_PASSWORD"))
    return FileMailer(c["MAIL_OUTBOX_DIR"], c["MAIL_FROM"])


def mailer() -> Mailer:
    return current_app.extensions["mailer"]


def send_email(email: Email) -> None:
    mailer().send(email)


def external_url(endpoint: str, **values: object) -> str:
    """An absolute link for emails, on the configured SITE_URL."""
    return current_app.config["SITE_URL"].rstrip("/") + url_for(endpoint, **values)


def site_url_for(endpoint: str, **values: object) -> str:
    """Like `external_url`, without needing a request (jobs, after the response): the
    route's path from the URL map, on SITE_URL, never on a request's Host header."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["SITE_URL"].rstrip("/") + path


def reco_model() -> Model | None:
    """The newest trained suggestion model (None before the first `flask reco train`); a
    new artifact is picked up within RECO_RELOAD_SECONDS, without a restart."""
    store: ArtifactStore = current_app.extensions["reco_artifacts"]
    return store.current()


def photo_store() -> PhotoStore:
    return current_app.extensions["photo_store"]


def content_store() -> PhotoStore:
    """Images of articles and products, beside the diary's photos in their own folder."""
    return current_app.extensions["content_store"]


def send_content_image(key: str, size: str, cache: str) -> Response:
    """A content image's JPEG ("full" or "thumb") with the given Cache-Control; 404 for a key
    that is not one or has no file. Who may see it is the caller's check."""
    try:
        path = content_store().path(key, size)
    except ValueError:
        abort(404)
    if not path.exists():
        abort(404)
    response = send_file(path, mimetype="image/jpeg", conditional=True, max_age=3600)
    response.headers["Cache-Control"] = cache
    return response
