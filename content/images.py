"""Which stored content images are still needed.

An image is needed while a content item shows it or any saved version names it: a version
can be reverted to, and it must come back with its picture. Anything else on disk is left
over from replaced or removed images and can go (`flask content prune-images`).
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.models import ContentItem, Version


def referenced_keys(session: Session) -> set[str]:
    keys = {key for key in session.scalars(select(ContentItem.image_key)) if key}
    for snapshot in session.scalars(select(Version.snapshot)):
        key = (snapshot or {}).get("image_key")
        if key:
            keys.add(str(key))
    return keys


def unreferenced(session: Session, stored: list[str]) -> list[str]:
    """The stored keys no item or version names."""
    needed = referenced_keys(session)
    return [key for key in stored if key not in needed]
