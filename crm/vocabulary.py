"""The CRM's words, in one place: value tiers and their strategies, value groups, due kinds
and follow-up statuses. Codes are stored; names are English message ids marked `N_`,
translated in the reader's language where they are shown (`label(table, code, locale)`
without Flask, or the web layer's gettext)."""
from __future__ import annotations

from diary.errors import N_
from diary.locales import words

TIER_LABELS: dict[str, str] = {
    "high": N_("High value"),
    "medium": N_("Medium value"),
    "low": N_("Low value"),
}
#: What to do with each tier.
TIER_STRATEGIES: dict[str, str] = {
    "high": N_("Keep and reward: thank them, offer loyalty rewards and early access, and "
               "never let them drift."),
    "medium": N_("Develop: suggest the next stage's products and bundles to grow how often "
                 "and how much they buy."),
    "low": N_("Serve at low cost: self-service, the inbox and the digest rather than calls "
              "or paid offers."),
}
GROUP_LABELS: dict[str, str] = {
    "most_valuable": N_("Most valuable"),
    "most_growable": N_("Most growable"),
    "below_zero": N_("Below zero"),
    "other": N_("Others"),
}
GROUP_RULES: dict[str, str] = {
    "most_valuable": N_("The top fifth by value so far (margin less the cost to serve)."),
    "most_growable": N_("The top fifth by potential (margin still to come from their CLV), "
                        "not already most valuable."),
    "below_zero": N_("They cost more to serve than they bring, now and to come."),
    "other": N_("Everyone else."),
}
DUE_KIND_LABELS: dict[str, str] = {
    "stage": N_("New stage"),
    "nappy": N_("Next nappy size"),
}
FOLLOW_UP_LABELS: dict[str, str] = {
    "open": N_("To follow up"),
    "contacted": N_("Contacted"),
    "converted": N_("Converted"),
    "declined": N_("Declined"),
}
FOLLOW_UP_STATUSES: tuple[str, ...] = tuple(FOLLOW_UP_LABELS)
DUE_KINDS: tuple[str, ...] = tuple(DUE_KIND_LABELS)


def label(table: dict[str, str], code: str, locale: str) -> str:
    """The code's name in `locale` from one of the tables above (an unknown code as it is)."""
    text = table.get(code)
    return words(locale).gettext(text) if text else code

#: The life-moment campaigns (`journeys.campaigns.CAMPAIGNS`), as the analysis pages name them.
CAMPAIGN_LABELS: dict[str, str] = {
    "baby_birthday": N_("Baby's birthday"),
    "parent_birthday": N_("Parent's birthday"),
    "we_miss_you": N_("We miss you"),
}
