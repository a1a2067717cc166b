"""The digest's "Suggested for you": the recommender's products for each child, with their
reasons in the reader's language, through the tracked email links, whose clicks become
interactions on the "email" surface with the position and the model that suggested them."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from journeys import digests
from recommender.models import Interaction
from tests.conftest import site_links
from tests.journeys.test_digests import (  # noqa: F401  (the `content` fixture)
    NOW,
    SECRET,
    content,
    digest_rows,
    make_parent,
    schedule,
)

pytestmark = pytest.mark.clock_at("2026-11-23T01:00")


def _render(session, user, share=0.0):
    schedule(session, NOW)
    row = digest_rows(session, user)[-1]
    return row, digests.render(session, row, user, NOW, site_links(), SECRET,
                               suggesting=digests.Suggesting(lambda: None, share))


def _product_clicks(email):
    return [digests.read_click_token(SECRET, h.rsplit("/", 1)[1])
            for h in re.findall(r'href="([^"]+)"', email.html) if "/e/c/" in h]


def test_the_digest_suggests_products_with_reasons_and_tracked_links(session, content):
    mum = make_parent(session, "mum@example.com")
    session.commit()
    _, email = _render(session, mum)
    for part in (email.html, email.text):
        assert "Suggested for you" in part and "Picked for this stage" not in part
        assert "Support belt" in part and "CN¥129.00" in part
        assert "Popular with parents-to-be in week 20 of pregnancy" in part
    products = [c for c in _product_clicks(email) if c.item_key.startswith("product:")]
    assert [(c.item_key, c.path, c.position, c.model_version) for c in products] == [
        ("product:BJ-BELT-001", "/products/BJ-BELT-001", 0, "none")]
    assert products[0].child_id is not None


def test_a_chinese_reader_gets_the_block_in_chinese(session, content):
    mei = make_parent(session, "mei@example.com", locale="zh_CN", name="豆豆")
    session.commit()
    _, email = _render(session, mei)
    assert "为您推荐" in email.html and "为您推荐" in email.text
    assert "托腹带" in email.html and "Popular with" not in email.html


def test_a_click_is_an_email_interaction_with_the_controls_version(session, content):
    mum = make_parent(session, "mum@example.com")
    session.commit()
    _, email = _render(session, mum, share=1.0)
    click = next(c for c in _product_clicks(email) if c.item_key.startswith("product:"))
    assert click.model_version == "control"
    assert digests.record_click(session, click, NOW) is True
    assert digests.record_click(session, click, NOW) is False  # a second fetch: once
    session.commit()
    rows = session.execute(select(Interaction.kind, Interaction.surface, Interaction.position,
                                  Interaction.model_version, Interaction.child_id)).all()
    assert rows == [("click", "email", 0, "control", click.child_id)]


def test_a_forged_model_version_is_not_logged(session, content):
    mum = make_parent(session, "mum@example.com")
    session.commit()
    _, email = _render(session, mum)
    click = next(c for c in _product_clicks(email) if c.item_key.startswith("product:"))
    token = digests.make_click_token(SECRET, click.delivery_id, mum.id, click.item_key,
                                     click.path, mum.link_key, click.child_id, 0,
                                     "bad version; drop")
    assert digests.record_click(session, digests.read_click_token(SECRET, token), NOW)
    session.commit()
    assert session.scalar(select(Interaction.model_version)) is None


def test_without_the_recommender_the_digest_keeps_the_stage_products(session, content):
    mum = make_parent(session, "mum@example.com")
    session.commit()
    schedule(session, NOW)
    row = digest_rows(session, mum)[-1]
    email = digests.render(session, row, mum, NOW, site_links(), SECRET)
    assert "Picked for this stage" in email.html and "Suggested for you" not in email.html
