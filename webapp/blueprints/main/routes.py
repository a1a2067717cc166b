"""Public pages: home, privacy promise, language switch, health and readiness checks."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from diary.locales import LOCALES
from diary.policy import PRIVACY_POLICY_VERSION
from webapp import health
from webapp.blueprints.studio import home_endpoint
from webapp.database import get_session, transaction
from webapp.extensions import limiter
from webapp.security import safe_next

bp = Blueprint("main", __name__)


@bp.route("/")
def home() -> Any:
    if current_user.is_authenticated:  # staff work in the studio; parents in their book
        return redirect(url_for(home_endpoint(current_user.staff_role) if current_user.is_staff
                                else "diary.dashboard"))
    return render_template("main/home.html")


@bp.route("/privacy")
def privacy() -> Any:
    return render_template("main/privacy.html", policy_version=PRIVACY_POLICY_VERSION)


@bp.route("/language", methods=["POST"])
def set_language() -> Any:
    """The header switcher: remembered on the account, or in the session before sign-in."""
    lang = request.form.get("lang", "")
    if lang in LOCALES:
        if current_user.is_authenticated:
            with transaction():
                current_user.locale = lang
        else:
            session["lang"] = lang
    return redirect(safe_next(request.form.get("next"), "main.home"))


@bp.route("/healthz")
@limiter.exempt
def healthz() -> Any:
    """Liveness for load balancers: the database answers (webapp.health)."""
    return health.answer(health.health(get_session()))


@bp.route("/readyz")
@limiter.exempt
def readyz() -> Any:
    """Readiness: healthy, the schema at the migrations' head, uploads writable."""
    return health.answer(health.readiness(get_session(), Path(current_app.config["UPLOAD_DIR"])))


def hello() -> Any:
    """The bare endpoint the timeline benchmark compares against. Registered only when
    BENCH_ENDPOINTS is on (the benchmarks set it); otherwise /hello is a 404."""
    return "hello"


def register_bench_endpoints(app: Flask) -> None:
    if app.config.get("BENCH_ENDPOINTS"):
        app.add_url_rule("/hello", "main.hello", hello)
