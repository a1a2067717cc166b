"""Jinja, without the per-call toll a page pays a hundred times.

A child page makes about a hundred calls from its templates (`_()`, `url_for`, `csrf_token`,
labels and formats). Jinja's `Context.call` asks every callable twice whether it wants the
context passed in (two `hasattr` walks) and pops its loop bookkeeping before calling; a
template render copies the globals through a `ChainMap`, item by item in Python. Together
that was about a tenth of a child page's time, for answers that never change.

- `FastContext.call` answers a plain function, a bound method of one or a built-in directly,
  and a function that asks for the eval context (the template `_()`) or the environment
  with it, as Jinja does; everything else (the context, with its loop and block
  variables; callable objects) goes to Jinja's own `call`, so behaviour is Jinja's.
- `FastEnvironment.make_globals` gives a template the environment's globals dict itself
  when it has no globals of its own (Jinja's ChainMap over one empty dict and that same dict
  reads alike; copying a dict is one C call). A template given its own globals still gets
  the ChainMap, so they never leak into the environment.
- `csrf_token()` reads this request's token where Flask-WTF keeps it (`g.csrf_token`) before
  asking Flask-WTF, which otherwise reads four settings through the app proxy each call (and
  Flask-WTF's context processor, which put its own in every render, is gone).

`tests/web/test_templating.py` checks each against Jinja's and Flask-WTF's own answers.
"""
from __future__ import annotations

from collections.abc import Callable, MutableMapping
from types import BuiltinFunctionType, FunctionType, MethodType
from typing import Any

from flask import Flask
from flask.globals import _cv_app
from flask.templating import Environment
from flask_wtf.csrf import generate_csrf
from jinja2.runtime import Context
from jinja2.utils import _PassArg


def _plain(obj: Any) -> bool:
    """Whether Jinja would call `obj` as it is: a bound method of a function, or a built-in
    (`items()`, `isoformat()`), not marked `pass_context` and friends."""
    kind = type(obj)
    if kind is MethodType:
        function = obj.__func__
        return type(function) is FunctionType and "jinja_pass_arg" not in function.__dict__
    return kind is BuiltinFunctionType


class FastContext(Context):
    def call(__self, __obj: Callable[..., Any], *args: Any,  # noqa: N805 (Jinja's names)
             **kwargs: Any) -> Any:
        if type(__obj) is FunctionType:
            pass_arg = __obj.__dict__.get("jinja_pass_arg")
            if pass_arg is _PassArg.eval_context:  # the template `_()`: 30 calls a page
                args = (__self.eval_ctx, *args)
            elif pass_arg is _PassArg.environment:
                args = (__self.environment, *args)
            elif pass_arg is not None:  # the context, with loop and block variables: Jinja's
                return Context.call(__self, __obj, *args, **kwargs)
        elif not _plain(__obj):
            return Context.call(__self, __obj, *args, **kwargs)
        if kwargs:
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:
            return __self.environment.undefined(
                "value was undefined because a callable raised a StopIteration exception")


class FastEnvironment(Environment):
    context_class = FastContext

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        if not d:
            return self.globals
        return super().make_globals(d)


def csrf_token() -> str:
    """This request's CSRF token (Flask-WTF's `generate_csrf`, the same string)."""
    app_ctx = _cv_app.get(None)
    if app_ctx is not None:
        token = app_ctx.g.__dict__.get("csrf_token")
        if token is not None:
            return token  # type: ignore[no-any-return]
    return generate_csrf()


def use_fast_templates(app: Flask) -> None:
    """Before anything touches `app.jinja_env`: it is built from this class on first use."""
    app.jinja_environment = FastEnvironment


def init_app(app: Flask) -> None:
    """After Flask-WTF's init_app, which installs its own `csrf_token` twice: as a template
    global, and through a context processor run before every render, which wins over the
    global. Both give way to the fast one (unless the token lives under another name); the
    context processor only handed out what the globals hold."""
    if app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token") != "csrf_token":
        return
    app.jinja_env.globals["csrf_token"] = csrf_token
    processors = app.template_context_processors[None]
    processors[:] = [p for p in processors if getattr(p, "__module__", "") != "flask_wtf.csrf"]
