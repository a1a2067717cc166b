"""The recommender for analysts: the latest offline evaluation of each data set (kept by
`flask reco evaluate`), the current model's training metrics, and online click-through by
model version, surface and stage against the control with its 95 % interval
(`recommender.reports`). Analysts and admins; other staff 403, parents 404."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, render_template, request

from clock import utcnow
from recommender import artifacts, reports
from webapp.database import get_session
from webapp.security import staff_required
from webapp.services import reco_model

bp = Blueprint("reco", __name__)

#: The windows the page offers (days); the log is read for the chosen one only.
WINDOWS = (7, 28, 90, 365)
DEFAULT_WINDOW = 28


@bp.route("")
@staff_required("analyst")
def index() -> Any:
    days = request.args.get("days", type=int)
    days = days if days in WINDOWS else DEFAULT_WINDOW
    rows = reports.online_ctr(get_session(), since=utcnow() - timedelta(days=days))
    return render_template(
        "studio/reco/index.html", rows=rows, days=days, windows=WINDOWS,
        evaluations=artifacts.latest_evaluations(
            Path(current_app.config["RECO_ARTIFACT_DIR"])),
        model=reco_model())
