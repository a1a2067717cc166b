"""Email digests: what each parent's stage brings, weekly (default) or daily, in their language.

Two steps, like every push:

1. `schedule_due(session, now)` (`scheduling`) writes one ledger row per person and period
   for everyone whose local send time has come, within the frequency cap.
2. The outbox (`journeys.outbox.send_due`) renders each pending row with `render(...)`
   (`rendering`, with the stage content from `blocks`) and sends it.

The words come from the Babel catalogue the pages use; the links from the web layer's
`SiteLinks` (`journeys.links`), each one click-tracked (`clicks`); the headers (`headers`)
follow RFC 8058. The modules are split by concern; this package names what other modules use.
"""
from __future__ import annotations

from journeys.digests.blocks import (
    ChildBlock,
    ContentCache,
    Suggesting,
    children_by_user,
    preload,
)
from journeys.digests.clicks import (
    CLICK_KEY_CHARS,
    CLICK_MAX_AGE,
    CLICK_PURPOSE,
    BadClick,
    Click,
    Tracker,
    is_site_path,
    make_click_token,
    read_click_token,
    record_click,
)
from journeys.digests.headers import marketing_headers, message_id
from journeys.digests.rendering import compose, render, render_message, subject_for
from journeys.digests.scheduling import (
    CAP_WINDOW,
    CHANNEL,
    DEFAULT_CAP,
    KIND,
    BatchResult,
    ScheduleSummary,
    recent_email_counts,
    run_schedule,
    schedule_batch,
    schedule_due,
)

__all__ = [
    "Suggesting",
    "CAP_WINDOW", "CHANNEL", "CLICK_KEY_CHARS", "CLICK_MAX_AGE", "CLICK_PURPOSE", "DEFAULT_CAP",
    "KIND", "BadClick", "BatchResult", "ChildBlock", "Click", "ContentCache",
    "ScheduleSummary", "Tracker", "children_by_user", "compose", "is_site_path",
    "make_click_token", "marketing_headers", "message_id", "preload", "read_click_token",
    "record_click", "recent_email_counts", "render", "render_message", "run_schedule",
    "schedule_batch", "schedule_due", "subject_for",
]
