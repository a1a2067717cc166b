"""Configuration classes, read from the environment.

One place decides every setting so that the web app, the CLI and the scheduler agree.
`config_for(name)` picks a class; production refuses to start without a real SECRET_KEY.
"""
from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH", BASE_DIR / "instance"))

#: Bumped whenever the privacy promise changes; consents record the version they agreed to.
PRIVACY_POLICY_VERSION = "2026-11"


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
    #: Threads sharing a journeys tick on PostgreSQL (SQLite always uses one).
    JOURNEYS_TICK_WORKERS: int = int(os.environ.get("JOURNEYS_TICK_WORKERS", "2"))
    #: Shared secret of the mail provider's bounce webhook (`POST /e/bounce`); unset = off.
    BOUNCE_WEBHOOK_SECRET: str | None = os.environ.get("BOUNCE_WEBHOOK_SECRET") or None

    TIMEZONE: str = os.environ.get("TIMEZONE", "Asia/Shanghai")
    LANGUAGES: tuple[str, ...] = ("en", "zh_CN")
    BABEL_DEFAULT_LOCALE: str = "en"
    BABEL_TRANSLATION_DIRECTORIES: str = str(BASE_DIR / "webapp" / "translations")

    PASSWORD_RESET_MAX_AGE: int = 60 * 60  # seconds a reset link stays valid
    INVITATION_MAX_AGE: int = 14 * 24 * 60 * 60

    SESSION_COOKIE_HTTPONLY: bool = True
    SESSION_COOKIE_SAMESITE: str = "Lax"
    SESSION_COOKIE_SECURE: bool = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY: bool = True
    REMEMBER_COOKIE_SAMESITE: str = "Lax"
    REMEMBER_COOKIE_SECURE: bool = _bool("SESSION_COOKIE_SECURE", False)
    WTF_CSRF_TIME_LIMIT: int | None = None  # tied to the session, not a clock

    RATELIMIT_ENABLED: bool = True
    RATELIMIT_STORAGE_URI: str = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    LOGIN_RATE_LIMIT: str = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour")

    TIMELINE_PAGE_SIZE: int = 30

    #: Content: edits to live items wait for a reviewer; when False, marketers publish too.
    CONTENT_REVIEW_REQUIRED: bool = _bool("CONTENT_REVIEW_REQUIRED", True)

    @classmethod
    def validate(cls) -> None:
        """Called by the app factory; subclasses tighten it."""


class DevelopmentConfig(Config):
    DEBUG = True
    SECRET_KEY = Config.SECRET_KEY or "dev-only-not-secret"


class TestingConfig(Config):
    TESTING = True
    SITE_URL = "http://localhost"
    SECRET_KEY = "test-secret-key"
    WTF_CSRF_ENABLED = False  # web tests post forms directly; a dedicated test turns it on
    RATELIMIT_ENABLED = False
    PASSWORD_HASH_FAST = True  # argon2 with low cost, so the suite stays quick


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)

    @classmethod
    def validate(cls) -> None:
        if not cls.SECRET_KEY or len(cls.SECRET_KEY) < 32:
            raise RuntimeError(
                "SECRET_KEY must be set to a random string of at least 32 characters in "
                "production (e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)."
            )


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_for(name: str | None = None) -> type[Config]:
    """The config class named by `name` or by APP_ENV (default: development)."""
    key = (name or os.environ.get("APP_ENV", "development")).lower()
    try:
        return CONFIGS[key]
    except KeyError:
        raise RuntimeError(f"Unknown APP_ENV {key!r}; choose one of {sorted(CONFIGS)}") from None
