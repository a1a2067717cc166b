"""Reading the live site's email as a parent would: the file mailer's outbox folder."""
from __future__ import annotations

import re
from email import policy as email_policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

#: Each live site's outbox folder (the file mailer writes every email there), by base URL.
#: (Here, not in conftest.py: pytest imports a conftest as a plugin under another name than
#: the test modules do, which would make two dicts.)
OUTBOXES: dict[str, Path] = {}


def mailed_link(page: Any, kind: str, to: str) -> str:
    """The path of the newest emailed link of `kind` ("verify", "join", "reset") to `to`,
    read from the site's outbox folder as a parent would read their mail."""
    base = re.match(r"https?://[^/]+", page.url).group(0)  # type: ignore[union-attr]
    folder = OUTBOXES[base]
    parser = BytesParser(policy=email_policy.default)
    for path in sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns, reverse=True):
        message = parser.parsebytes(path.read_bytes())
        if message["To"] != to:
            continue
        text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        found = re.search(rf"https?://[^/\s]+(/{kind}/\S+)", text)
        if found:
            return found.group(1)
    raise AssertionError(f"no {kind} email to {to} in {folder}")


def confirm_email(page: Any, to: str) -> None:
    """Open the address-check email's link and press "Confirm and continue"."""
    page.goto(mailed_link(page, "verify", to))
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm and continue").click()
