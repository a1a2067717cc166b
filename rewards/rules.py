"""Every way to earn points, in one registry: `RULES` at the end.

A rule names how many points it gives and how many times a day (in the family's time zone)
it may pay. To add one: a `Rule(...)` below, its words in the catalogues, and a call of
`rewards.points.award(session, user, "<name>", ref, now=...)` where the thing happens.
"""
from __future__ import annotations

from dataclasses import dataclass

from diary.errors import N_


@dataclass(frozen=True)
class Rule:
    name: str
    label: str          # marked N_: the history shows it translated
    points: int
    daily_cap: int      # awards of this rule per person per local day
    #: An award for something written in a family (an entry): only a caregiver who can
    #: write there earns it, and deleting the thing takes the points back.
    in_family: bool = False


#: Diary streaks: entries written on this many consecutive local days.
STREAK_LENGTHS = (3, 7)

RULES: dict[str, Rule] = {rule.name: rule for rule in (
    Rule("diary_entry", N_("Diary entry"), 2, 3, in_family=True),
    Rule("milestone", N_("Milestone recorded"), 10, 3, in_family=True),
    Rule("measurement", N_("Growth measurement recorded"), 5, 2, in_family=True),
    Rule("streak_3", N_("Diary streak: 3 days in a row"), 15, 1, in_family=True),
    Rule("streak_7", N_("Diary streak: 7 days in a row"), 40, 1, in_family=True),
    Rule("survey", N_("Survey answered"), 20, 2),
    Rule("club_post", N_("Club post published"), 5, 3),
    # A product review's first publish (webapp.rewards_glue.review_published).
    Rule("review", N_("Product review"), 15, 2),
)}

#: The ledger's own rows, not earned by a rule: a redemption's debit and its refund.
REDEEM = "redeem"
REFUND = "refund"
LEDGER_LABELS: dict[str, str] = {REDEEM: N_("Redeemed"), REFUND: N_("Refund (cancelled)")}

#: The rule an entry of each diary kind earns (others: "diary_entry").
ENTRY_RULES = {"milestone": "milestone", "measurement": "measurement"}


def label(rule: str) -> str:
    """The words for a ledger row's rule (an N_ term; the web layer translates it)."""
    if rule in RULES:
        return RULES[rule].label
    return LEDGER_LABELS.get(rule, rule)
