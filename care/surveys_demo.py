"""Demo surveys and help votes, for `flask demo load`.

Runs after the simulated families exist: the main demo parent (Emma, whose newborn is two
weeks old) finds the "two weeks after the birth" CSAT survey open in her inbox, and the
simulated families have answered six months of surveys (after questions, births, the first
month of digests, and the quarter's NPS) — with comments, low scores and their follow-ups,
some done by the demo service agent — so the results and follow-up pages look real. They
have also voted on the help centre's FAQs. Deterministic (a fixed seed) and safe to run
again: offers already made are kept and not answered twice.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from care import help as faq_help
from care import surveys
from content import library
from diary import accounts, families
from diary.models import User
from recommender.simulate import SIM_DOMAIN

MAIN_PARENT = "demo.newborn@example.com"
SERVICE_AGENT = "service@example.com"
SEED = 14
MONTHS = 6
COMMENTS = {
    "high": ["Quick, friendly answer — thank you!", "回复很及时，谢谢！",
             "The weekly emails are spot on for our stage.", "内容很实用，尤其是喂养那部分。",
             "Love the baby book, we use it every day."],
    "middle": ["Helpful, but it took a day to hear back.", "还可以，希望有更多关于睡眠的内容。",
               "Fine. Some emails felt a bit generic."],
    "low": ["Nobody answered my question about the nappy size.", "邮件太多了。",
            "The app logged me out twice while feeding at night.",
            "I could not find how to add my partner."],
}


@dataclass
class DemoSurveys:
    inbox_offer: bool = False
    offered: int = 0
    answered: int = 0
    follow_ups: int = 0
    votes: int = 0

    def summary(self) -> str:
        inbox = f"an open survey in {MAIN_PARENT}'s inbox, " if self.inbox_offer else ""
        return (f"Surveys: {inbox}{self.offered} simulated offers ({self.answered} answered, "
                f"{self.follow_ups} follow-ups), {self.votes} help votes.")


def load(session: Session, now: datetime) -> DemoSurveys:
    made = DemoSurveys()
    made.inbox_offer = _main_parent(session, now)
    rng = random.Random(SEED)
    people = list(session.scalars(select(User).where(
        User.email.like(f"%@{SIM_DOMAIN}"), User.staff_role.is_(None),
        User.is_active.is_(True)).order_by(User.id).limit(150)))
    agent = accounts.find_user_by_email(session, SERVICE_AGENT)
    start = now - timedelta(days=30 * MONTHS)
    for number, person in enumerate(people):
        # each person's plan from their own seed: a second run plans the same offers
        for kind, trigger, ref, when in _plan(random.Random(SEED * 1000 + number), number,
                                              start, now):
            offer = surveys.offer_nps(session, person, ref, now=when, channels=("inbox",)) \
                if kind == surveys.NPS else \
                surveys.offer_csat(session, person, trigger, ref, now=when, channels=("inbox",))
            if offer is None:
                continue
            made.offered += 1
            if rng.random() > (0.72 if kind == surveys.CSAT else 0.55):
                continue  # not everybody answers
            score = _score(rng, kind)
            band = "low" if surveys.is_low(kind, score) else \
                "high" if score >= (4 if kind == surveys.CSAT else 9) else "middle"
            comment = rng.choice(COMMENTS[band]) if rng.random() < 0.35 else ""
            answered_at = when + timedelta(hours=rng.randint(1, 60))
            if answered_at > now:
                continue
            surveys.answer(session, offer, score, rng.choice(("site", "email")), comment,
                           answered_at)
            made.answered += 1
            if offer.follow_up is not None:
                made.follow_ups += 1
                if agent is not None and answered_at < now - timedelta(days=14):
                    surveys.update_follow_up(
                        session, offer.follow_up.id, agent, "done", agent.id,
                        "Called the parent; sorted out and thanked them.",
                        answered_at + timedelta(days=1))
    made.votes = _votes(session, people, now)
    session.flush()
    return made


def _main_parent(session: Session, now: datetime) -> bool:
    """Emma's newborn arrived two weeks ago: her survey about it waits in the inbox."""
    user = accounts.find_user_by_email(session, MAIN_PARENT)
    if user is None:
        return False
    children = families.children_of(session, user)
    ref = f"child:{children[0].id}" if children else "demo"
    offer = surveys.offer_csat(session, user, "birth", ref, now=now)
    return offer is not None or any(
        o.subject_ref == ref for o in surveys.open_offers(session, user, now))


def _plan(rng: random.Random, number: int, start: datetime, now: datetime
          ) -> list[tuple[str, str, str, datetime]]:
    """A person's offers over the months, in time order, at least a week apart."""
    span = (now - start).days
    plan: list[tuple[str, str, str, datetime]] = []
    day = rng.randint(0, 40)
    choices = [("csat", "ticket"), ("csat", "ticket"), ("csat", "digests"), ("csat", "birth"),
               ("nps", "quarterly")]
    while day < span - 1:
        kind, trigger = rng.choice(choices)
        when = start + timedelta(days=day, hours=rng.randint(8, 20))
        ref = {"ticket": f"ticket:demo-{number}-{day}", "digests": "first-month",
               "birth": f"child:demo-{number}", "quarterly": surveys.quarter_of(when)}[trigger]
        plan.append((kind, trigger, ref, when))
        day += rng.randint(20, 70)
    return plan


def _score(rng: random.Random, kind: str) -> int:
    if kind == surveys.CSAT:
        return rng.choices((1, 2, 3, 4, 5), weights=(5, 7, 15, 35, 38))[0]
    return rng.choices(range(11), weights=(2, 1, 1, 2, 2, 3, 5, 10, 18, 26, 30))[0]


def _votes(session: Session, people: list[User], now: datetime) -> int:
    """Simulated parents' "was this helpful?" answers: most FAQs help, a few do not (each
    FAQ's voters from its own seed: a second run casts the same votes again)."""
    count = 0
    for item in library.faqs(session, now):
        rng = random.Random(f"{SEED}-{item.key}")
        helpful_share = 0.35 if item.key in ("stop-emails", "invitation-email-missing",
                                             "change-due-date") else 0.85
        for person in rng.sample(people, min(len(people), rng.randint(0, 12))):
            faq_help.vote(session, item.id, rng.random() < helpful_share, person, now=now)
            count += 1
    return count
