"""The versioned JSON API under /api/v1: the framework (framework.py: declare an endpoint,
get its route and its part of the OpenAPI document), auth (auth.py), the error shape
(errors.py), the spec and docs (docs.py), and one module per resource."""
from __future__ import annotations

from webapp.blueprints.api_v1 import children, docs, entries, me, photos  # noqa: F401
from webapp.blueprints.api_v1.framework import bp

# isort: split
# The family's daily tools.
from webapp.blueprints.api_v1 import (  # noqa: F401
    content,
    growth,
    inbox,
    preferences,
    shop,
    suggestions,
    timers,
)

__all__ = ["bp"]
