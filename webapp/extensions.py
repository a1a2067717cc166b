"""Flask extensions, created unbound and initialised by the app factory."""
from __future__ import annotations

from functools import cached_property
from typing import Any

from flask_babel import Babel, Domain
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect

from diary.locales import interpolate


class SpacedDomain(Domain):
    """Flask-Babel's message domain, filling placeholders with `diary.locales.interpolate`
    (no space between Chinese text and a Chinese value), as the templates, `babel_fast` and
    `diary.locales.Words` do: every module's `gettext` then spaces a sentence alike."""

    def gettext(self, string: str, **variables: Any) -> str:
        text = self.get_translations().ugettext(string)
        return interpolate(text, variables) if variables else text

    def ngettext(self, singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        return interpolate(self.get_translations().ungettext(singular, plural, num), variables)

    def pgettext(self, context: str, string: str, **variables: Any) -> str:
        text = self.get_translations().upgettext(context, string)
        return interpolate(text, variables) if variables else text

    def npgettext(self, context: str, singular: str, plural: str, num: int,
                  **variables: Any) -> str:
        variables.setdefault("num", num)
        text = self.get_translations().unpgettext(context, singular, plural, num)
        return interpolate(text, variables)


class SiteBabel(Babel):
    """Flask-Babel whose `gettext` and friends (and their lazy forms) use `SpacedDomain`."""

    @cached_property
    def domain_instance(self) -> Domain:
        return SpacedDomain(domain=self.domain)


login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"

csrf = CSRFProtect()
babel = SiteBabel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
