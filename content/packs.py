"""Content packs: a folder or zip of JSON files (see content/PACK_FORMAT.md) plus images.

Import validates everything before writing anything, runs in the caller's one transaction,
and is idempotent: items are matched by slug/SKU, unchanged ones are left alone, changed ones
get a new version. Export writes the same format, so a pack round-trips.
"""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from content import authoring, workflow
from content.authoring import ItemInput, TextInput
from content.errors import N_, ValidationError
from content.models import ContentItem, Status
from diary.errors import DiaryError
from diary.models import User
from diary.photos import PhotoStore, process_upload

DEFAULT_PACK = Path(__file__).with_name("packs") / "default"
FILES = {"article": "articles", "reminder": "reminders", "product": "products", "faq": "faqs"}
_TEXT_FIELDS = {"article": ("title", "summary", "body"), "reminder": ("title", "", "body"),
                "product": ("name", "description", ""), "faq": ("question", "", "answer")}


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{len(self.created)} created, {len(self.updated)} updated, "
                f"{len(self.unchanged)} unchanged")


class PackError(ValidationError):
    """The pack cannot be imported; `problems` lists every item that is wrong."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(N_("The pack has %(count)d problems."), count=len(problems))
        self.problems = problems


def _read_files(source: Path | bytes) -> dict[str, bytes]:
    if isinstance(source, bytes) or (isinstance(source, Path) and source.is_file()):
        data = source if isinstance(source, bytes) else source.read_bytes()
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return {name: archive.read(name) for name in archive.namelist()
                        if not name.endswith("/")}
        except zipfile.BadZipFile:
            raise PackError(["The file is not a zip archive."]) from None
    folder = Path(source)
    if not folder.is_dir():
        raise PackError([f"No pack at {folder}."])
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _to_input(kind: str, raw: dict[str, Any]) -> ItemInput:
    title, summary, body = _TEXT_FIELDS[kind]
    translations = {
        locale: TextInput(title=str(text.get(title, "")),
                          summary=str(text.get(summary, "")) if summary else "",
                          body=str(text.get(body, "")) if body else "")
        for locale, text in (raw.get("translations") or {}).items()}
    window = raw.get("window") or {}
    return ItemInput(
        kind=kind, key=str(raw.get("sku") if kind == "product" else raw.get("slug") or ""),
        translations=translations, window_unit=window.get("unit"),
        window_from=window.get("from"), window_to=window.get("to"),
        topics=list(raw.get("topics") or []), interests=list(raw.get("interests") or []),
        tags=list(raw.get("tags") or []), category=raw.get("category"),
        source=str(raw.get("source") or ""), reviewed_by=raw.get("reviewed_by"),
        review_date=date.fromisoformat(raw["review_date"]) if raw.get("review_date") else None,
        price_minor=raw.get("price_minor"), currency=raw.get("currency"),
        buy_url=raw.get("buy_url"), active=bool(raw.get("active", True)),
        position=int(raw.get("position") or 0))


def parse(source: Path | bytes) -> tuple[list[tuple[ItemInput, str | None]], dict[str, bytes]]:
    """All items of a pack (with their image file names) — or PackError listing every problem."""
    files = _read_files(source)
    items: list[tuple[ItemInput, str | None]] = []
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    for kind, prefix in FILES.items():
        for name in sorted(n for n in files if n.startswith(prefix) and n.endswith(".json")):
            try:
                rows = json.loads(files[name])
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                problems.append(f"{name}: not valid JSON ({error})")
                continue
            if not isinstance(rows, list):
                problems.append(f"{name}: must hold a list of items")
                continue
            for index, raw in enumerate(rows):
                where = f"{name} item {index + 1}"
                try:
                    data = _to_input(kind, raw)
                    authoring.validate(data)
                except (DiaryError, TypeError, ValueError, AttributeError) as error:
                    problems.append(f"{where}: {error}")
                    continue
                if (kind, data.key) in seen:
                    problems.append(f"{where}: {data.key} appears twice")
                    continue
                seen.add((kind, data.key))
                image = raw.get("hero") or raw.get("image")
                if image and image not in files:
                    problems.append(f"{where}: image {image} is not in the pack")
                    continue
                items.append((data, image))
    if problems:
        raise PackError(problems)
    return items, files


def import_pack(session: Session, source: Path | bytes, author: User | None, store: PhotoStore,
                publish: bool = True, *, review_required: bool = True,
                override_reason: str | None = None,
                reason: str = "Content pack imported from the command line") -> ImportReport:
    """Import a pack. Who publishes what it brings in follows the review rules:

    * `author` None (the command line, demo data): the operator's pack is published as the
      system, recorded with `reason` on each item's history.
    * A person (the studio): they saved the imported versions, so with review required they
      cannot approve them. Without `publish`, new and changed items are sent for review for a
      second reviewer; with `publish`, only an admin may, with `override_reason` (recorded
      per item). With review off, editors publish alone (recorded).
    * Without `publish`, changes to live items wait for review like any save (review
      required): an import never changes what families see unapproved.
    """
    if publish and author is not None:
        workflow.check_publish_own(author, review_required, override_reason)
    items, files = parse(source)
    report = ImportReport()
    images: dict[str, str] = {}
    for data, image in items:
        if image:
            if image not in images:
                # The key is the file's hash, so importing the same image again reuses it.
                key = hashlib.sha256(files[image]).hexdigest()[:32]
                if not store.path(key).exists():
                    try:
                        store.save(process_upload(files[image]), key=key)
                    except DiaryError as error:
                        raise PackError([f"{image}: {error}"]) from None
                images[image] = key
            data.image_key = images[image]
        label = f"{data.kind}:{data.key}"
        item = authoring.find(session, data.kind, data.key)
        if item is None:
            item = authoring.create(session, data, author, note="Imported")
            report.created.append(label)
        else:
            # Compare with what readers see (exports write the live text, not waiting edits).
            current = authoring.ItemInput.from_item(item)
            data.image_key = data.image_key or current.image_key
            if current.snapshot() == data.snapshot() and item.status != Status.ARCHIVED.value:
                report.unchanged.append(label)
                continue
            authoring.save(session, item, data, author, review_required, note="Imported")
            report.updated.append(label)
        waiting = item.status != Status.PUBLISHED.value or item.pending_review
        if publish and waiting:
            if author is None:
                workflow.publish_reviewed(session, item, reason=reason)
            else:
                workflow.publish(session, item, author, review_required,
                                 version=workflow.under_review(session, item).version,
                                 override_reason=override_reason)
        elif author is not None and review_required and (
                item.status == Status.DRAFT.value or item.pending_review):
            workflow.submit(item, author)  # a second reviewer approves what was brought in
    return report


def export_pack(session: Session, store: PhotoStore | None = None) -> bytes:
    """A zip of every non-archived item's live content, in the pack format."""
    items = list(session.scalars(
        select(ContentItem).where(ContentItem.status != Status.ARCHIVED.value)
        .order_by(ContentItem.kind, ContentItem.key)
        .options(selectinload(ContentItem.translations))))
    grouped: dict[str, list[dict[str, Any]]] = {kind: [] for kind in FILES}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in items:
            raw = _to_raw(item)
            if item.image_key and store is not None:
                path = store.path(item.image_key, "full")
                if path.exists():
                    name = f"images/{item.key.lower()}.jpg"
                    archive.write(path, name)
                    raw["hero" if item.kind == "article" else "image"] = name
            grouped[item.kind].append(raw)
        for kind, rows in grouped.items():
            archive.writestr(f"{FILES[kind]}.json", json.dumps(rows, ensure_ascii=False,
                                                               indent=2))
    return buffer.getvalue()


def _to_raw(item: ContentItem) -> dict[str, Any]:
    title, summary, body = _TEXT_FIELDS[item.kind]
    raw: dict[str, Any] = {"sku" if item.kind == "product" else "slug": item.key}
    if item.window_unit:
        raw["window"] = {"unit": item.window_unit, "from": item.window_from,
                         "to": item.window_to}
    for name in ("topics", "interests", "tags"):
        if getattr(item, name):
            raw[name] = list(getattr(item, name))
    for name in ("category", "source", "reviewed_by", "price_minor", "currency", "buy_url"):
        if getattr(item, name) not in (None, ""):
            raw[name] = getattr(item, name)
    if item.review_date:
        raw["review_date"] = item.review_date.isoformat()
    if item.kind == "product":
        raw["active"] = item.active
    if item.kind == "faq":
        raw["position"] = item.position
    raw["translations"] = {}
    for t in item.translations:
        text = {title: t.title}
        if summary:
            text[summary] = t.summary
        if body:
            text[body] = t.body_md
        raw["translations"][t.locale] = text
    return raw
