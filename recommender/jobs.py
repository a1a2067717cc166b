"""Retraining: read the log's recent window, train, save a new artifact version.

Called by `flask reco train` (with a progress bar), by `flask demo load` and by the
scheduler's nightly job; the web workers' `ArtifactStore` picks the new version up within
RECO_RELOAD_SECONDS.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from recommender import artifacts, catalogue, train


def retrain(session: Session, folder: Path, days: int, now: datetime,
            progress: Callable[[int, int], None] | None = None,
            step: Callable[[str], None] | None = None) -> train.Model:
    """Train on the interactions of the `days` before `now` and save the model as the
    current artifact in `folder`; returns it (its `version` is the saved folder's name).
    Only reads the database (the caller owns the transaction)."""
    since = now - timedelta(days=days)
    log = train.read_log(session, since, now, progress=progress)
    people = train.read_people(session, log, now)
    products = catalogue.load(session, now)
    model = train.train(products, log, people, now=now, window=(since, now), progress=step)
    artifacts.save(model, folder)
    return model
