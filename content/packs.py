"""Content packs: a folder or zip of JSON files (see content/PACK_FORMAT.md) plus images.

Import validates everything before writing anything, runs in the caller's one transaction,
and is idempotent: items are matched by slug/SKU, unchanged ones are left alone, changed ones
get a new version. Export writes the same format, so a pack round-trips.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from content import authoring, sizes, workflow
from content.authoring import ItemInput, TextInput
from content.errors import N_, ValidationError
from content.models import ContentItem, Status
from diary.errors import DiaryError
from diary.models import User
from diary.photos import MAX_BYTES as MAX_PHOTO_BYTES
from diary.photos import PhotoStore, check_upload, process_upload

DEFAULT_PACK = Path(__file__).with_name("packs") / "default"
FILES = {"article": "articles", "reminder": "reminders", "product": "products", "faq": "faqs",
         "message": "messages"}
_TEXT_FIELDS = {"article": ("title", "summary", "body"), "reminder": ("title", "", "body"),
                "product": ("name", "description", ""), "faq": ("question", "", "answer"),
                "message": ("title", "", "body")}


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{len(self.created)} created, {len(self.updated)} updated, "
                f"{len(self.unchanged)} unchanged")


#: Limits on a pack, checked from the zip's directory (or the folder's listing) before
#: anything is unpacked or read. A zip bomb claims a huge size or ratio and is refused by
#: those; one that lies about its sizes is cut off at the limit as it is read.
MAX_PACK_BYTES = 50 * 1024 * 1024  # the zip itself (the default pack's JSON zips to ~150 KB)
MAX_MEMBERS = 1000  # files and folders in the zip
MAX_MEMBER_BYTES = MAX_PHOTO_BYTES  # one file unpacked: an image, or one JSON file
MAX_JSON_BYTES = 16 * 1024 * 1024  # all JSON files together, parsed in memory (default: 0.5 MB)
MAX_TOTAL_BYTES = 200 * 1024 * 1024  # every file unpacked
MAX_RATIO = 100  # unpacked ÷ packed for one file; text zips ~5:1, zeros ~1000:1
RATIO_FROM = 64 * 1024  # smaller files may have any ratio: they cannot cost much
_S_IFMT, _S_IFLNK = 0o170000, 0o120000
_END_RECORD = 22  # bytes of a zip's end-of-central-directory record without its comment
_DIRECTORY_ENTRY = 1024  # bytes a directory entry may take on average (46 + name + extras)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a pack as a domain error (its N_ message is translated where it
    is shown), about the file `name` when that is given."""

    error: DiaryError
    name: str = ""

    def __str__(self) -> str:
        return f"{self.name}: {self.error}" if self.name else str(self.error)


class PackError(ValidationError):
    """The pack cannot be imported; `problems` lists every item that is wrong.

    A problem is a plain string (naming an item and what is wrong with it, as the item
    validation says) or a `Problem`."""

    def __init__(self, problems: list[str | Problem]) -> None:
        super().__init__(N_("The pack has %(count)d problems."), count=len(problems))
        self.problems = problems


def _problem(message: str, **params: Any) -> Problem:
    return Problem(ValidationError(message, None, **params))


def _mb(size: int) -> int:
    """Whole megabytes, rounded up (a limit of exactly 10 MB shows as 10)."""
    return -(-size // (1024 * 1024))


class PackFiles:
    """The files of a pack (zip or folder), checked against the limits as a whole when
    opened; each file is read only when asked for, and cut off at MAX_MEMBER_BYTES."""

    def __init__(self, source: Path | bytes | BinaryIO) -> None:
        self._archive: zipfile.ZipFile | None = None
        self._folder: Path | None = None
        self._sizes: dict[str, int] = {}
        self._own: BinaryIO | None = None  # a zip file this object opened (and closes)
        if isinstance(source, Path) and source.is_dir():
            self._open_folder(source)
        elif isinstance(source, Path) and not source.exists():
            raise PackError([f"No pack at {source}."])
        else:
            self._open_zip(source)

    def _open_zip(self, source: Path | bytes | BinaryIO) -> None:
        stream: BinaryIO = (io.BytesIO(source) if isinstance(source, bytes)
                            else source.open("rb") if isinstance(source, Path) else source)
        if isinstance(source, Path):
            self._own = stream
        size = stream.seek(0, io.SEEK_END)
        stream.seek(0)
        if size > MAX_PACK_BYTES:
            self.close()
            raise PackError([_problem(N_("The pack is %(size)d MB; at most %(limit)d MB, "
                                         "please."), size=_mb(size),
                                      limit=_mb(MAX_PACK_BYTES))])
        problems = _check_end_record(stream, size)
        if problems:
            self.close()
            raise PackError(problems)
        try:
            archive = zipfile.ZipFile(stream)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
            self.close()
            raise PackError(["The file is not a zip archive."]) from None
        self._archive = archive
        members = archive.infolist()
        problems = _check_members(members)
        if problems:
            self.close()
            raise PackError(problems)
        self._sizes = {m.filename: m.file_size for m in members if not m.is_dir()}

    def _open_folder(self, folder: Path) -> None:
        problems: list[str | Problem] = []
        for root, dirs, files in os.walk(folder, followlinks=False):
            for name in sorted(dirs + files):
                path = Path(root) / name
                relative = path.relative_to(folder).as_posix()
                if path.is_symlink():
                    problems.append(_problem(N_("%(name)s is a symbolic link; a pack holds only "
                                                "plain files."), name=relative))
                elif name in files:
                    self._sizes[relative] = path.stat().st_size
            if len(self._sizes) > MAX_MEMBERS:
                break
        problems += _check_sizes(self._sizes)
        if problems:
            raise PackError(problems)
        self._folder = folder

    def names(self) -> list[str]:
        return sorted(self._sizes)

    def __contains__(self, name: object) -> bool:
        return name in self._sizes

    def read(self, name: str) -> bytes:
        """One file's bytes, at most MAX_MEMBER_BYTES whatever the zip claims."""
        try:
            if self._folder is not None:
                with (self._folder / name).open("rb") as handle:
                    data = handle.read(MAX_MEMBER_BYTES + 1)
            else:
                assert self._archive is not None
                with self._archive.open(name) as handle:
                    data = handle.read(MAX_MEMBER_BYTES + 1)
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError,
                ValueError, zlib.error):
            raise PackError([_problem(N_("%(name)s is damaged and cannot be read."),
                                      name=name)]) from None
        if len(data) > MAX_MEMBER_BYTES or len(data) > self._sizes[name]:
            raise PackError([_problem(N_("%(name)s is larger than the pack says."),
                                      name=name)])
        return data

    def close(self) -> None:
        if self._archive is not None:
            self._archive.close()
        if self._own is not None:
            self._own.close()


def _check_end_record(stream: BinaryIO, size: int) -> list[str | Problem]:
    """The zip's end record, read before zipfile parses the directory it points to: a 50 MB
    zip could otherwise hold a million tiny entries, a ZipInfo each, before we counted."""
    tail_size = min(size, _END_RECORD + 0xFFFF)  # the record, then a comment of up to 64 KB
    stream.seek(size - tail_size)
    tail = stream.read(tail_size)
    stream.seek(0)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _END_RECORD:
        return ["The file is not a zip archive."]
    if at >= 20 and tail[at - 20:at - 16] == b"PK\x06\x07":
        return [_problem(N_("The pack is a ZIP64 archive, which a pack never needs; please "
                            "make it as a plain zip."))]
    entries = int.from_bytes(tail[at + 10:at + 12], "little")
    directory = int.from_bytes(tail[at + 12:at + 16], "little")
    if entries > MAX_MEMBERS or directory > MAX_MEMBERS * _DIRECTORY_ENTRY:
        return [_problem(N_("The pack holds %(count)d files; at most %(limit)d, please."),
                         count=max(entries, directory // _DIRECTORY_ENTRY),
                         limit=MAX_MEMBERS)]
    return []


def _check_members(members: list[zipfile.ZipInfo]) -> list[str | Problem]:
    """Everything wrong with a zip's directory: count, names, links, sizes, ratios."""
    if len(members) > MAX_MEMBERS:
        return [_problem(N_("The pack holds %(count)d files; at most %(limit)d, please."),
                         count=len(members), limit=MAX_MEMBERS)]
    problems: list[str | Problem] = []
    seen: set[str] = set()
    for member in members:
        name = member.filename
        if not _safe_name(name):
            problems.append(_problem(N_("%(name)s: file names in a pack must be plain paths "
                                        "inside it (no “..”, no leading “/”, no drive "
                                        "letter, no backslash)."), name=name))
        elif member.create_system == 3 and (member.external_attr >> 16) & _S_IFMT == _S_IFLNK:
            problems.append(_problem(N_("%(name)s is a symbolic link; a pack holds only "
                                        "plain files."), name=name))
        elif name in seen:
            problems.append(_problem(N_("%(name)s is in the pack twice."), name=name))
        elif (member.file_size > RATIO_FROM
              and member.file_size > MAX_RATIO * max(member.compress_size, 1)):
            problems.append(_problem(N_("%(name)s unpacks to %(ratio)d times its packed size "
                                        "(at most %(limit)d): this looks like a zip bomb."),
                                     name=name, ratio=member.file_size
                                     // max(member.compress_size, 1), limit=MAX_RATIO))
        seen.add(name)
    return problems + _check_sizes({m.filename: m.file_size for m in members
                                    if not m.is_dir()})


def _check_sizes(sizes: dict[str, int]) -> list[str | Problem]:
    if len(sizes) > MAX_MEMBERS:
        return [_problem(N_("The pack holds %(count)d files; at most %(limit)d, please."),
                         count=len(sizes), limit=MAX_MEMBERS)]
    problems: list[str | Problem] = [
        _problem(N_("%(name)s is %(size)d MB unpacked; at most %(limit)d MB for one file."),
                 name=name, size=_mb(size), limit=_mb(MAX_MEMBER_BYTES))
        for name, size in sorted(sizes.items()) if size > MAX_MEMBER_BYTES]
    total = sum(sizes.values())
    if total > MAX_TOTAL_BYTES:
        problems.append(_problem(N_("The pack unpacks to %(size)d MB; at most %(limit)d MB, "
                                    "please."), size=_mb(total), limit=_mb(MAX_TOTAL_BYTES)))
    json_total = sum(size for name, size in sizes.items() if _is_json(name))
    if json_total > MAX_JSON_BYTES:
        problems.append(_problem(N_("The pack's JSON files come to %(size)d MB; at most "
                                    "%(limit)d MB, please."), size=_mb(json_total),
                                 limit=_mb(MAX_JSON_BYTES)))
    return problems


def _safe_name(name: str) -> bool:
    """A relative name inside the pack: no "..", no absolute path, drive or backslash."""
    if not name or name.startswith("/") or "\\" in name or "\0" in name:
        return False
    if len(name) > 1 and name[1] == ":":
        return False
    return ".." not in name.split("/")


def _is_json(name: str) -> bool:
    return name.endswith(".json") and any(name.startswith(p) for p in FILES.values())


def _product_fields(kind: str, raw: dict[str, Any]) -> tuple[bool, sizes.Size | None]:
    """`consumable` and `size`, of the JSON types they must have (nothing is guessed: "yes"
    is not true); only products may have them."""
    if kind != "product":
        if "consumable" in raw or "size" in raw:
            raise ValidationError(N_("Only products have a size or are bought again."),
                                  "size")
        return False, None
    consumable = raw.get("consumable", False)
    if not isinstance(consumable, bool):
        raise ValidationError(N_("“consumable” must be true or false."), "consumable")
    return consumable, sizes.from_raw(raw.get("size"))


def _to_input(kind: str, raw: dict[str, Any]) -> ItemInput:
    title, summary, body = _TEXT_FIELDS[kind]
    consumable, size = _product_fields(kind, raw)
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
        position=int(raw.get("position") or 0), consumable=consumable, size=size)


def parse(source: Path | bytes | BinaryIO) -> tuple[list[tuple[ItemInput, str | None]],
                                                  PackFiles]:
    """All items of a pack (with their image file names) — or PackError listing every problem.

    The pack's limits are checked first; its JSON files are then read, its images are not
    (import_pack reads them one at a time)."""
    files = PackFiles(source)
    items: list[tuple[ItemInput, str | None]] = []
    problems: list[str | Problem] = []
    seen: set[tuple[str, str]] = set()
    for kind, prefix in FILES.items():
        for name in [n for n in files.names() if n.startswith(prefix) and n.endswith(".json")]:
            try:
                rows = json.loads(files.read(name))
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
        files.close()
        raise PackError(problems)
    return items, files


def import_pack(session: Session, source: Path | bytes | BinaryIO, author: User | None,
                store: PhotoStore, publish: bool = True, *, review_required: bool = True,
                override_reason: str | None = None,
                reason: str = "Content pack imported from the command line") -> ImportReport:
    """Import a pack in the caller's one transaction: nothing is written to the database
    unless every item and every image is good. Who publishes what it brings in follows the
    review rules:

    * `author` None (the command line, demo data): the operator's pack is published as the
      system, recorded with `reason` on each item's history.
    * A person (the studio): they saved the imported versions, so with review required they
      cannot approve them. Without `publish`, new and changed items are sent for review for a
      second reviewer; with `publish`, only an admin may, with `override_reason` (recorded
      per item). With review off, editors publish alone (recorded).
    * Without `publish`, changes to live items wait for review like any save (review
      required): an import never changes what families see unapproved.

    Images are checked (size, format, dimensions from the header) before any is decoded,
    then stored one at a time under their hash; if a later one turns out to be damaged, the
    ones already stored are left for `flask content prune-images`, as nothing names them.
    """
    if publish and author is not None:
        workflow.check_publish_own(author, review_required, override_reason)
    items, files = parse(source)
    try:
        images = _store_images(files, sorted({image for _, image in items if image}), store)
    finally:
        files.close()
    report = ImportReport()
    for data, image in items:
        if image:
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


def _store_images(files: PackFiles, names: list[str], store: PhotoStore) -> dict[str, str]:
    """Every image's storage key; all are checked before the first is decoded."""
    problems: list[str | Problem] = []
    for name in names:
        try:
            check_upload(io.BytesIO(files.read(name)))
        except PackError as error:
            problems += error.problems
        except DiaryError as error:
            problems.append(Problem(error, name))
    if problems:
        raise PackError(problems)
    keys: dict[str, str] = {}
    for name in names:
        data = files.read(name)
        # The key is the file's hash, so importing the same image again reuses it.
        key = hashlib.sha256(data).hexdigest()[:32]
        if not store.path(key).exists():
            try:
                store.save(process_upload(data), key=key)
            except DiaryError as error:
                raise PackError([Problem(error, name)]) from None
        keys[name] = key
    return keys


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
        raw["consumable"] = item.consumable
        if item.size:
            raw["size"] = dict(item.size)
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
