"""Uploaded photos → stored files → rows, shared by the entry form and the JSON API.

The number of files is checked against the entry's free places (`kept` photos stay) before
any is read; then every file's size and header (format, dimensions) before any is decoded;
then they are decoded (re-encoded, metadata stripped: diary.photos) and written one at a
time. Photo files are written before the rows that name them; if anything fails, the files
are removed again, so neither orphan rows nor orphan files are left.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from diary import entries as entry_service
from diary.photos import ProcessedPhoto, check_upload, process_upload
from webapp.database import transaction
from webapp.services import photo_store

T = TypeVar("T")
Saved = list[tuple[str, ProcessedPhoto]]


def store_all(files: Sequence[FileStorage]) -> Saved:
    """Check every file's size and header before any is decoded, then re-encode each
    (metadata stripped) and put it in the photo store. If one fails (a broken file, a full
    disk on the second photo), what was stored is removed and the error raised."""
    store = photo_store()
    for upload in files:
        check_upload(upload.stream)
    saved: Saved = []
    try:
        for upload in files:
            processed = process_upload(upload.stream)
            saved.append((store.save(processed), processed))
    except BaseException:
        store.delete([key for key, _ in saved])
        raise
    return saved


def save_then_write(files: Sequence[FileStorage], kind: str, kept: int,
                    write: Callable[[Session, Saved], T]) -> T:
    """Check and store `files`, then run `write(tx, saved)` in one transaction; on any
    failure (a DiaryError for a bad file, too many photos …) the stored files are removed
    and the error raised."""
    entry_service.check_photo_room(kind, kept, len(files))
    saved = store_all(files)
    try:
        with transaction() as tx:
            return write(tx, saved)
    except BaseException:
        photo_store().delete([key for key, _ in saved])
        raise
