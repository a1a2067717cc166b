"""Configuration classes, read from the environment.

One place decides every setting so that the web app, the CLI and the scheduler agree.
`config_for(name)` picks a class. Safe by default: without `APP_ENV` the app runs as
production, which refuses to start without a real SECRET_KEY, a mail server and (with several
workers) shared rate-limit storage. Development must be asked for (`make run` does), and the
testing configuration is only for the test suite: it cannot be served.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent  # config/ sits in the project root
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH", BASE_DIR / "instance"))
#: Alembic's settings, beside the migrations they name: `migrations/` sits beside `config/`
#: in the source tree and, shipped as package data (pyproject.toml), in site-packages too.
ALEMBIC_INI = BASE_DIR / "migrations" / "alembic.ini"



def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Shared defaults. Every value can be overridden by an environment variable."""

    SECRET_KEY: str | None = os.environ.get("SECRET_KEY")
    DATABASE_URL: str = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'app.db'}")
    INSTANCE_DIR: Path = INSTANCE_DIR
    #: Where the analysts' report pages (/studio/crm cohorts, churn, response, reports) and
    #: the weekly report email read: e.g. a PostgreSQL read replica. Unset: DATABASE_URL.
    REPORTS_DATABASE_URL: str | None = os.environ.get("REPORTS_DATABASE_URL") or None
    #: A pooled connection idle this long is pinged before a request uses it (db.liveness):
    #: the request after a database restart still works, with no ping per request under load.
    DATABASE_PING_AFTER_IDLE_SECONDS: float = float(
        os.environ.get("DATABASE_PING_AFTER_IDLE_SECONDS", "1"))
    UPLOAD_DIR: Path = Path(os.environ.get("UPLOAD_DIR", INSTANCE_DIR / "uploads"))
    MAX_CONTENT_LENGTH: int = 64 * 1024 * 1024  # several 10 MB photos in one entry

    # Mail: without MAIL_SERVER, messages are written as .eml files to the outbox folder.
    MAIL_SERVER: str | None = os.environ.get("MAIL_SERVER")
    MAIL_PORT: int = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USE_TLS: bool = _bool("MAIL_USE_TLS", True)
    MAIL_USERNAME: str | None = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD: str | None = os.environ.get("MAIL_PASSWORD")
    MAIL_FROM: str = os.environ.get("MAIL_FROM", "Baby Journey <hello@babyjourney.example>")
    MAIL_OUTBOX_DIR: Path = Path(os.environ.get("MAIL_OUTBOX_DIR", INSTANCE_DIR / "outbox"))
    #: Links in emails are built on this, never on the request's Host header (which an
    #: attacker could set to send a password-reset link to their own site).
    SITE_URL: str = os.environ.get("SITE_URL", "http://127.0.0.1:5000")
    #: Digests and other marketing email: at most this many per person per rolling 7 days.
    DIGEST_MAX_EMAILS_PER_7_DAYS: int = int(os.environ.get("DIGEST_MAX_EMAILS_PER_7_DAYS", "3"))
    #: The outbox retries a failed email with exponential backoff, then gives up ("dead").
    OUTBOX_MAX_ATTEMPTS: int = int(os.environ.get("OUTBOX_MAX_ATTEMPTS", "6"))
    #: Months of interaction-log partitions made ahead of today (PostgreSQL; monthly job).
    INTERACTION_PARTITIONS_AHEAD: int = int(os.environ.get("INTERACTION_PARTITIONS_AHEAD",
                                                           "3"))
    #: The scheduler's own outbox and account-mail jobs. Set to 0 when dedicated senders
    #: (`flask outbox send`, the compose file's `sender` service) send the email.
    SCHEDULER_SENDS_EMAIL: bool = _bool("SCHEDULER_SENDS_EMAIL", True)
    #: Threads sharing a journeys tick on PostgreSQL (SQLite always uses one).
    JOURNEYS_TICK_WORKERS: int = int(os.environ.get("JOURNEYS_TICK_WORKERS", "2"))
    #: Shared secret of the mail provider's bounce webhook (`POST /e/bounce`); unset = off.
    BOUNCE_WEBHOOK_SECRET: str | None = os.environ.get("BOUNCE_WEBHOOK_SECRET") or None

    TIMEZONE: str = os.environ.get("TIMEZONE", "Asia/Shanghai")

    #: Recommender: where `flask reco train` and the nightly job write model artifacts (a
    #: folder per version, CURRENT naming the newest); web workers look for a new one at most
    #: every RECO_RELOAD_SECONDS. RECO_CONTROL_SHARE of families (stable per family) see the
    #: stage-popularity control so the model's lift can be measured; training reads the last
    #: RECO_TRAIN_DAYS of the interaction log.
    RECO_ARTIFACT_DIR: Path = Path(os.environ.get("RECO_ARTIFACT_DIR", INSTANCE_DIR / "reco"))
    RECO_RELOAD_SECONDS: int = int(os.environ.get("RECO_RELOAD_SECONDS", "30"))
    RECO_CONTROL_SHARE: float = float(os.environ.get("RECO_CONTROL_SHARE", "0.1"))
    RECO_TRAIN_DAYS: int = int(os.environ.get("RECO_TRAIN_DAYS", "365"))
    #: Where suggestions are shown (comma-separated; empty switches them off everywhere):
    #: child_page, product_list, article, inbox.
    RECO_SURFACES: tuple[str, ...] = tuple(
        s.strip() for s in os.environ.get(
            "RECO_SURFACES", "child_page,product_list,article,inbox").split(",") if s.strip())

    PASSWORD_RESET_MAX_AGE: int = 60 * 60  # seconds a reset link stays valid
    INVITATION_MAX_AGE: int = 14 * 24 * 60 * 60

    SESSION_COOKIE_HTTPONLY: bool = True
    SESSION_COOKIE_SAMESITE: str = "Lax"
    SESSION_COOKIE_SECURE: bool = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY: bool = True
    REMEMBER_COOKIE_SAMESITE: str = "Lax"
    REMEMBER_COOKIE_SECURE: bool = _bool("SESSION_COOKIE_SECURE", False)
    WTF_CSRF_TIME_LIMIT: int | None = None  # tied to the session, not a clock

    #: How many proxies in front of the app set X-Forwarded-For/-Proto (0: none, use the
    #: socket's address). Behind one nginx or load balancer: 1. Never more than there are.
    TRUSTED_PROXY_COUNT: int = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
    #: Strict-Transport-Security max-age on every response (production only; 0 = off).
    HSTS_SECONDS: int = 0

    RATELIMIT_ENABLED: bool = True
    RATELIMIT_STORAGE_URI: str = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED: bool = False
    #: Limits: per client address, and per account (the address typed in, or the signed-in
    #: person), so neither many addresses nor many accounts get around them.
    LOGIN_RATE_LIMIT: str = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour")
    LOGIN_ACCOUNT_RATE_LIMIT: str = os.environ.get("LOGIN_ACCOUNT_RATE_LIMIT",
                                                   "5 per minute;20 per hour")
    REGISTER_RATE_LIMIT: str = os.environ.get("REGISTER_RATE_LIMIT", "5 per minute;20 per hour")
    RESET_RATE_LIMIT: str = os.environ.get("RESET_RATE_LIMIT", "5 per minute;30 per hour")
    RESET_ACCOUNT_RATE_LIMIT: str = os.environ.get("RESET_ACCOUNT_RATE_LIMIT",
                                                   "3 per hour;10 per day")
    JOIN_RATE_LIMIT: str = os.environ.get("JOIN_RATE_LIMIT", "10 per minute;50 per hour")
    INVITE_RATE_LIMIT: str = os.environ.get("INVITE_RATE_LIMIT", "10 per hour;30 per day")
    ACCOUNT_CHANGE_RATE_LIMIT: str = os.environ.get("ACCOUNT_CHANGE_RATE_LIMIT",
                                                    "10 per hour;30 per day")
    EXPORT_RATE_LIMIT: str = os.environ.get("EXPORT_RATE_LIMIT", "3 per hour;5 per day")
    UPLOAD_RATE_LIMIT: str = os.environ.get("UPLOAD_RATE_LIMIT", "60 per hour;300 per day")
    VERIFY_RESEND_RATE_LIMIT: str = os.environ.get("VERIFY_RESEND_RATE_LIMIT",
                                                   "3 per hour;10 per day")
    #: The cards' interaction log (`POST /api/interactions`), per account: a page sends a
    #: batch every few seconds while cards scroll into view.
    INTERACTIONS_RATE_LIMIT: str = os.environ.get("INTERACTIONS_RATE_LIMIT",
                                                  "120 per minute;3000 per hour")
    #: The shop's order-line endpoint (`POST /api/shop/order-lines`), per client address.
    #: Per personal access token (or signed-in person) over all of /api/v1.
    API_RATE_LIMIT: str = os.environ.get("API_RATE_LIMIT", "300 per minute;5000 per hour")
    SHOP_API_RATE_LIMIT: str = os.environ.get("SHOP_API_RATE_LIMIT", "120 per minute")
    #: Birth clubs (per account): posts and comments, then likes and reports; and the most
    #: posts and comments one person writes in 24 hours, counted in the database.
    CLUB_POST_RATE_LIMIT: str = os.environ.get("CLUB_POST_RATE_LIMIT",
                                               "5 per minute;30 per hour")
    CLUB_ACTION_RATE_LIMIT: str = os.environ.get("CLUB_ACTION_RATE_LIMIT",
                                                 "30 per minute;300 per hour")
    CLUB_DAILY_POST_CAP: int = int(os.environ.get("CLUB_DAILY_POST_CAP", "40"))
    #: Product reviews (per account): writing, editing and deleting one's reviews.
    REVIEW_RATE_LIMIT: str = os.environ.get("REVIEW_RATE_LIMIT", "10 per minute;60 per hour")
    #: "Was this helpful?" votes from visitors who are not signed in, per client address.
    HELP_VOTE_RATE_LIMIT: str = os.environ.get("HELP_VOTE_RATE_LIMIT",
                                               "10 per minute;60 per hour")
    #: Survey answer links in emails work this many days (and an open offer stays in the
    #: inbox as long).
    SURVEY_LINK_DAYS: int = int(os.environ.get("SURVEY_LINK_DAYS", "30"))
    #: Days a sample's shipping address is kept after it was sent or cancelled.
    REWARD_ADDRESS_DAYS: int = int(os.environ.get("REWARD_ADDRESS_DAYS", "30"))
    #: Invitations a family may send per (UTC) day, counted in the database.
    INVITATIONS_PER_FAMILY_PER_DAY: int = int(os.environ.get("INVITATIONS_PER_FAMILY_PER_DAY",
                                                             "10"))

    #: Questions and complaints (care.tickets): the first-response promise in business hours
    #: (per category: "privacy=72,complaint=8"), the team's opening hours, working weekdays
    #: (Monday = 0), time zone and holidays ("2026-10-01,2026-10-02"), when a ticket counts
    #: as near its due time, and who gets escalated tickets (a staff member's email; unset:
    #: they are only marked escalated).
    TICKET_FIRST_RESPONSE_HOURS: float = float(os.environ.get("TICKET_FIRST_RESPONSE_HOURS",
                                                              "24"))
    TICKET_FIRST_RESPONSE_HOURS_BY_CATEGORY: str = os.environ.get(
        "TICKET_FIRST_RESPONSE_HOURS_BY_CATEGORY", "")
    TICKET_BUSINESS_HOURS: str = os.environ.get("TICKET_BUSINESS_HOURS", "09:00-18:00")
    TICKET_BUSINESS_DAYS: str = os.environ.get("TICKET_BUSINESS_DAYS", "0-4")
    TICKET_TIMEZONE: str = os.environ.get("TICKET_TIMEZONE",
                                          os.environ.get("TIMEZONE", "Asia/Shanghai"))
    TICKET_HOLIDAYS: str = os.environ.get("TICKET_HOLIDAYS", "")
    TICKET_NEAR_BREACH_HOURS: float = float(os.environ.get("TICKET_NEAR_BREACH_HOURS", "4"))
    TICKET_ESCALATION_LEAD: str = os.environ.get("TICKET_ESCALATION_LEAD", "")
    #: Replies to ticket emails go to reply+<signed token>@TICKET_REPLY_DOMAIN; the mail
    #: provider posts them to `POST /api/care/inbound-email` with an integration's key.
    TICKET_REPLY_DOMAIN: str = os.environ.get("TICKET_REPLY_DOMAIN", "reply.babyjourney.example")
    TICKET_REPLY_MAX_AGE: int = 90 * 24 * 60 * 60
    TICKET_RATE_LIMIT: str = os.environ.get("TICKET_RATE_LIMIT", "10 per hour;30 per day")
    TICKET_INBOUND_RATE_LIMIT: str = os.environ.get("TICKET_INBOUND_RATE_LIMIT",
                                                    "120 per minute")

    TIMELINE_PAGE_SIZE: int = 30

    #: Content: edits to live items wait for a reviewer; when False, marketers publish too.
    CONTENT_REVIEW_REQUIRED: bool = _bool("CONTENT_REVIEW_REQUIRED", True)

    #: Signed-in sessions last this long without "remember me", and this long with it.
    SESSION_HOURS: int = int(os.environ.get("SESSION_HOURS", "12"))
    REMEMBER_DAYS: int = int(os.environ.get("REMEMBER_DAYS", "30"))
    PERMANENT_SESSION_LIFETIME: int = REMEMBER_DAYS * 24 * 60 * 60  # the cookie, for "remember me"
    #: Account email (reset, address check, invitation) goes out after the response; the
    #: tests send it before the view returns so they can read it.
    ACCOUNT_MAIL_AFTER_RESPONSE: bool = True
    EMAIL_VERIFY_MAX_AGE: int = 7 * 24 * 60 * 60

    #: Logs: "json" (one JSON object per line, a line per request; production's default),
    #: "text", or empty to leave Python's logging alone (development, tests). LOG_LEVEL: the
    #: root logger's level.
    LOG_FORMAT: str = os.environ.get("LOG_FORMAT", "").strip().lower()
    LOG_LEVEL: str = os.environ.get("LOG_LEVEL", "INFO").strip().upper()

    #: Benchmark-only routes (GET /hello, the bare baseline bench/timeline.py compares
    #: against): off unless a benchmark sets BENCH_ENDPOINTS=1.
    BENCH_ENDPOINTS: bool = _bool("BENCH_ENDPOINTS", False)

    #: The test configuration refuses to be served (wsgi, `flask run`, gunicorn).
    SERVABLE: bool = True
    #: `flask demo load` makes accounts with a published password: never in production.
    DEMO_DATA_ALLOWED: bool = True

    @classmethod
    def validate(cls, settings: dict[str, Any]) -> None:
        """Called by the app factory with the app's final settings (this class, then the
        factory's overrides); subclasses tighten it, and may fill in what is missing."""


def _development_secret(instance: Path) -> str:
    """A random key kept in the instance folder: development links cannot be forged with a
    key everyone can read in the source code, and survive restarts."""
    path = instance / "dev-secret-key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        instance.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
            out.write(key)
        return key


class DevelopmentConfig(Config):
    DEBUG = True

    @classmethod
    def validate(cls, settings: dict[str, Any]) -> None:
        if not settings.get("SECRET_KEY"):
            settings["SECRET_KEY"] = _development_secret(Path(settings["INSTANCE_DIR"]))


class TestingConfig(Config):
    TESTING = True
    SITE_URL = "http://localhost"
    SECRET_KEY = "test-secret-key"
    WTF_CSRF_ENABLED = False  # web tests post forms directly; a dedicated test turns it on
    RATELIMIT_ENABLED = False
    PASSWORD_HASH_FAST = True  # argon2 with low cost, so the suite stays quick
    SERVABLE = False
    ACCOUNT_MAIL_AFTER_RESPONSE = False


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", str(365 * 24 * 60 * 60)))
    DEMO_DATA_ALLOWED = False
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "json").strip().lower()
    #: For benchmarks and single-worker sites: accept per-worker rate-limit counts.
    ALLOW_PER_WORKER_RATE_LIMITS = _bool("ALLOW_PER_WORKER_RATE_LIMITS", False)

    @classmethod
    def validate(cls, settings: dict[str, Any]) -> None:
        problems = []
        key = settings.get("SECRET_KEY")
        if not key or len(key) < 32:
            problems.append(
                "SECRET_KEY must be set to a random string of at least 32 characters "
                "(e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`).")
        if not settings.get("MAIL_SERVER"):
            problems.append(
                "MAIL_SERVER must name an SMTP server: password resets and address checks "
                "are sent by email (the file outbox is for development only).")
        if str(settings.get("RATELIMIT_STORAGE_URI", "")).startswith("memory://") \
                and os.environ.get("WEB_CONCURRENCY", "") != "1" \
                and not settings.get("ALLOW_PER_WORKER_RATE_LIMITS"):
            problems.append(
                "RATELIMIT_STORAGE_URI must be shared storage (e.g. redis://host:6379) when "
                "several workers serve the site: memory:// keeps a separate count per worker. "
                "With one worker, set WEB_CONCURRENCY=1.")
        if problems:
            raise RuntimeError("APP_ENV=production (the default) cannot start:\n- "
                               + "\n- ".join(problems)
                               + "\nFor development on your machine, use `make run` or "
                                 "APP_ENV=development.")


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_for(name: str | None = None) -> type[Config]:
    """The config class named by `name` or by APP_ENV (default: production, the safe one)."""
    key = (name or os.environ.get("APP_ENV") or "production").strip().lower()
    try:
        return CONFIGS[key]
    except KeyError:
        raise RuntimeError(f"Unknown APP_ENV {key!r}; choose one of {sorted(CONFIGS)}") from None
