"""The person's say over suggestions, and what the recommender adds to their data.

- "Personalise my suggestions" (`set_personalised`, stored as `User.personalise_suggestions`,
  on by default): off, the model ranks by the stage's popularity only, never by what this
  person viewed, saved, dismissed or bought. Their interactions still count, with
  everyone's, in what is popular at a stage.
- The data export (see `diary.privacy`) has every interaction of the person, and the shop's
  order lines that are kept unmatched under their email or member number.
- Deleting the account deletes the person's interactions (the foreign key cascades, on
  every partition) and, through `forget`, those kept order lines.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from content.models import ContentItem
from diary.models import User
from diary.privacy import ExportRegistry, ExportScope, Section, row_dict
from recommender.models import Interaction, UnmatchedOrderLine

INTERACTION_FIELDS = ("occurred_at", "kind", "child_id", "stage", "surface", "position",
                      "model_version", "quantity", "amount_minor", "currency")
ORDER_LINE_FIELDS = ("order_line_id", "ordered_at", "email", "member_no", "sku", "quantity",
                     "amount_minor", "currency", "received_at")


def set_personalised(user: User, on: bool) -> bool:
    """Turn personalised suggestions on or off; True if that changed anything."""
    changed = user.personalise_suggestions != on
    user.personalise_suggestions = on
    return changed


def _interactions(session: Session, scope: ExportScope) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Interaction, ContentItem.kind, ContentItem.key)
        .join(ContentItem, ContentItem.id == Interaction.item_id)
        .where(Interaction.user_id == scope.user.id)
        .order_by(Interaction.occurred_at, Interaction.id))
    out = []
    for interaction, kind, key in rows:
        data = row_dict(interaction, INTERACTION_FIELDS)
        data["item"] = f"{kind}:{key}"
        out.append(data)
    return out


def _theirs(user: User) -> Any:
    return or_(UnmatchedOrderLine.email == user.email.strip().lower(),
               UnmatchedOrderLine.member_no == user.member_no.upper())


def _unmatched_order_lines(session: Session, scope: ExportScope) -> list[dict[str, Any]]:
    rows = session.scalars(select(UnmatchedOrderLine).where(_theirs(scope.user))
                           .order_by(UnmatchedOrderLine.id))
    return [row_dict(r, ORDER_LINE_FIELDS) for r in rows]


def forget(session: Session, user: User) -> None:
    """What goes with the account beyond its foreign keys: the kept order lines naming it.
    (Interactions go by their foreign key; deleted here too, so no caller depends on it.)"""
    session.execute(delete(Interaction).where(Interaction.user_id == user.id))
    session.execute(delete(UnmatchedOrderLine).where(_theirs(user)))


def register(registry: ExportRegistry) -> None:
    registry.add(Section("interactions", ("interactions",), _interactions),
                 Section("shop_order_lines_unmatched", ("unmatched_order_lines",),
                         _unmatched_order_lines))
    registry.not_exported("impression_batches", "suggestion cards reported by a browser, "
                          "waiting a few seconds to become interactions (exported as those)")
