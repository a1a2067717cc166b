"""Full-text search over content in both languages (same approach as the diary's search).

Words are segmented with jieba (diary.search.segment); SQLite keeps an FTS5 table
`content_fts` (rowid = translation id), PostgreSQL a GIN index on the translation's words.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal_column, select, text
from sqlalchemy.orm import Session

from content.models import ContentItem, Translation
from diary.search import segment


def words(*parts: str | None) -> str:
    return segment(*parts)


def _sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def reindex(session: Session, item: ContentItem) -> None:
    if not _sqlite(session):
        return
    for row in item.translations:
        session.execute(text("DELETE FROM content_fts WHERE rowid = :id"), {"id": row.id})
        session.execute(text("INSERT INTO content_fts(rowid, terms) VALUES (:id, :terms)"),
                        {"id": row.id, "terms": row.search_text})


def unindex(session: Session, translation_ids: list[int]) -> None:
    if _sqlite(session):
        for row_id in translation_ids:
            session.execute(text("DELETE FROM content_fts WHERE rowid = :id"), {"id": row_id})


def matching_items(session: Session, query: str) -> ColumnElement[bool] | None:
    """A WHERE clause on ContentItem: items with a translation containing every word."""
    terms = segment(query).split()
    if not terms:
        return None
    if _sqlite(session):
        fts = " ".join('"' + t.replace('"', "") + '"*' for t in terms)
        rows: Select[Any] = select(literal_column("rowid")).select_from(text("content_fts")).where(
            text("content_fts MATCH :fts").bindparams(fts=fts))
        ids = select(Translation.item_id).where(Translation.id.in_(rows))
    else:
        ts_query = " & ".join(f"{t}:*" for t in terms)
        ids = select(Translation.item_id).where(
            func.to_tsvector(literal_column("'simple'"), Translation.search_text).op("@@")(
                func.to_tsquery(literal_column("'simple'"), ts_query)))
    return ContentItem.id.in_(ids)
