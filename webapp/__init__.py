"""The application factory: the only place that wires Flask to the domain packages."""
from __future__ import annotations

from typing import Any

from flask import Flask

from config import Config, config_for


def create_app(config: type[Config] | str | None = None, **overrides: Any) -> Flask:
    """Build the app. `config` is a Config class or its name; `overrides` win over both."""
    config_class = config if isinstance(config, type) else config_for(config)
    if config is None and not config_class.SERVABLE:
        raise RuntimeError("APP_ENV=testing is the test suite's configuration (no CSRF, no "
                           "rate limits, a published key) and cannot be served. Use "
                           "APP_ENV=development on your machine, production elsewhere.")
    # Templates, static files and catalogues live inside the package (webapp/templates,
    # webapp/static, webapp/translations): a plain `pip install .` serves every page.
    app = Flask(__name__, instance_path=str(config_class.INSTANCE_DIR),
                instance_relative_config=False)
    from webapp import templating
    templating.use_fast_templates(app)
    app.config.from_object(config_class)
    session_factory = overrides.pop("SESSION_FACTORY", None)
    app.config.update(overrides)
    config_class.validate(app.config)
    if app.config["TRUSTED_PROXY_COUNT"] > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix
        hops = int(app.config["TRUSTED_PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]

    from diary import passwords
    passwords.use_fast_hashing(bool(app.config.get("PASSWORD_HASH_FAST")))

    from webapp import (
        account_mail,
        audit,
        content_format,
        data_export,
        database,
        errors,
        extensions,
        frame,
        i18n,
        logs,
        security,
        services,
        url_cache,
    )
    logs.init_app(app)  # first: its request id is on every record the request logs
    database.init_app(app, session_factory)
    services.init_app(app)
    account_mail.init_app(app)
    data_export.init_app(app)
    extensions.csrf.init_app(app)
    templating.init_app(app)
    extensions.limiter.init_app(app)
    i18n.init_app(app)
    frame.init_app(app)
    url_cache.init_app(app)
    content_format.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    audit.init_app(app)
    from webapp import params  # before the blueprints: their `<int:…>` rules use its converter
    params.init_app(app)
    _register_blueprints(app)
    from webapp.blueprints.main.routes import register_bench_endpoints
    register_bench_endpoints(app)

    from webapp import cli
    cli.init_app(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from webapp.blueprints.account.routes import bp as account
    from webapp.blueprints.api_v1 import bp as api_v1
    from webapp.blueprints.auth.routes import bp as auth
    from webapp.blueprints.clubs.routes import bp as clubs
    from webapp.blueprints.daily.routes import bp as daily
    from webapp.blueprints.diary.routes import bp as diary
    from webapp.blueprints.emails.routes import bp as emails
    from webapp.blueprints.family.routes import bp as family
    from webapp.blueprints.growth.routes import bp as growth
    from webapp.blueprints.inbox.routes import bp as inbox
    from webapp.blueprints.interactions import cards
    from webapp.blueprints.interactions.routes import bp as interactions
    from webapp.blueprints.library.routes import bp as library
    from webapp.blueprints.main.routes import bp as main
    from webapp.blueprints.rewards.routes import bp as rewards
    from webapp.blueprints.shop.routes import bp as shop
    from webapp.blueprints.studio.parent import bp as studio  # every staff page: /studio/…
    from webapp.blueprints.suggestions.routes import bp as suggestions
    from webapp.blueprints.surveys.routes import bp as surveys
    from webapp.blueprints.tickets.routes import bp as tickets

    for blueprint in (main, auth, account, family, diary, growth, library, inbox, emails,
                      interactions, shop, studio, suggestions, clubs,
                      tickets, rewards, surveys, daily, api_v1):
        app.register_blueprint(blueprint)
    cards.init_app(app)
