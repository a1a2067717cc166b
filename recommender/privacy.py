"""What the recommender adds to a person's data export: their interaction log."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.models import ContentItem
from diary.privacy import ExportRegistry, ExportScope, Section, row_dict
from recommender.models import Interaction


def _interactions(session: Session, scope: ExportScope) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Interaction, ContentItem.kind, ContentItem.key)
        .join(ContentItem, ContentItem.id == Interaction.item_id)
        .where(Interaction.user_id == scope.user.id)
        .order_by(Interaction.occurred_at, Interaction.id))
    out = []
    for interaction, kind, key in rows:
        data = row_dict(interaction, (
            "occurred_at", "kind", "child_id", "stage", "surface", "position",
            "model_version", "quantity", "amount_minor", "currency"))
        data["item"] = f"{kind}:{key}"
        out.append(data)
    return out


def register(registry: ExportRegistry) -> None:
    registry.add(Section("interactions", ("interactions",), _interactions))
