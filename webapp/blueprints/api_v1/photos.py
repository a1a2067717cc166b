"""Photos: upload (multipart; checked, re-encoded and stripped of metadata by diary.photos,
like the entry form's) and download."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from flask import request, send_file, url_for
from pydantic import AwareDatetime, BaseModel, Field

from clock import utcnow
from diary import entries as entry_service
from diary import families
from diary.entry_kinds import EntryInput
from webapp import rewards_glue
from webapp.blueprints.api_v1.entries import EntryOut, entry_out, etag_of
from webapp.blueprints.api_v1.errors import ApiError
from webapp.blueprints.api_v1.framework import WRITE, Call, Reply, endpoint
from webapp.photo_uploads import save_then_write
from webapp.services import photo_store

FILES = {"file": "The photo: JPEG, PNG, WebP or HEIC, at most 10 MB. Repeat the field for "
                 "several (at most 10 to an entry)."}


class PhotoEntryFields(BaseModel):
    """A photo entry's own fields, checked as the JSON entry's are (EntryIn)."""

    title: str = Field("", max_length=120)
    occurred_at: AwareDatetime | None = Field(None, description="Default: now.")


class PhotoQuery(BaseModel):
    size: Literal["full", "thumb"] = "full"


def _files() -> list[Any]:
    files = [f for f in request.files.getlist("file") if f and f.filename]
    if not files:
        raise ApiError(422, fields={"file": "Send at least one photo in the field 'file'."})
    return files


@endpoint("POST", "/children/<int:child_id>/photos", tag="Photos",
          summary="Add a photo entry with its photos", scope=WRITE, files=FILES,
          form=PhotoEntryFields, query=PhotoEntryFields, response=EntryOut, status=201)
def create_photo_entry(call: Call, child_id: int) -> Reply:
    """The entry's title and time go as form fields beside the files (the query string is
    still read, for older clients; a form field wins)."""
    child = families.child_for(call.session, call.user, child_id, write=True)
    files = _files()
    form: PhotoEntryFields = call.form
    q: PhotoEntryFields = call.query.model_copy(
        update={name: getattr(form, name) for name in form.model_fields_set})
    occurred: datetime = q.occurred_at or utcnow()

    def write(tx: Any, saved: Any) -> Any:
        entry = entry_service.create_entry(tx, child, call.user, EntryInput(
            kind="photo", occurred_at=occurred, title=q.title), saved)
        rewards_glue.entry_created(tx, call.user, entry)
        return entry

    entry = save_then_write(files, "photo", 0, write)
    out = entry_out(entry)
    return Reply(out, etag=out.etag,
                 headers={"Location": url_for("api_v1.get_entry", entry_id=entry.id)})


@endpoint("POST", "/entries/<int:entry_id>/photos", tag="Photos",
          summary="Add photos to an entry", scope=WRITE, files=FILES, response=EntryOut,
          etag=True, status=201)
def add_photos(call: Call, entry_id: int) -> Reply:
    entry = families.entry_for(call.session, call.user, entry_id, write=True)
    call.check_if_match(etag_of(entry))
    files = _files()
    save_then_write(files, entry.kind, len(entry.photos),
                    lambda tx, saved: entry_service.add_photos(tx, entry, saved))
    out = entry_out(entry)
    return Reply(out, etag=out.etag)


@endpoint("GET", "/photos/<int:photo_id>", tag="Photos", summary="A photo's image",
          query=PhotoQuery, media_type="image/jpeg")
def get_photo(call: Call, photo_id: int) -> Any:
    photo = families.photo_for(call.session, call.user, photo_id)
    path = photo_store().path(photo.storage_key, call.query.size)
    if not path.exists():
        raise ApiError(404)
    response = send_file(path, mimetype="image/jpeg", conditional=True, max_age=86400)
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response
