"""The studio's product editor keeps the consumable flag and the size, and says what is wrong
with a size next to its boxes."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from content.models import ContentItem
from tests.web.test_studio import find, make_staff, page_text, product_form


@pytest.fixture()
def marketer(session):
    return make_staff(session, "marketer", "Mia Marketer")


def nappy_form(**fields):
    return product_form(**{"key": "BJ-NAPPY-M", "category": "nappies", "consumable": "y",
                           "size_system": "nappy", "size_code": "M", "size_min_kg": "6",
                           "size_max_kg": "11", **fields})


def test_a_product_keeps_its_size_and_repeat_buying(client, session, login_as, marketer):
    login_as(marketer)
    assert client.post("/studio/new/product", data=nappy_form()).status_code == 302
    product = find(session, "product", "BJ-NAPPY-M")
    assert product.consumable is True
    assert product.size == {"system": "nappy", "code": "M", "min_kg": 6.0, "max_kg": 11.0}
    page = page_text(client.get(f"/studio/{product.id}/edit"))
    assert re.search(r'<option selected value="nappy">|<option value="nappy" selected>', page)
    assert re.search(r'name="size_code"[^>]*value="M"', page)
    assert re.search(r'name="size_min_kg"[^>]*value="6"', page)
    assert re.search(r'name="size_max_kg"[^>]*value="11"', page)
    assert re.search(r'<input checked[^>]*name="consumable"', page)
    # emptying every size box takes the size away; unticking makes it a one-off
    form = product_form(key="BJ-NAPPY-M", category="nappies", note="One size")
    assert client.post(f"/studio/{product.id}/edit", data=form).status_code == 302
    product = find(session, "product", "BJ-NAPPY-M")
    assert (product.size, product.consumable) == (None, False)


def test_other_kinds_never_get_a_size_from_the_form(client, session, login_as, marketer):
    from tests.web.test_studio import article_form
    login_as(marketer)
    data = article_form(consumable="y", size_system="nappy", size_code="M",
                        size_min_kg="6", size_max_kg="11")
    assert client.post("/studio/new/article", data=data).status_code == 302
    article = find(session, "article", "week-12-scan")
    assert (article.size, article.consumable) == (None, False)


@pytest.mark.parametrize("fields, message", [
    ({"size_min_kg": "heavy"}, "Enter the weight in kilograms, such as 6 or 4.5."),
    ({"size_max_kg": "inf"}, "Enter the weight in kilograms, such as 6 or 4.5."),
    ({"size_code": "XXL"}, "Size XXL is not on the nappy ladder (NB, S, M, L, XL)."),
    ({"size_min_kg": "", "size_max_kg": ""}, "Nappy sizes need the weight range they fit."),
    ({"size_min_kg": "11", "size_max_kg": "6"},
     "The weight range must run upwards from above 0 to at most 40 kg."),
    ({"size_system": "", "size_code": "M"}, "Choose a size ladder: nappy, teat, clothing."),
    ({"size_system": "shoe"}, "Choose a size ladder: nappy, teat, clothing."),
])
def test_a_bad_size_is_refused_next_to_its_box(client, session, login_as, marketer, fields,
                                               message):
    login_as(marketer)
    response = client.post("/studio/new/product", data=nappy_form(**fields))
    assert response.status_code == 400
    page = page_text(response)
    assert message in page
    assert re.search(r'class="form-control is-invalid"[^>]*name="size_(code|min_kg|max_kg)"',
                     page)
    assert session.scalar(select(func.count(ContentItem.id))) == 0
