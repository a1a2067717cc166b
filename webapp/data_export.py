"""Wiring of "download everything": which packages' sections the export has, and the file.

The domain packages never import each other's export code; this module puts the diary's
core, the content package's, the journeys package's, the recommender's (interactions,
kept shop order lines) and the CRM's (contact history, scores, due-list follow-ups)
sections into the one
registry the site uses. A new package with personal tables adds its `register` here, and
tests/web/test_data_export.py fails until it does.
"""
from __future__ import annotations

import logging
import os
import tempfile
from typing import Any

from flask import Flask, current_app, send_file
from sqlalchemy.orm import Session

import care.privacy
import care.tickets
import community.privacy
import content.privacy
import crm.privacy
import journeys.privacy
import recommender.privacy
import rewards.privacy
from clock import utcnow
from diary import privacy
from diary.models import User
from recommender import privacy as reco_privacy
from webapp.database import get_session, transaction
from webapp.services import photo_store

log = logging.getLogger(__name__)

REGISTERS = (privacy.register, content.privacy.register, journeys.privacy.register,
             recommender.privacy.register, crm.privacy.register, care.privacy.register,
             community.privacy.register, rewards.privacy.register)


def build_registry() -> privacy.ExportRegistry:
    registry = privacy.ExportRegistry()
    for register in REGISTERS:
        register(registry)
    return registry


def init_app(app: Flask) -> None:
    app.extensions["export_registry"] = build_registry()
    app.jinja_env.globals["EXPORT_LIMIT"] = privacy.EXPORT_LIMIT  # told on the account page


def registry() -> privacy.ExportRegistry:
    return current_app.extensions["export_registry"]


def send_export(user: User, claim_id: int) -> Any:
    """Write the zip to a temporary file (EXPORT_TMP_DIR, else the system's), send it, and
    let it vanish: the name is removed before sending, so nothing stays on disk even when
    the download is cut off. When writing fails, the claimed export is given back."""
    folder = current_app.config.get("EXPORT_TMP_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
    descriptor, path = tempfile.mkstemp(prefix="export-", suffix=".zip", dir=folder)
    os.close(descriptor)
    try:
        privacy.write_export(get_session(), user, photo_store(), path, registry())
        handle = open(path, "rb")  # noqa: SIM115 - closed by the response
    except BaseException:
        get_session().rollback()
        try:
            with transaction() as s:
                privacy.release_export(s, claim_id)
        except Exception:  # noqa: BLE001 - the first error is the one to report
            log.exception("could not give back export %s", claim_id)
        raise
    finally:
        os.unlink(path)
    name = f"baby-journey-{user.member_no}-{utcnow():%Y%m%d}.zip"
    response = send_file(handle, mimetype="application/zip", as_attachment=True,
                         download_name=name, max_age=0)
    response.content_length = os.fstat(handle.fileno()).st_size
    response.headers["Cache-Control"] = "no-store"
    return response


def delete_account(session: Session, user: User) -> list[str]:
    """Delete a parent's account, as the account page does and as customer service does for
    a privacy request (`privacy.delete_account`, the recommender's log forgotten first).
    Returns the stored photo keys (diary, club post and ticket photos) to delete once committed."""
    ticket_keys = care.tickets.attachment_keys(session, user)
    reco_privacy.forget(session, user)
    club_keys = community.privacy.forget(session, user)  # posts, their photos, comments…
    return club_keys + privacy.delete_account(session, user) + ticket_keys
