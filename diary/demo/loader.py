"""Building the demo families through the diary's own services.

Registration, invitations, `create_entry` and `process_upload` do the writing, so demo data
passes the same validation as real data. Each family gets its own seeded random, so the data
is the same for the same `today`; moments still ahead of the clock are skipped.
"""
from __future__ import annotations

import calendar
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from clock import utcnow
from diary import accounts, families, invitations, milestones, registration, timers, vaccinations
from diary import age as agemath
from diary.demo import pictures
from diary.demo.stories import (
    EXPECTING_FEELINGS,
    EXPECTING_NOTES,
    NEWBORN_FEELINGS,
    NEWBORN_NOTES,
    PRETERM_CHECKUPS,
    PRETERM_ILLNESS,
    PRETERM_MILESTONES,
    PRETERM_NICU_GROWTH,
    PRETERM_NOTED,
    PRETERM_NOTES,
    PRETERM_PHOTOS,
    TWIN_ILLNESS,
    TWIN_MILESTONES,
    TWIN_NOTED,
    TWIN_NOTES,
    TWIN_PHOTOS,
    WHO_MEDIANS,
)
from diary.entries import create_entry
from diary.entry_kinds import EntryInput, MeasurementInput
from diary.models import Child, Family, User
from diary.photos import PhotoStore, process_upload
from diary.policy import PRIVACY_POLICY_VERSION

DEMO_PASSWORD = "demo-password"
SHANGHAI, LONDON = "Asia/Shanghai", "Europe/London"
PARENTS = {  # email: what the login shows
    "demo.expecting@example.com": "李静: expecting, pregnancy week 20 (中文, Shanghai)",
    "demo.newborn@example.com": "Emma Wilson: newborn girl, 14 days old (English, London)",
    "demo.preterm@example.com": "王芳: boy born at 32+0, 8 months old (中文, Shanghai)",
    "demo.preterm.dad@example.com": "刘伟: father of 王芳's boy, co-caregiver (editor, 中文)",
    "demo.twins@example.com": "Sarah Chen: twins, girl and boy, 2 years old (English, Shanghai)",
}
#: Phone numbers staff can find the demo parents by (written the way people give them).
PHONES = {"demo.expecting@example.com": "+86 138 0013 8000",
          "demo.newborn@example.com": "+44 7700 900123",
          "demo.preterm@example.com": "139-0021-0042",
          "demo.twins@example.com": "+86 186 2100 5566"}
STAFF = (("marketer@example.com", "marketer", "Mia Market"),
         ("reviewer@example.com", "reviewer", "Rui Reviewer"),
         ("analyst@example.com", "analyst", "Alex Analyst"),
         ("service@example.com", "service", "Sam Service"),
         ("admin@example.com", "admin", "Ada Admin"))


# --- the report ---------------------------------------------------------------------------

@dataclass
class DemoLogin:
    email: str
    description: str
    created: bool


@dataclass
class DemoReport:
    logins: list[DemoLogin] = field(default_factory=list)
    entries: dict[str, int] = field(default_factory=dict)  # per family (owner's email)
    photos: dict[str, int] = field(default_factory=dict)

    @property
    def already_loaded(self) -> bool:
        return not any(login.created for login in self.logins)

    def summary(self) -> str:
        if self.already_loaded:
            head = "Demo data already loaded; nothing new was created."
        else:
            head = (f"Demo data loaded: {sum(self.entries.values())} entries, "
                    f"{sum(self.photos.values())} photos.")
        lines = [head, f"Logins (password for all: {DEMO_PASSWORD}):"]
        for login in self.logins:
            extra = "" if login.created else "  [already there]"
            lines.append(f"  {login.email:<34} {login.description}{extra}")
        return "\n".join(lines)


# --- writing entries ------------------------------------------------------------------------

@dataclass
class _Ctx:
    session: Session
    store: PhotoStore
    now: datetime
    report: DemoReport
    created: set[str] = field(default_factory=set)


class _Book:
    """One family's diary writer: local times in, validated entries out, future skipped."""

    def __init__(self, ctx: _Ctx, key: str, tz: str, anchor: date) -> None:
        self.ctx, self.key, self.tz, self.anchor = ctx, key, ZoneInfo(tz), anchor
        self.rng = random.Random(f"{key}-{anchor}")  # the same data for the same `today`
        ctx.report.entries.setdefault(key, 0)
        ctx.report.photos.setdefault(key, 0)

    def at(self, day: date, hour: float) -> datetime:
        local = datetime.combine(day, time(), self.tz) + timedelta(minutes=round(hour * 60))
        return local.astimezone(UTC)

    def on(self, days: float, hour: float) -> datetime:
        """`hour` o'clock local time, `days` after the anchor date (today or the birth)."""
        return self.at(self.anchor + timedelta(days=round(days)), hour)

    def on_month(self, month: float, hour: float) -> datetime:
        """At an age in months (fractions are 30-day parts) after the anchor (birth) date."""
        whole = int(month)
        day = agemath.add_months(self.anchor, whole) + timedelta(days=round((month - whole) * 30))
        return self.at(day, hour)

    def add(self, child: Child, author: User, kind: str, when: datetime, title: str = "",
            body: str = "", data: dict | None = None, measure: Sequence[Any] | None = None,
            picture: tuple | None = None) -> None:
        if when > self.ctx.now:
            return
        photos = []
        if picture is not None:
            processed = process_upload(pictures.picture(self.rng, *picture))
            photos = [(self.ctx.store.save(processed), processed)]
            self.ctx.report.photos[self.key] += 1
        measurement = MeasurementInput(*measure) if measure else None
        create_entry(self.ctx.session, child, author,
                     EntryInput(kind, when, title, body, data or {}, measurement), photos)
        self.ctx.report.entries[self.key] += 1

    def tick(self, child: Child, author: User, milestone_id: str, when: datetime,
             locale: str) -> None:
        """Tick a checklist milestone, as the parent's ✓ button does, but at `when`."""
        if when > self.ctx.now:
            return
        milestones.tick(self.ctx.session, child, author, milestone_id, when, locale)
        self.ctx.report.entries[self.key] += 1

    def timer(self, child: Child, author: User, kind: str, start: datetime, minutes: int,
              side: str | None = None, keep: bool = True) -> None:
        """A timer started at `start` and stopped (or, `keep=False`, discarded) `minutes`
        later, as the child page's buttons do; the stopped one is an entry."""
        end = start + timedelta(minutes=minutes)
        if end > self.ctx.now:
            return
        timer = timers.start(self.ctx.session, child, author, kind, side, now=start)
        if keep:
            timers.stop(self.ctx.session, child, author, timer.id, now=end)
            self.ctx.report.entries[self.key] += 1
        else:
            timers.discard(self.ctx.session, child, timer.id, now=end)

    def care_logs(self, child: Child, start: datetime, end: datetime, gap: tuple[float, float],
                  feed: Callable[[random.Random, datetime], dict],
                  author_for: Callable[[int], User], diapers: float = 0.8) -> None:
        """Round-the-clock quick logs: a feed, often a nappy, then sleep until the next.

        Every feed is followed by a sleep (as a newborn's day goes): whatever the random draw,
        a day then has at least 24 h less an hour or so per feed asleep, so no demo day shows a
        newborn sleeping five hours."""
        t, rng = start, self.rng
        while t < end:
            local_hour = t.astimezone(self.tz).hour
            night = local_hour >= 22 or local_hour < 6
            step = round(rng.uniform(*gap) * (1.35 if night else 1.0) * 60) / 60  # whole minutes
            who = author_for(local_hour)
            self.add(child, who, "feeding", t, data=feed(rng, t.astimezone(self.tz)))
            if rng.random() < diapers:
                self.add(child, who, "diaper", t + timedelta(minutes=rng.randint(5, 25)),
                         data={"wet": True, "dirty": rng.random() < 0.4})
            self.add(child, who, "sleep", t + timedelta(minutes=rng.randint(25, 40)),
                     data={"duration_min": max(20, int(step * 60) - rng.randint(45, 70))})
            t += timedelta(hours=step)


@dataclass(frozen=True)
class _Parent:
    """A registered parent with the family and first baby registration made."""

    user: User
    family: Family
    child: Child


def _register(ctx: _Ctx, email: str, name: str, locale: str, tz: str, relationship: str,
              child: families.ChildDetails | None, interests: list[str], city: tuple[str, str],
              marketing: bool = True) -> registration.Registered:
    profile = accounts.Profile(display_name=name, timezone=tz, locale=locale, interests=interests,
                               region_province=city[0], region_city=city[1],
                               phone=PHONES.get(email))
    reg = registration.Registration(email, DEMO_PASSWORD, profile, relationship, True, True,
                                    marketing, child)
    ctx.created.add(email)
    done = registration.register(ctx.session, reg, PRIVACY_POLICY_VERSION)
    done.user.email_verified_at = ctx.now  # example.com addresses: nobody can read them
    return done


def _register_parent(ctx: _Ctx, email: str, name: str, locale: str, tz: str,
                     relationship: str, child: families.ChildDetails, interests: list[str],
                     city: tuple[str, str], marketing: bool = True) -> _Parent:
    done = _register(ctx, email, name, locale, tz, relationship, child, interests, city,
                     marketing)
    assert done.family is not None and done.child is not None  # a child was given
    return _Parent(done.user, done.family, done.child)


def _months_before(d: date, months: int) -> date:
    """`d` minus whole calendar months, clamped to month end, so that `age.age_on` of the result
    on `d` is exactly `months` months and 0 days (unless the clamp was needed, e.g. on Oct 30
    eight months back is Feb 28: then it is 8 months and 2 days)."""
    year, month0 = divmod(d.year * 12 + d.month - 1 - months, 12)
    return date(year, month0 + 1, min(d.day, calendar.monthrange(year, month0 + 1)[1]))


def _kid(kids: dict[str, Child], who: str) -> list[Child]:
    return list(kids.values()) if who == "both" else [kids[who]]


# --- the milestone checklist ----------------------------------------------------------------

def _checklist_months(child: Child, day: date) -> int:
    """Whole months of age as the checklist counts them (`milestones._age_months`): corrected
    for a preterm baby until 24 months chronological, and 0 before the due date."""
    assert child.birth_date is not None
    corrected = agemath.corrected_age_on(child.birth_date, child.gestational_weeks_at_birth,
                                         child.gestational_days_at_birth, day)
    if corrected is not None:
        return max(corrected.months, 0)
    return agemath.age_on(child.birth_date, day).months


def _checkpoints_reached(child: Child, today: date) -> dict[int, date]:
    """The checklist checkpoints the child has reached by `today`, each with the day it was."""
    assert child.birth_date is not None
    reached: dict[int, date] = {}
    day = child.birth_date
    while day <= today:
        months = _checklist_months(child, day)
        for checkpoint in milestones.CHECKPOINTS:
            if checkpoint <= months:
                reached.setdefault(checkpoint, day)
        day += timedelta(days=1)
    return reached


def _tick_checklist(book: _Book, child: Child, authors: Sequence[User], today: date,
                    locale: str, told: dict[str, datetime],
                    noted: dict[str, datetime] | None = None) -> None:
    """Tick what the child does, checkpoint by checkpoint, as parents fill in the checklist.

    Every checkpoint reached by `today` (by the corrected age for a preterm baby) gets its
    milestones ticked on evenings in the weeks before that age was reached or just after,
    except one or two of the current checkpoint (not there yet, or not noticed yet). `told`
    are ticked already by a story's own milestone entry, at that time; `noted` are ticked at
    the time given, the evening a note tells of them. Both keep the rest in order: nothing of
    an earlier checkpoint in the same domain is ticked after them (no "walks alone" after
    "runs"). Ticks alternate between `authors`, oldest first; none is today or later.
    """
    birth = child.birth_date
    assert birth is not None
    noted = noted or {}
    rng = random.Random(f"{book.key}-{child.name}-checklist-{book.anchor}")
    reached = _checkpoints_reached(child, today)
    if not reached:
        return
    current = max(reached)
    due = birth
    if agemath.is_preterm(child.gestational_weeks_at_birth, child.gestational_days_at_birth):
        due += timedelta(days=agemath.FULL_TERM_DAYS - agemath.gestation_days_at_birth(
            child.gestational_weeks_at_birth or 0, child.gestational_days_at_birth or 0))
    tz = book.tz.key
    stories = [(milestones.by_id(mid), agemath.local_date(when, tz))
               for mid, when in (*told.items(), *noted.items())]
    last = today - timedelta(days=1)  # a whole day earlier: never ahead of the clock
    plan: list[tuple[datetime, str]] = [(when, mid) for mid, when in noted.items()]
    previous = due
    for checkpoint in sorted(reached):
        start = previous + (reached[checkpoint] - previous) * 2 // 5
        end = max(start, min(reached[checkpoint] + timedelta(days=10), last))
        items = milestones.for_checkpoint(checkpoint)
        free = [m for m in items if m.id not in told and m.id not in noted]
        left = rng.choice((1, 2)) if checkpoint == current else 0
        for m in sorted(rng.sample(free, len(free) - min(left, len(free))), key=free.index):
            bound = min((day for later, day in stories
                         if later.domain == m.domain and later.month > m.month), default=end)
            low, high = min(start, bound), min(end, bound)
            day = low + timedelta(days=rng.randint(0, (high - low).days))
            day = max(min(day, last), birth)
            plan.append((book.at(day, rng.uniform(19, 22.5)), m.id))
        previous = reached[checkpoint]
    for i, (when, mid) in enumerate(sorted(plan)):
        book.tick(child, authors[i % len(authors)], mid, when, locale)


# --- the four families ----------------------------------------------------------------------

def _expecting(ctx: _Ctx, today: date | None) -> None:
    key = "demo.expecting@example.com"
    day0 = today or agemath.local_today(SHANGHAI)
    book = _Book(ctx, key, SHANGHAI, day0)
    mum = _register_parent(ctx, key, "李静", "zh_CN", SHANGHAI, "mother",
                    families.ChildDetails("小豆子", due_date=day0 + timedelta(days=140)),
                    ["pregnancy_wellbeing", "feeding"], ("上海市", "上海市"))
    child, rng = mum.child, book.rng
    for offset, title, body in EXPECTING_NOTES:
        book.add(child, mum.user, "note", book.on(offset, rng.uniform(20, 22.5)), title, body)
    for i, offset in enumerate(range(-69, 1, 2)):  # a mood most days, words when she has them
        mood, text = EXPECTING_FEELINGS[i % len(EXPECTING_FEELINGS)]
        book.add(child, mum.user, "feeling", book.on(offset, rng.uniform(8, 22)),
                 body=text if i < len(EXPECTING_FEELINGS) else "",
                 data={"mood": mood if i < len(EXPECTING_FEELINGS) else rng.choice((3, 4, 4, 5))})
    for week in range(15, 21):  # a bump photo every week, Sunday-ish morning
        offset = (week - 20) * 7 + (1 if week < 20 else 0)
        book.add(child, mum.user, "bump", book.on(offset, rng.uniform(9, 11)), f"孕{week}周",
                 rng.choice(("肚子又大了一点。", "老公帮我拍的。", "今天的小肚子。", "")),
                 picture=("bump", f"Week {week}", week))
    book.add(child, mum.user, "scan", book.on(-56, 10.5), "NT检查",
             "NT值1.2毫米，一切正常。宝宝在里面翻来翻去，医生等了好久才量好。",
             {"week": 12}, picture=("scan", "12w"))
    book.add(child, mum.user, "scan", book.on(-28, 9.5), "16周产检B超",
             "宝宝身长大约12厘米，心跳每分钟150次，医生说发育很好。", {"week": 16})
    for offset in range(-10, 1, 2):
        book.add(child, mum.user, "kicks", book.on(offset, rng.uniform(21, 22.5)),
                 body="躺下以后感觉到的，轻轻的。",
                 data={"count": rng.randint(3, 9), "duration_min": 30})


def _newborn(ctx: _Ctx, today: date | None) -> None:
    key = "demo.newborn@example.com"
    day0 = today or agemath.local_today(LONDON)
    birth = day0 - timedelta(days=14)
    book = _Book(ctx, key, LONDON, birth)
    details = families.ChildDetails("Isla", due_date=birth + timedelta(days=4), birth_date=birth,
                                    sex="female", gestational_weeks=39, gestational_days=3,
                                    birth_weight_kg=3.4, birth_length_cm=50.5, birth_head_cm=34.6)
    mum = _register_parent(ctx, key, "Emma Wilson", "en", LONDON, "mother", details,
                    ["feeding", "sleep", "bathing"], ("England", "London"), marketing=False)
    child, me, rng = mum.child, mum.user, book.rng
    on = book.on
    for offset, title, body in NEWBORN_NOTES:
        book.add(child, me, "note", on(offset, rng.uniform(13, 21)), title, body)
    for i, offset in enumerate(range(-100, 0, 6)):
        mood, text = NEWBORN_FEELINGS[i % len(NEWBORN_FEELINGS)]
        book.add(child, me, "feeling", on(offset, rng.uniform(9, 21)),
                 body=text if i < len(NEWBORN_FEELINGS) else "", data={"mood": mood})
    for offset in range(-80, 0, 4):  # kick counts from 28 weeks
        book.add(child, me, "kicks", on(offset, rng.uniform(19, 22)),
                 data={"count": 10, "duration_min": rng.randint(12, 45)})
    book.add(child, me, "scan", on(-120, 11), "20-week scan", "Everything measuring well. She "
             "waved at us, or at least that's our story.", {"week": 20}, picture=("scan", "20w"))
    book.add(child, me, "scan", on(-52, 14), "Growth scan", "Estimated 2 kg, head down, and "
             "apparently lots of hair already.", {"week": 32})
    for week, offset in ((28, -80), (32, -52), (36, -24)):
        book.add(child, me, "bump", on(offset, 10), f"{week} weeks", "",
                 picture=("bump", f"{week} weeks", week))
    book.add(child, me, "milestone", on(0, 4.8), "Welcome to the world, Isla", "Born at 4:40am "
             "after a long night: 3.4 kg and perfect.", picture=("balloons", "Hello, Isla"))
    book.add(child, me, "milestone", on(1, 12.5), "Coming home", "Car seat fitted three times "
             "just to be sure.")
    book.add(child, me, "milestone", on(9, 10), "Cord stump fell off", "")
    book.add(child, me, "photo", on(4, 15), "Sleepy girl", "", picture=("moon", "Day 4"))
    book.add(child, me, "photo", on(12, 18), "First proper bath", "She loved the warm water and "
             "hated getting out.", picture=("teddy", "Bath time"))
    book.add(child, me, "photo", on(14, 10.5), "Two weeks old", "", picture=("sun", "2 weeks"))
    for offset, measure in ((5, (3.22, None, None)), (10, (3.36, None, None)),
                            (13, (3.47, 51.2, 35.0))):
        book.add(child, me, "measurement", on(offset, 11), "Midwife visit" if offset < 13 else
                 "Health visitor check", "", measure=measure)

    def feed(rng: random.Random, local: datetime) -> dict:
        if local.date() >= birth + timedelta(7) and local.hour in (22, 23) and rng.random() < .7:
            return {"method": "bottle_breast_milk", "amount_ml": rng.choice((60, 70, 80, 90))}
        return {"method": rng.choice(("breast_left", "breast_right")),
                "duration_min": rng.randint(10, 35)}
    book.care_logs(child, on(0, 6.5), book.at(day0 + timedelta(1), 0), (2.0, 3.2), feed,
                   lambda hour: me, diapers=0.85)
    # the daily tools: tummy time and a few feeds timed with the child page's buttons, one
    # timer started by mistake, and the vaccines given at birth ticked off
    for days_ago in range(5, 0, -1):
        day = day0 - timedelta(days=days_ago)
        book.timer(child, me, "tummy", book.at(day, 11), rng.randint(3, 6))
        book.timer(child, me, "tummy", book.at(day, 16.5), rng.randint(4, 8))
        book.timer(child, me, "feed", book.at(day, 14.25), rng.randint(14, 26),
                   rng.choice(timers.SIDES))
    book.timer(child, me, "sleep", book.at(day0 - timedelta(days=1), 15), 2, keep=False)
    vaccinations.tick_reminder(ctx.session, child, me, "vaccines-at-birth", "vaccination", birth)
    vaccinations.tick_reminder(ctx.session, child, me, "newborn-blood-spot-test", "checkup",
                               birth + timedelta(days=5))


def _preterm(ctx: _Ctx, today: date | None) -> None:
    key = "demo.preterm@example.com"
    day0 = today or agemath.local_today(SHANGHAI)
    birth = _months_before(day0, 8)
    book = _Book(ctx, key, SHANGHAI, birth)
    details = families.ChildDetails("小满", due_date=birth + timedelta(days=56), birth_date=birth,
                                    sex="male", gestational_weeks=32, gestational_days=0,
                                    birth_weight_kg=1.7, birth_length_cm=42.0, birth_head_cm=29.5)
    mum = _register_parent(ctx, key, "王芳", "zh_CN", SHANGHAI, "mother", details,
                    ["development", "feeding", "health"], ("上海市", "上海市"))
    dad_email = "demo.preterm.dad@example.com"
    invitation = invitations.invite(ctx.session, mum.family, mum.user, dad_email, "editor",
                                    "father")
    dad = _register(ctx, dad_email, "刘伟", "zh_CN", SHANGHAI, "father", None, ["health"],
                    ("上海市", "上海市"), marketing=False).user
    invitations.accept(ctx.session, invitation, dad)
    child, rng, who = mum.child, book.rng, {"m": mum.user, "d": dad}
    on = book.on
    for offset, author, title, body in PRETERM_NOTES:
        book.add(child, who[author], "note", on(offset, rng.uniform(12, 22)), title, body)
    told: dict[str, datetime] = {}  # checklist milestones the stories tick, and when
    for offset, author, title, body, motif, milestone_id in PRETERM_MILESTONES:
        when = on(offset, rng.uniform(9, 19))
        book.add(child, who[author], "milestone", when, title, body,
                 data={"milestone_id": milestone_id} if milestone_id else None,
                 picture=(motif, "") if motif else None)
        if milestone_id:
            told[milestone_id] = when
    for offset, author, motif, caption, title in PRETERM_PHOTOS:
        book.add(child, who[author], "photo", on(offset, rng.uniform(10, 17)), title, "",
                 picture=(motif, caption))
    for offset, *measure in PRETERM_NICU_GROWTH:
        book.add(child, mum.user, "measurement", on(offset, 10), "新生儿科称重", measure=measure)
    for month, *measure in PRETERM_CHECKUPS:
        book.add(child, who[rng.choice("md")], "measurement", book.on_month(month, 10),
                 f"{month}月龄体检", measure=measure)
    for offset, temps, medicine, dose, title, body in PRETERM_ILLNESS:
        for i, celsius in enumerate(temps):
            book.add(child, who["dm"[i % 2]], "temperature", on(offset, 18 + i * 5),
                     data={"celsius": celsius})
        book.add(child, mum.user, "medication", on(offset, 19),
                 data={"name": medicine, "dose": dose})
        book.add(child, mum.user, "note", on(offset + 1, 21), title, body)
    for offset in range(-27, 1):  # daily vitamin D, whoever remembers first
        book.add(child, who[rng.choice("mmd")], "medication",
                 book.at(day0 + timedelta(offset), rng.uniform(8, 9.5)),
                 data={"name": "维生素D3滴剂", "dose": "400 IU"})

    def feed(rng: random.Random, local: datetime) -> dict:
        if 11 <= local.hour <= 13 and local.date() >= day0 - timedelta(5):
            return {"method": "solids"}
        if rng.random() < 0.3:
            return {"method": rng.choice(("breast_left", "breast_right")),
                    "duration_min": rng.randint(10, 20)}
        return {"method": "bottle_breast_milk", "amount_ml": rng.choice((120, 130, 150, 160, 180))}

    def on_duty(hour: int) -> User:  # dad does the nights and some of the days
        return dad if hour >= 21 or hour < 6 or rng.random() < 0.25 else mum.user
    book.care_logs(child, book.at(day0 - timedelta(10), 6.5), book.at(day0 + timedelta(1), 0),
                   (2.8, 4.0), feed, on_duty, diapers=0.7)
    _tick_checklist(book, child, (mum.user, dad), day0, "zh_CN", told,
                    {mid: on(offset, 21.5) for mid, offset in PRETERM_NOTED.items()})


def _twins(ctx: _Ctx, today: date | None) -> None:
    key = "demo.twins@example.com"
    day0 = today or agemath.local_today(SHANGHAI)
    birth = _months_before(day0, 24)
    book = _Book(ctx, key, SHANGHAI, birth)
    def twin(name: str, sex: str, weight: float, length: float, head: float
             ) -> families.ChildDetails:
        return families.ChildDetails(name, sex=sex, birth_weight_kg=weight,
                                     birth_length_cm=length, birth_head_cm=head,
                                     birth_date=birth, due_date=birth + timedelta(days=26),
                                     gestational_weeks=36, gestational_days=2)

    mum = _register_parent(ctx, key, "Sarah Chen", "en", SHANGHAI, "mother",
                           twin("Lily", "female", 2.45, 46.5, 32.5),
                           ["play", "development", "sleep", "skin_care"], ("上海市", "上海市"))
    leo = families.add_child(ctx.session, mum.family, twin("Leo", "male", 2.6, 47.5, 33.0))
    kids, me, rng = {"g": mum.child, "b": leo}, mum.user, book.rng
    on = book.on_month
    for month, who, title, body in TWIN_NOTES:
        for child in _kid(kids, who):
            book.add(child, me, "note", on(month, rng.uniform(13, 22)), title, body)
    told: dict[str, dict[str, datetime]] = {"g": {}, "b": {}}  # what the stories tick, when
    for month, who, title, body, milestone_id in TWIN_MILESTONES:
        for letter, child in kids.items():
            if who not in (letter, "both"):
                continue
            when = on(month, rng.uniform(9, 19))
            book.add(child, me, "milestone", when, title, body,
                     data={"milestone_id": milestone_id} if milestone_id else None)
            if milestone_id:
                told[letter][milestone_id] = when
    for month, motif, caption, title in TWIN_PHOTOS:
        for child in kids.values():
            book.add(child, me, "photo", on(month + rng.choice((0, 0.1)), rng.uniform(10, 17)),
                     title, child.name, picture=(motif, caption))
    for month, who, temps, medicine, dose, title, body in TWIN_ILLNESS:
        for child in _kid(kids, who):
            for i, celsius in enumerate(temps):
                book.add(child, me, "temperature", on(month, 8 + i * 6), data={"celsius": celsius})
            book.add(child, me, "medication", on(month, 9), data={"name": medicine, "dose": dose})
            book.add(child, me, "note", on(month, 21.5), title, body)
    # Late-preterm twins start below the WHO medians and catch up over the first year; each
    # child keeps its own centile, weight wobbles a little, length and head never shrink.
    own = {"g": (0.99, 1.0, 0.995), "b": (1.01, 0.995, 1.005)}
    for month, (girl, boy) in WHO_MEDIANS.items():  # the medians for girls and for boys
        catch_up = min(1.0, month / 12)
        ratios = (0.86 + 0.11 * catch_up, 0.955 + 0.035 * catch_up, 0.965 + 0.03 * catch_up)
        for key, child in kids.items():
            medians = girl if key == "g" else boy
            weight, length, head = (median * ratio * mine for median, ratio, mine
                                    in zip(medians, ratios, own[key], strict=True))
            book.add(child, me, "measurement", on(month, 10), f"{month}-month check-up",
                     measure=(round(weight * rng.uniform(0.985, 1.015), 2), round(length, 1),
                              round(head, 1)))
    for letter, child in kids.items():
        noted = {mid: on(month, 22.5) for (who, mid), month in TWIN_NOTED.items()
                 if who in (letter, "both")}
        _tick_checklist(book, child, (me,), day0, "en", told[letter], noted)
    # Leo went down 40 minutes ago (his sleep timer runs): the dashboard shows each twin's
    # day at a glance, his page the running timer.
    timers.start(ctx.session, leo, me, "sleep", now=ctx.now - timedelta(minutes=40))


def load(session: Session, store: PhotoStore, today: date | None = None) -> DemoReport:
    """Create the demo families and staff unless they exist; `today` defaults to each family's."""
    ctx = _Ctx(session, store, utcnow(), DemoReport())
    builders = {"demo.expecting@example.com": _expecting, "demo.newborn@example.com": _newborn,
                "demo.preterm@example.com": _preterm, "demo.twins@example.com": _twins}
    for email, description in PARENTS.items():  # the dad is registered with his family
        build = builders.get(email)
        if build is not None and accounts.find_user_by_email(session, email) is None:
            build(ctx, today)  # a family whose parent exists is left as it is
        ctx.report.logins.append(DemoLogin(email, description, email in ctx.created))
    for email, role, name in STAFF:
        if accounts.find_user_by_email(session, email) is None:
            accounts.create_staff(session, email, DEMO_PASSWORD, role, name)
            ctx.created.add(email)
        ctx.report.logins.append(DemoLogin(email, f"{name}: staff, {role}", email in ctx.created))
    session.flush()
    return ctx.report
