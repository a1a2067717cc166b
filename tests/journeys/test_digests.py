"""Email digests: who is due when (time zones, quiet hours, DST, weekly/daily), the cap, once
per period even with two schedulers, and what the email says in each language."""
from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

import db
from content import packs
from diary import accounts, families, registration
from diary import age as agemath
from diary.errors import ValidationError
from diary.models import Consent, User
from diary.photos import PhotoStore
from journeys import digests, ledger, outbox, preferences
from journeys.models import Delivery, EmailPreference, Suppression, TickRun
from mailer import MemoryMailer
from tests.conftest import PASSWORD, migrated_database_url, run_at_once, site_links
from tests.tokens import tampered

#: These tests are written around fixed dates (NOW): the clock stands there too, so
#: services that validate against "today" (registration, due dates) agree with them.
pytestmark = pytest.mark.clock_at("2026-11-23T01:00")


SECRET = "test-secret-key"
#: Monday 2026-11-23 09:00 in Shanghai (ISO week 48).
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


# --- fixtures shared with test_outbox_smtp and the web tests --------------------------------

def _text(title, summary="s"):
    return {"title": title, "summary": summary, "body": "## b\n\nbody"}


def write_pack(folder):
    """Pregnancy week 20 content in English and Chinese."""
    folder.mkdir(exist_ok=True)
    window = {"unit": "pregnancy_week", "from": 20, "to": 20}
    articles = [
        {"slug": "week-20", "window": window, "topics": ["prenatal-care"], "source": "WHO",
         "translations": {"en": _text("Week 20: halfway", "Your baby is about 25 cm."),
                          "zh_CN": _text("孕20周：过半啦", "宝宝大约25厘米。")}},
        {"slug": "sleep-20", "window": window, "topics": ["sleep"], "source": "WHO",
         "translations": {"en": _text("Sleeping well at 20 weeks"),
                          "zh_CN": _text("孕20周睡个好觉")}},
        {"slug": "food-20", "window": window, "topics": ["nutrition"], "source": "WHO",
         "translations": {"en": _text("Eating well at 20 weeks"),
                          "zh_CN": _text("孕20周吃得好")}},
        {"slug": "skin-20", "window": window, "topics": ["skin-care"], "source": "WHO",
         "interests": ["skin_care"],
         "translations": {"en": _text("Skin at 20 weeks"), "zh_CN": _text("孕20周的皮肤")}},
    ]
    reminders = [{"slug": "scan-20", "category": "checkup", "source": "NHS", "window": window,
                  "translations": {"en": {"title": "Anomaly scan", "body": "b"},
                                   "zh_CN": {"title": "大排畸", "body": "b"}}}]
    products = [{"sku": "BJ-BELT-001", "category": "maternity", "price_minor": 12900,
                 "currency": "CNY", "window": {"unit": "pregnancy_week", "from": 16, "to": 40},
                 "translations": {"en": {"name": "Support belt", "description": ""},
                                  "zh_CN": {"name": "托腹带", "description": ""}}}]
    for name, rows in (("articles.json", articles), ("reminders.json", reminders),
                       ("products.json", products)):
        (folder / name).write_text(json.dumps(rows, ensure_ascii=False))
    return folder


def import_content(session, tmp_path):
    packs.import_pack(session, write_pack(tmp_path / "pack"), None,
                      PhotoStore(tmp_path / "img"))


def make_parent(session, email, *, tz="Asia/Shanghai", locale="en", now=NOW, digest=True,
                marketing=False, interests=(), name="Bean", verified=True):
    """A parent whose baby is in pregnancy week 20 on `now` (in their zone); their address
    is proven unless `verified=False`."""
    today = agemath.local_date(now, tz)
    done = registration.register(session, registration.Registration(
        email=email, password=PASSWORD,
        profile=accounts.Profile(display_name=email.split("@")[0].title(), timezone=tz,
                                 locale=locale, interests=list(interests)),
        relationship="mother", child_data_consent=True, digest_opt_in=digest,
        marketing_opt_in=marketing,
        child=families.ChildDetails(name=name, due_date=today + timedelta(days=140))), "test")
    if verified:
        done.user.email_verified_at = now
    return done.user


def set_pref(session, user, **values):
    pref = session.get(EmailPreference, user.id) or EmailPreference(user_id=user.id, topics=[])
    for k, v in values.items():
        setattr(pref, k, v)
    session.add(pref)
    session.flush()


def settings(**kw):
    return outbox.EmailSettings(links=site_links(), secret=SECRET, **kw)


@pytest.fixture()
def content(session, tmp_path):
    import_content(session, tmp_path)
    session.commit()


def digest_rows(session, user=None):
    stmt = select(Delivery).where(Delivery.item_key.like("digest:%")).order_by(Delivery.id)
    if user is not None:
        stmt = stmt.where(Delivery.user_id == user.id)
    session.expire_all()
    return list(session.scalars(stmt))


def schedule(session, now, **kw):
    n = digests.schedule_due(session, now, **kw)
    session.commit()
    return n


# --- the schedule as a pure function of local time -------------------------------------------

def test_quiet_hours_wrap_midnight_and_move_the_send_hour():
    s = preferences.Schedule(send_hour=22, quiet_start=21, quiet_end=8)
    assert [h for h in range(24) if s.in_quiet_hours(h)] == [0, 1, 2, 3, 4, 5, 6, 7, 21, 22, 23]
    assert s.effective_send_hour == 8
    assert preferences.Schedule(send_hour=9).effective_send_hour == 9
    assert not preferences.Schedule(quiet_start=0, quiet_end=0).in_quiet_hours(3)
    daytime = preferences.Schedule(send_hour=13, quiet_start=12, quiet_end=14)
    assert daytime.effective_send_hour == 14 and not daytime.in_quiet_hours(11)


def test_periods_are_local_days_and_iso_weeks():
    local = datetime(2026, 11, 23, 9, 0)
    assert preferences.Schedule(frequency="daily").period(local) == "2026-11-23"
    assert preferences.Schedule().period(local) == "2026-W48"
    # ISO weeks cross the new year: 2027-01-01 is in 2026-W53
    assert preferences.Schedule().period(datetime(2027, 1, 1, 9)) == "2026-W53"


# --- scheduling ---------------------------------------------------------------------------

def test_weekly_digest_on_monday_at_the_send_hour_once_per_week(session, content):
    mum = make_parent(session, "mum@example.com")
    session.commit()
    assert schedule(session, NOW - timedelta(minutes=1)) == 0  # 08:59 in Shanghai
    assert schedule(session, NOW) == 1
    [row] = digest_rows(session, mum)
    assert (row.item_key, row.occurrence, row.channel, row.child_id, row.status,
            row.payload) == ("digest:2026-W48", "2026-W48", "email", 0, "pending",
                             {"kind": "digest"})
    assert schedule(session, NOW + timedelta(hours=3)) == 0  # same week: nothing new
    assert schedule(session, NOW + timedelta(days=1)) == 0  # Tuesday: not the weekly day
    assert schedule(session, NOW + timedelta(days=7)) == 1  # next Monday, 2026-W49
    assert [r.occurrence for r in digest_rows(session, mum)] == ["2026-W48", "2026-W49"]


def test_daily_digest_every_local_day(session, content):
    dad = make_parent(session, "dad@example.com")
    set_pref(session, dad, frequency="daily", send_hour=10)
    session.commit()
    assert schedule(session, datetime(2026, 11, 25, 1, 59, tzinfo=UTC)) == 0
    assert schedule(session, datetime(2026, 11, 25, 2, 0, tzinfo=UTC)) == 1  # 10:00
    assert schedule(session, datetime(2026, 11, 25, 5, 0, tzinfo=UTC)) == 0
    # 17:30 UTC on the 25th is 01:30 on the 26th in Shanghai: quiet hours
    assert schedule(session, datetime(2026, 11, 25, 17, 30, tzinfo=UTC)) == 0
    assert schedule(session, datetime(2026, 11, 26, 2, 30, tzinfo=UTC)) == 1
    assert [r.item_key for r in digest_rows(session, dad)] == ["digest:2026-11-25",
                                                               "digest:2026-11-26"]


def test_send_hour_follows_each_time_zone_and_daylight_saving(session, content):
    """New York leaves DST on Sunday 2026-11-01: 09:00 is 13:00 UTC before, 14:00 UTC after."""
    ny = make_parent(session, "ny@example.com", tz="America/New_York",
                     now=datetime(2026, 11, 1, 14, tzinfo=UTC))
    set_pref(session, ny, frequency="daily", send_hour=9)
    session.commit()
    assert schedule(session, datetime(2026, 10, 31, 12, 59, tzinfo=UTC)) == 0
    assert schedule(session, datetime(2026, 10, 31, 13, 0, tzinfo=UTC)) == 1  # EDT
    assert schedule(session, datetime(2026, 11, 1, 13, 0, tzinfo=UTC)) == 0  # 08:00 EST
    assert schedule(session, datetime(2026, 11, 1, 13, 59, tzinfo=UTC)) == 0
    assert schedule(session, datetime(2026, 11, 1, 14, 0, tzinfo=UTC)) == 1  # 09:00 EST
    assert [r.occurrence for r in digest_rows(session, ny)] == ["2026-10-31", "2026-11-01"]


def test_never_in_quiet_hours_a_late_send_hour_moves_to_their_end(session, content):
    owl = make_parent(session, "owl@example.com", tz="Europe/London")
    set_pref(session, owl, frequency="daily", send_hour=22, quiet_start=21, quiet_end=8)
    session.commit()
    day = datetime(2026, 11, 24, tzinfo=UTC)  # London is on UTC in November
    assert schedule(session, day.replace(hour=22)) == 0  # the chosen hour is quiet
    assert schedule(session, day.replace(hour=7, minute=59)) == 0
    assert schedule(session, day.replace(hour=8)) == 1  # moved to the end of quiet hours
    assert digest_rows(session, owl)[0].occurrence == "2026-11-24"
    # quiet hours are never used to catch up a missed morning either
    late = make_parent(session, "late@example.com", tz="Europe/London")
    set_pref(session, late, frequency="daily")
    session.commit()
    assert schedule(session, day.replace(hour=21, minute=30)) == 0
    assert schedule(session, day.replace(hour=20)) == 1  # missed 09:00: sent later that day


def test_who_gets_no_digest(session, content):
    make_parent(session, "no@example.com", digest=False)
    bounced = make_parent(session, "bounced@example.com")
    session.add(Suppression(email=bounced.email, reason="hard-bounce"))
    paused = make_parent(session, "paused@example.com")
    set_pref(session, paused, paused_until=date(2026, 11, 23))  # paused through today
    back = make_parent(session, "back@example.com")
    set_pref(session, back, paused_until=date(2026, 11, 22))  # the pause ended yesterday
    inactive = make_parent(session, "gone@example.com")
    inactive.is_active = False
    make_parent(session, "unproven@example.com", verified=False)  # typed in, never confirmed
    session.commit()
    assert schedule(session, NOW) == 1
    assert [r.user_id for r in digest_rows(session)] == [back.id]


def test_the_cap_suppresses_the_fourth_email_in_seven_days(session, session_factory, content):
    daily = make_parent(session, "daily@example.com")
    set_pref(session, daily, frequency="daily")
    session.commit()
    mailer = MemoryMailer()
    for day in range(3):
        assert schedule(session, NOW + timedelta(days=day), cap=3) == 1
        stats = outbox.send_due(session_factory, lambda: mailer, NOW + timedelta(days=day), 10,
                                settings())
        assert stats.sent == 1
    assert schedule(session, NOW + timedelta(days=3), cap=3) == 0
    fourth = digest_rows(session, daily)[-1]
    assert (fourth.occurrence, fourth.status, fourth.payload["reason"]) == (
        "2026-11-26", "suppressed", "cap")
    assert outbox.send_due(session_factory, lambda: mailer, NOW + timedelta(days=3), 10,
                           settings()).claimed == 0
    assert len(mailer.sent) == 3
    # the cap row holds the period: a re-run does not send it after all
    assert schedule(session, NOW + timedelta(days=3, hours=2), cap=3) == 0
    # a rolling window: seven days after the first send, there is room again
    assert schedule(session, NOW + timedelta(days=7), cap=3) == 1


def test_queued_email_counts_toward_the_cap_too(session, content):
    busy = make_parent(session, "busy@example.com")
    set_pref(session, busy, frequency="daily")
    ledger.push(session, [ledger.row(user_id=busy.id, child_id=0, item=None, channel="email",
                                     item_key=f"campaign:x{i}", occurrence="x", kind="campaign")
                          for i in range(3)])
    session.commit()
    assert schedule(session, NOW, cap=3) == 0
    assert digest_rows(session, busy)[0].payload == {"kind": "digest", "reason": "cap"}


def test_batches_cover_everyone(session, content):
    people = [make_parent(session, f"p{i}@example.com") for i in range(5)]
    session.commit()
    first = digests.schedule_batch(session, NOW, 0, batch_size=2)
    assert (first.processed, first.scheduled, first.done) == (2, 2, False)
    assert first.last_id == people[1].id
    assert digests.schedule_due(session, NOW, batch_size=2) == 3
    session.commit()
    assert len(digest_rows(session)) == 5


def test_run_schedule_records_its_run(session, session_factory, content):
    make_parent(session, "a@example.com")
    session.commit()
    summary = digests.run_schedule(session_factory, NOW, batch_size=10)
    assert (summary.scheduled, summary.batches) == (1, 1)
    run = session.scalar(select(TickRun).where(TickRun.kind == "digests"))
    assert run.finished_at is not None and run.created == 1


@pytest.fixture()
def world(tmp_path):
    """A real, committed file database, as two scheduler processes would share it."""
    url, drop = migrated_database_url(tmp_path)
    engine = db.make_engine(url)
    factory = db.make_session_factory(db.writer_engine(engine))
    with factory() as s, s.begin():
        import_content(s, tmp_path)
        for i in range(6):
            make_parent(s, f"parent{i}@example.com")
    yield factory
    engine.dispose()
    drop()


def _schedule_in_one_transaction(factory):
    with factory() as s, s.begin():
        digests.schedule_due(s, NOW, batch_size=2)


def _schedule_as_the_job(factory):
    digests.run_schedule(factory, NOW, batch_size=2)


@pytest.mark.parametrize("run", [_schedule_in_one_transaction, _schedule_as_the_job])
def test_two_schedulers_at_once_write_one_digest_each(world, run):
    errors = run_at_once(lambda: run(world))
    assert errors == []
    with world() as s:
        keys = s.execute(select(Delivery.user_id, Delivery.item_key, Delivery.channel,
                                Delivery.occurrence)).all()
        assert len(keys) == len(set(keys)) == 6


# --- rendering ----------------------------------------------------------------------------

def _render(session, user, now=NOW):
    schedule(session, now)
    row = digest_rows(session, user)[-1]
    return row, digests.render(session, row, user, now, site_links(), SECRET)


def _hrefs(html):
    return re.findall(r'href="([^"]+)"', html)


def test_english_digest_has_the_stage_articles_reminders_products_and_links(session, content):
    mum = make_parent(session, "mum@example.com", interests=["skin_care"])
    session.commit()
    row, email = _render(session, mum)
    assert email.to == "mum@example.com"
    assert email.subject == "This week with Bean: Pregnancy week 20"
    for text in ("Skin at 20 weeks", "Eating well at 20 weeks", "Anomaly scan",
                 "Support belt", "CN¥129.00"):
        assert text in email.html and text in email.text
    # the stage's articles, the reader's interests first; two to three of them
    articles = re.findall(r"^- (.+)\n  http://localhost/e/c/", email.text, re.M)
    assert articles[0] == "Skin at 20 weeks" and 2 <= len(articles) - 1 <= 3  # - product
    headers = dict(email.headers)
    assert headers["Message-ID"] == f"<delivery-{row.id}@babyjourney>"
    assert re.fullmatch(r"<http://localhost/e/u/[\w.-]+>, "
                        r"<mailto:unsubscribe@localhost\?subject=unsubscribe>",
                        headers["List-Unsubscribe"])
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # every link is a signed click link (or the unsubscribe link) on the site
    links = _hrefs(email.html)
    assert links and all(re.match(r"http://localhost/e/[cu]/", h) for h in links)
    clicks = [digests.read_click_token(SECRET, h.rsplit("/", 1)[1]) for h in links
              if "/e/c/" in h]
    paths = {c.path for c in clicks}
    assert {"/inbox", "/preferences", "/articles/skin-20", "/products/BJ-BELT-001",
            "/library/stage/pregnancy_week:20"} <= paths
    assert all(c.delivery_id == row.id and c.user_id == mum.id and c.fresh for c in clicks)
    assert {c.item_key for c in clicks} >= {"article:skin-20", "inbox"}
    assert "<table" in email.html and 'lang="en"' in email.html


def test_chinese_digest_for_a_chinese_reader(session, content):
    mei = make_parent(session, "mei@example.com", locale="zh_CN", name="豆豆")
    session.commit()
    _, email = _render(session, mei)
    assert email.subject == "豆豆的这一周：孕 20 周"
    assert "孕20周吃得好" in email.html and "大排畸" in email.text and "托腹带" in email.text
    assert "您好" in email.text and "退订" in email.html and 'lang="zh-CN"' in email.html
    assert "Eating well" not in email.html and "Hello" not in email.text


def test_topics_choose_the_articles_and_html_is_escaped(session, content):
    dad = make_parent(session, "dad@example.com", name="<b>Bo</b>")
    set_pref(session, dad, frequency="daily", topics=["sleep"])
    session.commit()
    _, email = _render(session, dad)
    assert email.subject.startswith("Today with <b>Bo</b>")
    assert "&lt;b&gt;Bo&lt;/b&gt;" in email.html and "<b>Bo</b>" not in email.html
    articles = re.findall(r"^- (.+)\n  http://localhost/e/c/", email.text, re.M)
    # the one article on the chosen topic first, filled up to two with the stage's others
    assert articles[:2] == ["Sleeping well at 20 weeks", "Eating well at 20 weeks"]
    assert "Skin at 20 weeks" not in email.text


def test_click_tokens_refuse_tampering_and_other_hosts():
    token = digests.make_click_token(SECRET, 7, 3, "article:x", "/articles/x?utm=1")
    click = digests.read_click_token(SECRET, token)
    assert (click.delivery_id, click.user_id, click.item_key, click.path) == (
        7, 3, "article:x", "/articles/x?utm=1")
    with pytest.raises(digests.BadClick):
        digests.read_click_token(SECRET, tampered(token))
    with pytest.raises(digests.BadClick):
        digests.read_click_token("another-secret", token)
    forge = URLSafeTimedSerializer(SECRET, salt=digests.CLICK_PURPOSE)
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "evil",
                 "javascript:alert(1)"):
        with pytest.raises(digests.BadClick):
            digests.read_click_token(SECRET, forge.dumps({"d": 1, "u": 1, "i": "", "p": evil}))
    # an old link still goes where it pointed, but is not logged
    assert digests.read_click_token(SECRET, token, max_age=-1).fresh is False


def test_preference_centre_records_consents_and_cancels_queued_digests(session, content):
    mum = make_parent(session, "mum@example.com")
    session.commit()
    schedule(session, NOW)
    preferences.save(session, mum, preferences.Choices(
        digest=False, marketing=True, frequency="daily", send_hour=7, quiet_start=22,
        quiet_end=6, topics=["sleep"]), "preferences", "2026-11")
    session.commit()
    assert (mum.digest_opt_in, mum.marketing_opt_in) == (False, True)
    kinds = session.execute(select(Consent.kind, Consent.granted).where(
        Consent.user_id == mum.id, Consent.source == "preferences")).all()
    assert sorted(kinds) == [("digest", False), ("marketing", True)]
    assert digest_rows(session, mum)[0].status == "suppressed"
    pref = session.get(EmailPreference, mum.id)
    assert (pref.frequency, pref.send_hour, pref.quiet_start, pref.quiet_end, pref.topics) == (
        "daily", 7, 22, 6, ["sleep"])
    with pytest.raises(ValidationError, match="Choose weekly or daily."):
        preferences.save(session, mum, preferences.Choices(True, True, frequency="hourly"))
    until = preferences.pause(session, mum, 2, date(2026, 11, 23))
    assert until == date(2026, 12, 6)
    assert session.scalar(select(func.count()).select_from(User)) == 1
