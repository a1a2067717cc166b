"""Email digests: what each parent's stage brings, weekly (default) or daily, in their language.

Two steps, like every push:

1. `schedule_due(session, now)` writes one ledger row per person and period
   (`digest:2026-W48` / `digest:2026-11-23`, channel "email", child 0) for everyone whose
   local send time has come. The ledger's unique key makes it once per period, even with
   two schedulers. People over the frequency cap get a "suppressed" row with reason "cap"
   instead (their inbox already has the content), so staff can see why nothing went out.
   People are read in keyset batches with a handful of set-based queries per batch.
2. The outbox (`journeys.outbox.send_due`) renders each pending row with `render(...)` and
   sends it.

Rendering uses Jinja2 directly (no Flask here) with the templates in `templates/emails/`
and a small string table for English and Simplified Chinese. Every link in a digest is a
signed click-tracking link `/e/c/<token>` naming the delivery, the person, the item and the
site path; the web app logs the click and redirects to that path on this site only. A link
counts one click however often it is fetched (`record_click`): reloads and mail scanners
are not new clicks, and HEAD requests are not clicks at all.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from babel.numbers import format_currency, get_currency_precision
from itsdangerous import BadSignature, SignatureExpired
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from clock import utcnow
from content import library
from content.models import Article, ContentItem, Product, Reminder
from content.stages import Stage, stage_of
from db import dialect_insert
from diary import age as agemath
from diary import tokens
from diary.models import Child, Membership, User
from journeys import ledger
from journeys.models import Delivery, EmailClick, EmailPreference, Suppression, TickRun, click_key
from journeys.preferences import Schedule, zone
from journeys.unsubscribe import make_token as make_unsubscribe_token
from mailer import Email

KIND = "digest"
CHANNEL = "email"
CLICK_PURPOSE = "email-click"
#: Click links older than this still redirect, but the click is no longer logged.
CLICK_MAX_AGE = 400 * 24 * 3600
DEFAULT_CAP = 3
CAP_WINDOW = timedelta(days=7)
ARTICLES_MIN, ARTICLES_MAX = 2, 3
PRODUCTS_MAX = 2
TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "emails"


# --- scheduling -----------------------------------------------------------------------------

@dataclass
class BatchResult:
    processed: int = 0
    scheduled: int = 0
    capped: int = 0
    last_id: int = 0
    done: bool = False


def _eligible(session: Session, after_id: int, batch_size: int) -> list[Any]:
    """Opted-in, active, unsuppressed people with a proven address and a family, with their
    email timing."""
    stmt = (select(User.id, User.timezone, EmailPreference.frequency, EmailPreference.send_hour,
                   EmailPreference.quiet_start, EmailPreference.quiet_end,
                   EmailPreference.paused_until)
            .outerjoin(EmailPreference, EmailPreference.user_id == User.id)
            .where(User.id > after_id, User.digest_opt_in.is_(True), User.is_active.is_(True),
                   User.email_verified_at.is_not(None),
                   ~exists().where(Suppression.email == User.email),
                   exists().where(Membership.user_id == User.id))
            .order_by(User.id).limit(batch_size))
    return list(session.execute(stmt))


def recent_email_counts(session: Session, user_ids: list[int], now: datetime
                        ) -> dict[int, int]:
    """Email per person in the rolling 7 days: sent ones, and ones still queued (so a slow
    outbox cannot let a burst through the cap)."""
    if not user_ids:
        return {}
    since = now - CAP_WINDOW
    stmt = (select(Delivery.user_id, func.count())
            .where(Delivery.user_id.in_(user_ids), Delivery.channel == CHANNEL,
                   or_(and_(Delivery.status == "sent", Delivery.sent_at > since),
                       and_(Delivery.status.in_(("pending", "failed")),
                            Delivery.created_at > since)))
            .group_by(Delivery.user_id))
    return {uid: count for uid, count in session.execute(stmt)}


def schedule_batch(session: Session, now: datetime, after_id: int = 0,
                   batch_size: int = 1000, cap: int = DEFAULT_CAP) -> BatchResult:
    """Schedule digests for up to `batch_size` eligible people with id > after_id."""
    people = _eligible(session, after_id, batch_size)
    result = BatchResult(processed=len(people), last_id=people[-1].id if people else after_id,
                         done=len(people) < batch_size)
    due: dict[int, str] = {}  # user id → period
    for p in people:
        schedule = Schedule.from_values(p.frequency, p.send_hour, p.quiet_start, p.quiet_end,
                                        p.paused_until)
        local = now.astimezone(zone(p.timezone))
        if schedule.is_paused(local.date()) or not schedule.is_due(local):
            continue
        due[p.id] = schedule.period(local)
    if not due:
        return result
    keys = {f"{KIND}:{period}" for period in due.values()}
    have = {(uid, key) for uid, key in session.execute(
        select(Delivery.user_id, Delivery.item_key).where(
            Delivery.user_id.in_(list(due)), Delivery.channel == CHANNEL,
            Delivery.child_id == 0, Delivery.item_key.in_(keys)))}
    due = {uid: period for uid, period in due.items() if (uid, f"{KIND}:{period}") not in have}
    counts = recent_email_counts(session, list(due), now)
    pending, capped = [], []
    for uid, period in due.items():
        row = {"user_id": uid, "child_id": 0, "item_key": f"{KIND}:{period}",
               "channel": CHANNEL, "occurrence": period, "journey_id": None,
               "payload": {"kind": KIND}, "status": "pending"}
        if counts.get(uid, 0) >= cap:
            row["status"], row["payload"] = "suppressed", {"kind": KIND, "reason": "cap"}
            capped.append(row)
        else:
            pending.append(row)
    result.scheduled = ledger.push(session, pending) if pending else 0
    result.capped = ledger.push(session, capped) if capped else 0
    session.flush()
    return result


def schedule_due(session: Session, now: datetime, *, cap: int = DEFAULT_CAP,
                 batch_size: int = 1000) -> int:
    """Schedule every due digest in the caller's transaction; returns how many were queued."""
    after, scheduled = 0, 0
    while True:
        result = schedule_batch(session, now, after, batch_size, cap)
        scheduled += result.scheduled
        after = result.last_id
        if result.done:
            return scheduled


@dataclass
class ScheduleSummary:
    processed: int = 0
    scheduled: int = 0
    capped: int = 0
    batches: int = 0


def run_schedule(factory: sessionmaker, now: datetime | None = None, *, cap: int = DEFAULT_CAP,
                 batch_size: int = 1000) -> ScheduleSummary:
    """The scheduler job: one transaction per batch, progress in a `TickRun` row."""
    now = now or utcnow()
    summary = ScheduleSummary()
    with factory() as session:
        with session.begin():
            run = TickRun(kind="digests", as_of=now)
            session.add(run)
        after = 0
        while True:
            with session.begin():
                result = schedule_batch(session, now, after, batch_size, cap)
                summary.processed += result.processed
                summary.scheduled += result.scheduled
                summary.capped += result.capped
                summary.batches += 1
                run = session.merge(run)
                run.processed, run.created, run.last_id = summary.processed, \
                    summary.scheduled, result.last_id
                run.note = f"capped {summary.capped}"
                if result.done:
                    run.finished_at = utcnow()
            after = result.last_id
            if result.done:
                return summary


# --- words ----------------------------------------------------------------------------------

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "subject_weekly": "This week with {names}",
        "subject_daily": "Today with {names}",
        "subject_weekly_stage": "This week with {names}: {stage}",
        "subject_daily_stage": "Today with {names}: {stage}",
        "subject_plain": "Your Baby Journey digest",
        "and": " & ",
        "hello": "Hello {name},",
        "intro_weekly": "Here is what this week brings.",
        "intro_daily": "Here is what today brings.",
        "pregnancy_week": "Pregnancy week {n}",
        "baby_week": "Baby week {n}",
        "baby_month": "Baby month {n}",
        "read": "Read for this stage",
        "reminders": "Reminders",
        "products": "Picked for this stage",
        "more_stage": "Everything for this stage",
        "read_more": "Read more",
        "open_inbox": "Open your inbox",
        "inbox_text": "Everything we sent you is also in your inbox on the site.",
        "why": "You get this email because you asked for email from Baby Journey.",
        "preferences": "Email preferences",
        "unsubscribe": "Unsubscribe",
        "nothing": "Nothing new for your family's stage right now; your inbox has the rest.",
        "not_advice": "General information, not medical advice.",
        "brand": "Baby Journey",
        "colon": ": ",
        "space": " ",
    },
    "zh_CN": {
        "subject_weekly": "{names}的这一周",
        "subject_daily": "{names}的今天",
        "subject_weekly_stage": "{names}的这一周：{stage}",
        "subject_daily_stage": "{names}的今天：{stage}",
        "subject_plain": "宝宝旅程摘要",
        "and": "和",
        "hello": "{name}，你好：",
        "intro_weekly": "这是本周为你准备的内容。",
        "intro_daily": "这是今天为你准备的内容。",
        "pregnancy_week": "孕{n}周",
        "baby_week": "宝宝第{n}周",
        "baby_month": "宝宝{n}个月",
        "read": "本阶段必读",
        "reminders": "提醒",
        "products": "本阶段好物",
        "more_stage": "查看本阶段全部内容",
        "read_more": "阅读全文",
        "open_inbox": "打开我的消息",
        "inbox_text": "我们发给你的所有内容也都在网站的消息中心里。",
        "why": "你收到这封邮件，是因为你订阅了宝宝旅程的邮件。",
        "preferences": "邮件设置",
        "unsubscribe": "退订",
        "nothing": "你家宝宝目前的阶段暂时没有新内容，其余内容都在消息中心里。",
        "not_advice": "以上为一般信息，不构成医疗建议。",
        "brand": "宝宝旅程",
        "colon": "：",
        "space": "",
    },
}


def locale_of(user: User) -> str:
    return "zh_CN" if (user.locale or "").lower().replace("-", "_").startswith("zh") else "en"


def translator(locale: str) -> Callable[..., str]:
    table = STRINGS.get(locale, STRINGS["en"])

    def t(key: str, **values: Any) -> str:
        text = table.get(key) or STRINGS["en"][key]
        return text.format(**values) if values else text
    return t


def stage_text(stage: Stage, locale: str) -> str:
    t = translator(locale)
    key = {"pregnancy_week": "pregnancy_week", "week": "baby_week"}.get(stage.unit, "baby_month")
    return t(key, n=stage.value)


def _price(item: ContentItem, locale: str) -> str:
    return _price_text(item.price_minor, item.currency, locale)


@lru_cache(maxsize=4096)
def _price_text(minor: int | None, currency: str | None, locale: str) -> str:
    """Babel re-parses the locale on every call: a digest run formats the same few prices."""
    if minor is None or not currency:
        return ""
    amount = Decimal(minor).scaleb(-get_currency_precision(currency))
    return format_currency(amount, currency, locale=locale)


# --- click-tracking links -------------------------------------------------------------------

#: How much of the person's random link key a click link carries: enough that a link made
#: for a deleted account never counts for a newer one with the same id, short for the URL.
CLICK_KEY_CHARS = 8


def make_click_token(secret: str, delivery_id: int, user_id: int, item_key: str,
                     path: str, user_key: str = "") -> str:
    return tokens.serializer(secret, CLICK_PURPOSE).dumps(
        {"d": delivery_id, "u": user_id, "k": user_key[:CLICK_KEY_CHARS], "i": item_key,
         "p": path})


def click_url(site_url: str, secret: str, delivery_id: int, user: User, item_key: str,
              path: str) -> str:
    token = make_click_token(secret, delivery_id, user.id, item_key, path, user.link_key)
    return f"{site_url.rstrip('/')}/e/c/{token}"


def is_site_path(path: Any) -> bool:
    """A path on this site ("/articles/x?y"), never another host ("//evil", "https://…")."""
    if not isinstance(path, str) or not path.startswith("/") or path.startswith("//"):
        return False
    if "\\" in path or any(ord(c) < 32 for c in path):
        return False
    parts = urlsplit(path)
    return not parts.scheme and not parts.netloc


@dataclass(frozen=True)
class Click:
    delivery_id: int | None
    user_id: int | None
    item_key: str
    path: str
    fresh: bool  # False: an old link, redirect without logging
    user_key: str = ""  # the start of the person's link key (links made before it: empty)


class BadClick(Exception):
    """A click token that was altered or does not name a site path."""


def read_click_token(secret: str, token: str, max_age: int = CLICK_MAX_AGE) -> Click:
    serializer = tokens.serializer(secret, CLICK_PURPOSE)
    fresh = True
    try:
        data = serializer.loads(token, max_age=max_age)
    except SignatureExpired as expired:  # genuine but old: still safe to follow
        data, fresh = expired.payload, False
        try:
            data = serializer.load_payload(data) if isinstance(data, bytes) else data
        except BadSignature:
            raise BadClick(token) from None
    except BadSignature:
        raise BadClick(token) from None
    if not isinstance(data, dict) or not is_site_path(data.get("p")):
        raise BadClick(token)
    d, u, k = data.get("d"), data.get("u"), data.get("k")
    return Click(d if isinstance(d, int) else None, u if isinstance(u, int) else None,
                 str(data.get("i") or "")[:120], data["p"][:500], fresh,
                 k if isinstance(k, str) else "")


def record_click(session: Session, click: Click, now: datetime) -> bool:
    """Log the first click on a link; True if this was it, False for a repeat (a reload, a
    second tap, a mail scanner fetching the link again) or an old link, which log nothing.

    The key is the token's delivery and person even when those rows are gone (the stored
    ids are then NULL), so a link keeps counting once. Two clicks at the same moment race
    on the unique key: one row wins, the other does nothing."""
    if not click.fresh:
        return False
    # The person only if the row with that id is still theirs (its link key matches), and
    # the delivery only if it was theirs: SQLite gives the ids of deleted rows again.
    person = session.get(User, click.user_id) if click.user_id is not None else None
    user_id = person.id if person is not None and click.user_key \
        and person.link_key.startswith(click.user_key) else None
    delivery_id = click.delivery_id if click.delivery_id is not None and user_id is not None \
        and session.scalar(select(Delivery.id).where(
            Delivery.id == click.delivery_id, Delivery.user_id == user_id)) is not None \
        else None
    stmt = dialect_insert(session, EmailClick.__table__).values(
        click_key=click_key(click.delivery_id, click.user_id, click.item_key, click.path),
        delivery_id=delivery_id, user_id=user_id, item_key=click.item_key or None,
        url=click.path, clicked_at=now).on_conflict_do_nothing(
        index_elements=["click_key"]).returning(EmailClick.id)
    return session.execute(stmt).scalar() is not None


# --- rendering ------------------------------------------------------------------------------

_env: Environment | None = None


def environment() -> Environment:
    global _env
    if _env is None:
        _env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                           autoescape=select_autoescape(["html"]), trim_blocks=True,
                           lstrip_blocks=True, keep_trailing_newline=True)
    return _env


@dataclass
class ChildBlock:
    name: str
    stage: str
    stage_url: str
    articles: list[dict[str, str]] = field(default_factory=list)
    reminders: list[dict[str, str]] = field(default_factory=list)
    products: list[dict[str, str]] = field(default_factory=list)


def _pick_articles(items: list[ContentItem], topics: set[str]) -> list[ContentItem]:
    """The stage's articles (already ranked by interests); chosen topics first, at least two."""
    if not topics:
        return items[:ARTICLES_MAX]
    chosen = [a for a in items if topics & set(a.topics or [])][:ARTICLES_MAX]
    rest = [a for a in items if a not in chosen]
    return chosen + rest[:max(0, ARTICLES_MIN - len(chosen))]


#: What one outbox run shares between emails: stage content {(kind, stage): items}, its
#: ranking per set of interests, and each batch's preloaded children and preferences.
ContentCache = dict[tuple[Any, ...], Any]


def children_by_user(session: Session, user_ids: set[int]) -> dict[int, list[Child]]:
    """Each person's children (with their families), oldest record first, in one query."""
    children: dict[int, list[Child]] = {uid: [] for uid in user_ids}
    for user_id, child in session.execute(
            select(Membership.user_id, Child)
            .join(Child, Child.family_id == Membership.family_id)
            .where(Membership.user_id.in_(user_ids)).order_by(Child.id)
            .options(selectinload(Child.family))):
        children[user_id].append(child)
    return children


def preload(session: Session, user_ids: set[int], prefs: dict[int, EmailPreference],
            cache: ContentCache) -> None:
    """Read a whole outbox batch's children (with families) and preferences at once, so
    rendering each email runs no query of its own."""
    for uid, children in children_by_user(session, user_ids).items():
        cache[("children", uid)] = children
        cache[("pref", uid)] = prefs.get(uid)


def _text(item: ContentItem, locale: str) -> tuple[str, str]:
    tr = item.text(locale)
    return (tr.title, tr.summary or "") if tr is not None else (item.key, "")


def _stage_items(session: Session, kind: type[ContentItem], stage: Stage,
                 interests: list[str], limit: int | None, now: datetime,
                 cache: ContentCache | None) -> list[ContentItem]:
    """The stage's items ranked for this parent's interests, as `library.for_stage` would.

    The query is cached by stage only (a few hundred keys per run, not one per combination
    of interests); ranking a handful of items per parent in Python is cheap."""
    key = (kind.__name__, stage)
    if cache is None:
        items = library.for_stage(session, kind, stage, [], None, now)
    else:
        if key not in cache:
            cache[key] = library.for_stage(session, kind, stage, [], None, now)
        items = cache[key]
    if not interests:
        ranked = items
    elif cache is None:
        ranked = library.ranked(items, interests)
    else:  # parents share a few combinations of interests: rank each once per stage
        rank_key = ("ranked", kind.__name__, stage, tuple(sorted(interests)))
        if rank_key not in cache:
            cache[rank_key] = library.ranked(items, interests)
        ranked = cache[rank_key]
    return ranked[:limit] if limit else ranked


def _block(session: Session, child: Child, stage: Stage, locale: str, interests: list[str],
           topics: set[str], now: datetime, link: Callable[[str, str], str],
           cache: ContentCache | None = None) -> ChildBlock:
    block = ChildBlock(name=child.name, stage=stage_text(stage, locale),
                       stage_url=link(f"stage:{stage.key}", f"/library/stage/{stage.key}"))
    articles = _stage_items(session, Article, stage, interests, None, now, cache)
    for article in _pick_articles(articles, topics):
        title, summary = _text(article, locale)
        block.articles.append({"title": title, "summary": summary, "url": link(
            f"article:{article.key}", f"/articles/{article.key}")})
    for reminder in _stage_items(session, Reminder, stage, interests,
                                 library.THIS_WEEK_LIMITS["reminder"], now, cache):
        title, summary = _text(reminder, locale)
        block.reminders.append({"title": title, "summary": summary})
    for product in _stage_items(session, Product, stage, interests, PRODUCTS_MAX, now, cache):
        title, summary = _text(product, locale)
        block.products.append({"title": title, "summary": summary,
                               "price": _price(product, locale), "url": link(
                                   f"product:{product.key}", f"/products/{product.key}")})
    return block


def _linker(site: str, secret: str, delivery: Delivery, user: User
            ) -> Callable[[str, str], str]:
    def link(item_key: str, path: str) -> str:
        return click_url(site, secret, delivery.id, user, item_key, path)
    return link


def render(session: Session, delivery: Delivery, user: User, now: datetime, site_url: str,
           secret: str, *, unsubscribe_mailto: str | None = None,
           cache: ContentCache | None = None) -> Email:
    """The digest email for one ledger row: HTML and text parts, RFC 8058 headers.

    `cache` (a dict the caller keeps for one run) shares the stage content between emails:
    everyone at the same stage with the same interests reads the same articles."""
    locale = locale_of(user)
    t = translator(locale)
    site = site_url.rstrip("/")
    weekly = "-W" in (delivery.occurrence or "")
    if cache is not None and ("pref", user.id) in cache:  # preloaded by the outbox batch
        pref = cache[("pref", user.id)]
        children = cache[("children", user.id)]
    else:
        pref = session.get(EmailPreference, user.id)
        children = children_by_user(session, {user.id})[user.id]
    topics = set(Schedule.of(pref).topics)
    interests = list(user.interests or [])
    link = _linker(site, secret, delivery, user)
    blocks: list[ChildBlock] = []
    for child in children:
        stage = stage_of(child, agemath.local_date(now, child.family.timezone))
        if stage is not None:
            blocks.append(_block(session, child, stage, locale, interests, topics, now, link,
                                 cache))
    names = t("and").join(b.name for b in blocks[:2])
    if len(blocks) == 1:
        subject = t("subject_weekly_stage" if weekly else "subject_daily_stage", names=names,
                    stage=blocks[0].stage)
    elif blocks:
        subject = t("subject_weekly" if weekly else "subject_daily", names=names)
    else:
        subject = t("subject_plain")
    return compose(delivery, user, site, secret, subject, blocks, weekly=weekly,
                   unsubscribe_mailto=unsubscribe_mailto)


def render_message(session: Session, delivery: Delivery, user: User, now: datetime,
                   site_url: str, secret: str, *, unsubscribe_mailto: str | None = None
                   ) -> Email:
    """A one-off email from the ledger: a campaign's title and body (payload "title",
    "body"), or one content item pushed by a journey step (payload "item_id")."""
    payload = delivery.payload or {}
    locale = locale_of(user)
    site = site_url.rstrip("/")
    link = _linker(site, secret, delivery, user)
    title, body, url = str(payload.get("title") or ""), str(payload.get("body") or ""), None
    item = session.get(ContentItem, payload["item_id"]) if payload.get("item_id") else None
    if item is not None:
        title, body = _text(item, locale)
        if item.kind in ("article", "product"):
            url = link(f"{item.kind}:{item.key}", f"/{item.kind}s/{item.key}")
    return compose(delivery, user, site, secret, title or translator(locale)("subject_plain"),
                   [], message={"title": title, "body": body, "url": url},
                   unsubscribe_mailto=unsubscribe_mailto)


def compose(delivery: Delivery, user: User, site: str, secret: str, subject: str,
            blocks: list[ChildBlock], *, weekly: bool = True,
            message: dict[str, Any] | None = None,
            unsubscribe_mailto: str | None = None) -> Email:
    """Both parts from the templates, and the headers every marketing email carries."""
    locale = locale_of(user)
    link = _linker(site, secret, delivery, user)
    unsubscribe_url = f"{site}/e/u/{make_unsubscribe_token(secret, user)}"
    context = {
        "t": translator(locale), "lang": "zh-CN" if locale == "zh_CN" else "en",
        "subject": subject, "name": user.display_name, "weekly": weekly,
        "children": [] if message else blocks, "message": message,
        "inbox_url": link("inbox", "/inbox"),
        "preferences_url": link("preferences", "/preferences"),
        "unsubscribe_url": unsubscribe_url, "site_url": site,
    }
    env = environment()
    html = env.get_template("digest.html").render(context)
    text = env.get_template("digest.txt").render(context)
    host = urlsplit(site).hostname or "localhost"
    mailto = unsubscribe_mailto or f"unsubscribe@{host}"
    headers = (
        ("Message-ID", message_id(delivery.id)),
        ("List-Unsubscribe", f"<{unsubscribe_url}>, <mailto:{mailto}?subject=unsubscribe>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ("List-Id", f"Baby Journey <digest.{host}>"),
    )
    return Email(to=user.email, subject=subject, text=text, html=html, headers=headers)


def message_id(delivery_id: int) -> str:
    """Stable per delivery, so a resend after a crash can be recognised as the same mail."""
    return f"<delivery-{delivery_id}@babyjourney>"
