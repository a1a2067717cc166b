"""Product reviews: writing, editing and deleting one's review on the product page (points
once, back on delete), other people's reviews, staff and visitors refused, hiding and
restoring in the studio (points back), hostile values, CSRF, the exact average."""
from __future__ import annotations

import html

import pytest
from sqlalchemy import func, select

from clock import utcnow
from content import privacy as content_privacy
from content import reviews
from content.models import ProductReview
from diary.errors import PermissionDenied
from diary.privacy import ExportRegistry, ExportScope
from rewards import points
from rewards.models import PointsEntry
from tests.web.test_studio import make_item, make_staff

pytestmark = pytest.mark.clock_at("2026-11-23T04:00")

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def product(session):
    return make_item(session, "product", "BJ-REVIEW-1", "Soft rattle", "month", 3, 6, category="toys",
                     price_minor=12990, currency="CNY")


def text(response):
    return response.get_data(as_text=True)


def url(product):
    return f"/products/{product.key}"


def rows(session, product=None):
    session.expire_all()
    query = select(ProductReview).order_by(ProductReview.id)
    if product is not None:
        query = query.where(ProductReview.item_id == product.id)
    return list(session.scalars(query))


def review_points(session, user):
    session.expire_all()
    return session.scalars(select(PointsEntry.points).where(
        PointsEntry.user_id == user.id, PointsEntry.rule == "review")
        .order_by(PointsEntry.id)).all()


def test_write_then_edit_is_one_row_and_pays_once(client, session, make_family, login_as,
                                                  product):
    parent, _ = make_family()
    login_as(parent)
    page = text(client.get(url(product)))
    assert "No reviews yet." in page and "Write a review" in page
    assert page.count('type="radio"') == 5 and 'name="rating"' in page
    response = client.post(url(product) + "/review", data={"rating": "4", "body": "Good\nfun"})
    assert response.status_code == 302 and response.location.endswith("#reviews")
    [row] = rows(session)
    assert (row.user_id, row.item_id, row.rating, row.body) == (parent.id, product.id, 4,
                                                                "Good\nfun")
    assert review_points(session, parent) == [15] and points.balance(session, parent) == 15
    page = text(client.get(url(product)))
    assert "Thank you for your review." in page
    assert "Edit your review" in page and f'name="review_id" value="{row.id}"' in page
    assert '<p class="review-body mb-0 mt-1">Good\nfun</p>' in page
    assert parent.display_name in page and parent.email not in page
    response = client.post(url(product) + "/review",
                           data={"rating": "2", "body": "Broke", "review_id": str(row.id)})
    assert response.status_code == 302
    [edited] = rows(session)
    assert (edited.id, edited.rating, edited.body) == (row.id, 2, "Broke")
    # a review id no row can have (the hostile-input fuzzer's find: it was a 500)
    for bad in ("99999999999999999999999", "2147483648", "٣", "-1"):
        assert client.post(url(product) + "/review", data={
            "rating": "2", "body": "x", "review_id": bad}).status_code == 404
    # posting again without naming it edits it too (one per person per product)
    assert client.post(url(product) + "/review", data={"rating": "3"}).status_code == 302
    [again] = rows(session)
    assert (again.id, again.rating, again.body) == (row.id, 3, "")
    assert review_points(session, parent) == [15]  # editing earns nothing more
    assert "Your review is updated." in text(client.get(url(product)))


def test_delete_takes_the_points_back(client, session, make_family, login_as, product):
    parent, _ = make_family()
    login_as(parent)
    client.post(url(product) + "/review", data={"rating": "5", "body": "Lovely"})
    [row] = rows(session)
    review_id = row.id
    response = client.post(f"{url(product)}/review/{review_id}/delete")
    assert response.status_code == 302
    assert rows(session) == []
    assert review_points(session, parent) == [15, -15] and points.balance(session, parent) == 0
    page = text(client.get(url(product)))
    assert "Your review is deleted." in page and "Lovely" not in page
    assert client.post(f"{url(product)}/review/{review_id}/delete").status_code == 404


def test_another_persons_review_cannot_be_edited_or_deleted(client, session, make_family,
                                                            login_as, product):
    author, _ = make_family()
    other, _ = make_family()
    login_as(author)
    client.post(url(product) + "/review", data={"rating": "5", "body": "Mine"})
    [row] = rows(session)
    login_as(other)
    assert client.post(url(product) + "/review", data={
        "rating": "1", "body": "Hijacked", "review_id": str(row.id)}).status_code == 404
    assert client.post(url(product) + "/review", data={
        "rating": "1", "body": "Hijacked", "review_id": "1 or 1=1"}).status_code == 404
    assert client.post(f"{url(product)}/review/{row.id}/delete").status_code == 404
    # a review of another product named under this product's address: 404 as well
    other_product = make_item(session, "product", "BJ-REVIEW-2", "Bib", "month", 3, 6, category="bibs",
                              price_minor=990, currency="CNY")
    login_as(author)
    assert client.post(f"{url(other_product)}/review/{row.id}/delete").status_code == 404
    [kept] = rows(session)
    assert (kept.user_id, kept.rating, kept.body) == (author.id, 5, "Mine")
    assert review_points(session, other) == []


@pytest.mark.parametrize("role", ["reviewer", "marketer", "admin"])
def test_staff_are_refused_with_a_message(client, session, login_as, product, role):
    login_as(make_staff(session, role))
    page = text(client.get(url(product)))
    assert "Write a review" not in page and 'name="rating"' not in page
    response = client.post(url(product) + "/review", data={"rating": "5", "body": "Staff"})
    assert response.status_code == 403
    assert "Reviews are written by parents: staff accounts cannot write them." in text(response)
    assert rows(session) == []


def test_the_domain_refuses_staff_too(session, product):
    staff = make_staff(session, "reviewer")
    with pytest.raises(PermissionDenied):
        reviews.write(session, staff, product, "5", "", utcnow())


def test_visitors_are_sent_to_sign_in(client, session, product):
    page = text(client.get(url(product)))
    assert "Sign in to write a review." in page and 'name="rating"' not in page
    response = client.post(url(product) + "/review", data={"rating": "5"})
    assert response.status_code == 302 and "/login" in response.location
    assert client.post(f"{url(product)}/review/1/delete").status_code == 302
    assert rows(session) == []


@pytest.mark.parametrize("rating", ["0", "6", "x", "", "4.5", "-1", "٣"])
def test_bad_ratings_are_refused_with_a_message(client, session, make_family, login_as,
                                                product, rating):
    parent, _ = make_family()
    login_as(parent)
    response = client.post(url(product) + "/review", data={"rating": rating, "body": "Hm"})
    assert response.status_code == 400
    assert "Choose a rating from 1 to 5 stars." in text(response)
    assert rows(session) == [] and review_points(session, parent) == []


def test_missing_rating_and_too_long_text_are_refused(client, session, make_family, login_as,
                                                      product):
    parent, _ = make_family()
    login_as(parent)
    response = client.post(url(product) + "/review", data={"body": "No stars"})
    assert response.status_code == 400 and "Choose a rating from 1 to 5 stars." in text(response)
    response = client.post(url(product) + "/review", data={"rating": "4", "body": "a" * 2001})
    assert response.status_code == 400 and rows(session) == []
    assert client.post(url(product) + "/review",
                       data={"rating": "4", "body": "a" * 2000}).status_code == 302
    assert len(rows(session)[0].body) == 2000


def test_html_in_a_review_is_shown_as_text(client, session, make_family, login_as, product):
    parent, _ = make_family()
    login_as(parent)
    client.post(url(product) + "/review", data={"rating": "3", "body": XSS})
    client.post("/logout")
    page = text(client.get(url(product)))
    assert "<script>alert" not in page and "<img src=x" not in page
    assert html.escape(XSS) in page or html.escape(XSS, quote=False) in page.replace(
        "&#34;", '"').replace("&#39;", "'")
    login_as(make_staff(session, "reviewer"))
    studio = text(client.get("/studio/reviews"))
    assert "<script>alert" not in studio and "&lt;script&gt;" in studio


def test_unknown_product_is_404(client, make_family, login_as):
    parent, _ = make_family()
    login_as(parent)
    assert client.post("/products/NOPE/review", data={"rating": "5"}).status_code == 404
    assert client.post("/products/NOPE/review/1/delete").status_code == 404


def test_the_average_is_exact_and_hidden_reviews_do_not_count(client, session, make_family,
                                                               login_as, product):
    people = [make_family()[0] for _ in range(4)]
    for person, rating in zip(people, ("5", "4", "2", "1"), strict=True):
        login_as(person)
        assert client.post(url(product) + "/review",
                           data={"rating": rating}).status_code == 302
    page = text(client.get(url(product)))
    assert "3.0 out of 5" in page and "4 reviews" in page
    reviewer = make_staff(session, "reviewer")
    login_as(reviewer)
    lowest = rows(session)[-1]
    assert client.post(f"/studio/reviews/{lowest.id}/hide").status_code == 302
    client.post("/logout")
    page = text(client.get(url(product)))
    assert "3.7 out of 5" in page and "3 reviews" in page  # (5 + 4 + 2) / 3 = 3.67
    assert reviews.summary(session, product) == reviews.Summary(3, reviews.Decimal("3.7"))


def test_a_reviewer_hides_and_restores_and_the_points_follow(client, session, make_family,
                                                              login_as, product):
    parent, _ = make_family()
    login_as(parent)
    client.post(url(product) + "/review", data={"rating": "1", "body": "Spam spam spam"})
    [row] = rows(session)
    reviewer = make_staff(session, "reviewer")
    login_as(reviewer)
    listing = text(client.get("/studio/reviews"))
    assert "Spam spam spam" in listing and parent.member_no in listing
    assert 'class="studio-nav' in listing and 'href="/studio/reviews"' in listing
    assert client.post(f"/studio/reviews/{row.id}/hide").status_code == 302
    [hidden] = rows(session)
    assert hidden.hidden_by_id == reviewer.id and hidden.hidden_at is not None
    assert review_points(session, parent) == [15, -15]
    assert "Hidden by Reviewer" in text(client.get("/studio/reviews"))
    # hiding twice takes nothing twice
    assert client.post(f"/studio/reviews/{row.id}/hide").status_code == 302
    assert review_points(session, parent) == [15, -15]
    client.post("/logout")
    page = text(client.get(url(product)))
    assert "Spam spam spam" not in page and "No reviews yet." in page
    login_as(parent)  # the author still sees their own, with a word about it
    assert "Our team has hidden your review from the page." in text(client.get(url(product)))
    # editing a hidden review keeps it hidden and earns nothing
    client.post(url(product) + "/review", data={"rating": "2", "review_id": str(row.id)})
    assert rows(session)[0].hidden_at is not None and review_points(session, parent) == [15, -15]
    login_as(reviewer)
    assert client.post(f"/studio/reviews/{row.id}/restore").status_code == 302
    [back] = rows(session)
    assert back.hidden_at is None and back.hidden_by_id is None
    assert review_points(session, parent) == [15, -15, 15]  # what hiding took, given back
    assert client.post(f"/studio/reviews/{row.id}/restore").status_code == 302
    assert review_points(session, parent) == [15, -15, 15]  # restoring again: nothing more
    client.post("/logout")
    assert "3 reviews" not in text(client.get(url(product)))
    assert "2.0 out of 5" in text(client.get(url(product)))
    assert client.post("/studio/reviews/999999/hide").status_code == 302  # visitor: sign in


@pytest.mark.parametrize(("role", "status"), [("marketer", 200), ("reviewer", 200),
                                              ("admin", 200), ("analyst", 403),
                                              ("service", 403), ("moderator", 403)])
def test_who_may_look_after_reviews(client, session, make_family, login_as, product, role,
                                    status):
    parent, _ = make_family()
    login_as(parent)
    client.post(url(product) + "/review", data={"rating": "4"})
    [row] = rows(session)
    assert client.get("/studio/reviews").status_code == 404  # parents: nothing to see
    assert client.post(f"/studio/reviews/{row.id}/hide").status_code == 404
    login_as(make_staff(session, role))
    assert client.get("/studio/reviews").status_code == status
    answer = client.post(f"/studio/reviews/{row.id}/hide")
    assert answer.status_code == (302 if status == 200 else 403)
    assert (rows(session)[0].hidden_at is not None) == (status == 200)


def test_csrf_is_required(app, client, session, make_family, login_as, product):
    parent, _ = make_family()
    login_as(parent)
    client.post(url(product) + "/review", data={"rating": "4"})
    [row] = rows(session)
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(url(product) + "/review", data={"rating": "1"}).status_code == 400
    assert client.post(f"{url(product)}/review/{row.id}/delete").status_code == 400
    login_as_csrf = make_staff(session, "reviewer")
    app.config["WTF_CSRF_ENABLED"] = False
    login_as(login_as_csrf)
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"/studio/reviews/{row.id}/hide").status_code == 400
    [kept] = rows(session)
    assert kept.rating == 4 and kept.hidden_at is None


def test_head_and_get_change_nothing(client, session, make_family, login_as, product):
    parent, _ = make_family()
    login_as(parent)
    client.post(url(product) + "/review", data={"rating": "4"})
    [row] = rows(session)
    before = session.scalar(select(func.count(PointsEntry.id)))
    for method in ("GET", "HEAD"):
        assert client.open(url(product), method=method).status_code == 200
        assert client.open(url(product) + "/review", method=method).status_code == 405
        assert client.open(f"{url(product)}/review/{row.id}/delete",
                           method=method).status_code == 405
    login_as(make_staff(session, "reviewer"))
    for method in ("GET", "HEAD"):
        assert client.open(f"/studio/reviews/{row.id}/hide", method=method).status_code == 405
    assert rows(session)[0].hidden_at is None and rows(session)[0].rating == 4
    assert session.scalar(select(func.count(PointsEntry.id))) == before


def test_chinese_page(client, session, make_family, login_as, product):
    parent, _ = make_family()
    login_as(parent)
    client.post(url(product) + "/review", data={"rating": "5"})
    client.post("/language", data={"lang": "zh_CN"})
    page = text(client.get(url(product)))
    assert "评价" in page and "Write a review" not in page and "Edit your review" not in page


def test_the_export_has_the_reviews(session, make_family, product):
    parent, _ = make_family()
    reviews.write(session, parent, product, "4", "Nice", utcnow())
    session.commit()
    registry = ExportRegistry()
    content_privacy.register(registry)
    got = registry.sections["product_reviews"].collect(
        session, ExportScope(user=parent, memberships=[]))
    assert [(r["product"], r["rating"], r["text"], r["hidden_by_staff"]) for r in got] == \
        [("BJ-REVIEW-1", 4, "Nice", False)]


def test_the_demo_reviews_load_once(session, make_family):
    from content import reviews_demo
    from diary import accounts
    from tests.conftest import PASSWORD
    for key, category in (("BJ-BATH-001", "bath"), ("BJ-NAPPY-S", "nappies")):
        make_item(session, "product", key, key, "month", 3, 6, category=category,
                  price_minor=100, currency="CNY")
    for email in ("demo.twins@example.com", "demo.preterm.dad@example.com"):
        make_family(email=email)
    staff = accounts.create_staff(session, reviews_demo.REVIEWER, PASSWORD, "reviewer", "Rui")
    session.commit()
    made = reviews_demo.load(session, utcnow())
    session.commit()
    assert made.summary() == "3 product reviews (1 hidden by the reviewer)"
    assert [r.hidden_by_id for r in made.reviews] == [None, staff.id, None]
    assert reviews_demo.load(session, utcnow()).reviews == []
