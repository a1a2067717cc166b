"""Full-text search over timeline entries, in English and Chinese, on SQLite and PostgreSQL.

Chinese has no spaces and most words are two characters, which trigram indexes cannot
match, so text is segmented into words with jieba before indexing and before querying.
SQLite keeps an FTS5 table (`entry_fts`, rowid = entry id) in step from this module;
PostgreSQL uses a GIN index on `to_tsvector('simple', search_text)`.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

import jieba
from sqlalchemy import ColumnElement, Select, func, literal_column, select, text
from sqlalchemy.orm import Session

from diary.models import Entry

jieba.setLogLevel(logging.WARNING)
_WORD = re.compile(r"\w+", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u9fff]")


def segment(*parts: str | None) -> str:
    """Lower-case words separated by spaces; Chinese runs split by jieba's search mode."""
    words: list[str] = []
    for part in parts:
        if not part:
            continue
        for token in _WORD.findall(part.lower()):
            if _CJK.search(token):
                words.extend(w for w in jieba.cut_for_search(token) if _WORD.fullmatch(w))
            else:
                words.append(token)
    return " ".join(words)


def entry_search_text(entry: Entry) -> str:
    values: list[Any] = [entry.title, entry.body]
    values.extend(v for k, v in (entry.data or {}).items()
                  if isinstance(v, str) and not k.endswith("_id"))  # ids are not words
    return segment(*values)


def reindex(session: Session, entry: Entry) -> None:
    """Recompute an entry's search words (and the SQLite FTS row) after it changed."""
    entry.search_text = entry_search_text(entry)
    session.flush()
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("DELETE FROM entry_fts WHERE rowid = :id"), {"id": entry.id})
        session.execute(text("INSERT INTO entry_fts(rowid, terms) VALUES (:id, :terms)"),
                        {"id": entry.id, "terms": entry.search_text})


def unindex(session: Session, entry_ids: Iterable[int]) -> None:
    if session.get_bind().dialect.name == "sqlite":
        for entry_id in entry_ids:
            session.execute(text("DELETE FROM entry_fts WHERE rowid = :id"), {"id": entry_id})


def matches(session: Session, query: str) -> ColumnElement[bool] | None:
    """A WHERE clause matching entries that contain every word of `query` (as prefixes)."""
    words = segment(query).split()
    if not words:
        return None
    if session.get_bind().dialect.name == "sqlite":
        fts_query = " ".join('"' + w.replace('"', "") + '"*' for w in words)
        ids: Select[Any] = select(literal_column("rowid")).select_from(text("entry_fts")).where(
            text("entry_fts MATCH :fts").bindparams(fts=fts_query))
        return Entry.id.in_(ids)
    ts_query = " & ".join(f"{w}:*" for w in words)  # words are \w+ only: safe to join
    return func.to_tsvector(literal_column("'simple'"), Entry.search_text).op("@@")(
        func.to_tsquery(literal_column("'simple'"), ts_query))
