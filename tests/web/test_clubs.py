"""Birth clubs and topic groups: membership, posts, comments, likes, reports, photos, the
word filter, moderation (queue, hide / restore / ban, per-club moderators), rate limits,
CSRF, privacy (no child data on club pages, export, deletion)."""
from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import date, timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from clock import utcnow
from community import clubs, moderation, posts
from community.models import (
    Club,
    ClubBan,
    ClubComment,
    ClubLike,
    ClubMember,
    ClubPost,
    ClubReport,
    ModerationAction,
)
from diary import accounts
from rewards import points
from tests.conftest import PASSWORD
from tests.web.helpers import png_bytes
from tests.web.test_studio import make_staff

pytestmark = pytest.mark.clock_at("2026-11-23T04:00")


def count(session, model, *where):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture()
def club_world(session, make_family):
    """Two birth clubs: A (anna and ben are in it) and B (cara); a moderator of A."""
    anna, anna_child = make_family(name="Xiaoyu", birth_date=date(2026, 8, 14))
    ben, _ = make_family(birth_date=date(2026, 8, 2))
    cara, _ = make_family(birth_date=date(2026, 5, 20))
    club_a = clubs.join_birth_club(session, anna, anna_child)
    clubs.join(session, ben, club_a)
    club_b = clubs.birth_club(session, date(2026, 5, 1))
    clubs.join(session, cara, club_b)
    admin = make_staff(session, "admin")
    mod_a = make_staff(session, "moderator")
    mod_b = make_staff(session, "moderator")
    moderation.assign(session, admin, mod_a, club_a)
    moderation.assign(session, admin, mod_b, club_b)
    session.commit()
    return dict(anna=anna, anna_child=anna_child, ben=ben, cara=cara, a=club_a, b=club_b,
                admin=admin, mod_a=mod_a, mod_b=mod_b)


def write(session, user, club, body="Hello club"):
    post = posts.create_post(session, user, club, body, None, daily_cap=100)
    session.commit()
    return post


# --- membership ------------------------------------------------------------------------------

def test_registration_joins_the_birth_club_only_when_ticked(client, session):
    def register(email, tick):
        data = {"display_name": "Mum", "email": email, "password": PASSWORD,
                "confirm": PASSWORD, "timezone": "Asia/Shanghai", "locale": "en",
                "relationship": "mother", "child_data_consent": "y", "child_name": "Bean",
                "status": "expecting", "due_date": "2027-03-10"}
        if tick:
            data["join_birth_club"] = "y"
        response = client.post("/register", data=data)
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        return accounts.find_user_by_email(session, email)

    ticked = register("ticked@example.com", True)
    club = session.scalar(select(Club).where(Club.month == date(2027, 3, 1)))
    assert club is not None and club.kind == "birth"
    assert clubs.is_member(session, ticked, club.id)
    unticked = register("unticked@example.com", False)
    assert count(session, ClubMember, ClubMember.user_id == unticked.id) == 0
    assert count(session, Club, Club.month == date(2027, 3, 1)) == 1


def test_the_clubs_page_offers_the_babys_month_and_joining_and_leaving_work(
        client, session, make_family, login_as):
    parent, child = make_family(birth_date=date(2026, 9, 3))
    clubs.ensure_topic_groups(session)
    session.commit()
    login_as(parent)
    page = client.get("/clubs").get_data(as_text=True)
    assert "September 2026 babies" in page and "Sleep" in page
    assert client.post("/clubs/birth/2026-10/join").status_code == 404  # not their month
    response = client.post("/clubs/birth/2026-9/join")
    assert response.status_code == 302
    club = session.scalar(select(Club).where(Club.month == date(2026, 9, 1)))
    assert response.headers["Location"].endswith(f"/clubs/{club.id}")
    assert clubs.is_member(session, parent, club.id)
    assert client.post("/clubs/birth/2026-9/join").status_code == 404  # joined already
    sleep = session.scalar(select(Club).where(Club.slug == "sleep"))
    assert client.post(f"/clubs/{sleep.id}/join").status_code == 302
    assert client.post(f"/clubs/{sleep.id}/join").status_code == 302  # twice: one row
    assert count(session, ClubMember, ClubMember.user_id == parent.id) == 2
    assert client.post(f"/clubs/{sleep.id}/leave").status_code == 302
    assert client.get(f"/clubs/{sleep.id}").status_code == 404
    assert client.post("/clubs/999999/join").status_code == 404
    page = client.get("/clubs").get_data(as_text=True)
    assert "Join" in page and "September 2026 babies" in page  # in "My clubs" now


def test_the_clubs_page_shows_chinese_names(client, session, make_family, login_as):
    parent, child = make_family(birth_date=date(2026, 9, 3))
    parent.locale = "zh_CN"
    clubs.join_birth_club(session, parent, child)
    clubs.ensure_topic_groups(session)
    session.commit()
    login_as(parent)
    page = client.get("/clubs").get_data(as_text=True)
    assert "2026年9月宝宝" in page and "睡眠" in page and "小睡、夜觉" in page
    assert "Sleep" not in page


def test_a_birth_club_is_made_once_per_month(session):
    first = clubs.birth_club(session, date(2027, 3, 17))
    again = clubs.birth_club(session, date(2027, 3, 2))
    assert first.id == again.id and first.month == date(2027, 3, 1)


# --- reading: members only -------------------------------------------------------------------

def test_non_members_cannot_read_a_club_its_posts_or_photos(client, session, club_world,
                                                           login_as, app):
    w = club_world
    login_as(w["anna"])
    response = client.post(f"/clubs/{w['a'].id}/posts", data={
        "body": "Our walk", "photo": (io.BytesIO(png_bytes()), "walk.png")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    post = session.scalar(select(ClubPost).where(ClubPost.author_id == w["anna"].id))
    assert post.photo_key
    photo = client.get(f"/clubs/posts/{post.id}/photo/full")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(photo.data)).getexif() == {}  # re-encoded, no metadata
    login_as(w["cara"])  # in club B only
    for url in (f"/clubs/{w['a'].id}", f"/clubs/posts/{post.id}",
                f"/clubs/posts/{post.id}/photo/full", f"/clubs/posts/{post.id}/photo/thumb"):
        assert client.get(url).status_code == 404, url
        assert client.head(url).status_code == 404, url
    assert client.post(f"/clubs/{w['a'].id}/posts", data={"body": "hi"}).status_code == 404
    assert client.post(f"/clubs/posts/{post.id}/comments", data={"body": "hi"}
                       ).status_code == 404
    assert client.post(f"/clubs/posts/{post.id}/like").status_code == 404
    assert client.post(f"/clubs/posts/{post.id}/report", data={"reason": "x"}
                       ).status_code == 404
    assert count(session, ClubComment) == count(session, ClubLike) == \
        count(session, ClubReport) == 0
    # moderators see the photos of the clubs they moderate, no other
    login_as(w["mod_a"])
    assert client.get(f"/clubs/posts/{post.id}/photo/thumb").status_code == 200
    login_as(w["mod_b"])
    assert client.get(f"/clubs/posts/{post.id}/photo/thumb").status_code == 404
    assert client.get(f"/clubs/{w['a'].id}").status_code == 404  # staff: the studio
    client.post("/logout")
    assert client.get(f"/clubs/posts/{post.id}/photo/full").status_code == 302  # sign in


def test_a_post_page_shows_no_child_data_and_no_email(client, session, club_world, login_as):
    w = club_world
    post = write(session, w["anna"], w["a"], "Anyone else awake at 3am?")
    posts.create_comment(session, w["ben"], post, "Every night!", daily_cap=100)
    session.commit()
    login_as(w["ben"])
    for url in (f"/clubs/posts/{post.id}", f"/clubs/{w['a'].id}", "/clubs"):
        page = client.get(url).get_data(as_text=True)
        child = w["anna_child"]
        for secret in (child.name, child.birth_date.isoformat(), "2026年8月14日",
                       "Aug 14, 2026", "August 14", w["anna"].email, w["ben"].email):
            assert secret not in page, (url, secret)
    page = client.get(f"/clubs/posts/{post.id}").get_data(as_text=True)
    assert w["anna"].display_name in page and "Anyone else awake at 3am?" in page


def test_staff_have_no_parent_club_pages(client, session, club_world, login_as):
    login_as(club_world["admin"])
    assert client.get("/clubs").status_code == 404


# --- writing ---------------------------------------------------------------------------------

XSS = ['<script>alert("x")</script>', '<img src=x onerror=alert(1)>',
       '[click](javascript:alert(1))', '<a href="https://e.example" onclick="x()">a</a>',
       '"><svg onload=alert(1)>']


def test_xss_in_posts_comments_and_display_names_is_escaped_or_stripped(
        client, session, club_world, login_as):
    w = club_world
    w["anna"].display_name = '<script>alert("name")</script>'
    session.commit()
    login_as(w["anna"])
    for payload in XSS:
        assert client.post(f"/clubs/{w['a'].id}/posts",
                           data={"body": payload + " [link](https://ok.example)"}
                           ).status_code == 302
    post = session.scalars(select(ClubPost).order_by(ClubPost.id.desc())).first()
    for payload in XSS:
        assert client.post(f"/clubs/posts/{post.id}/comments", data={"body": payload}
                           ).status_code == 302
    login_as(w["ben"])
    for url in (f"/clubs/{w['a'].id}", f"/clubs/posts/{post.id}"):
        page = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in page
        assert "onerror=" not in page.replace("onerror=alert(1)&gt;", "")
        assert "<img src=x" not in page and "<svg" not in page
        assert 'href="javascript:' not in page and ' onclick="x()">' not in page
        assert "&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;" in page
        assert '<a href="https://ok.example" rel="nofollow ugc noopener">link</a>' in page
    # the moderators' queue shows the same safe text
    post.status = "held"
    session.commit()
    login_as(w["mod_a"])
    page = client.get("/studio/clubs/queue").get_data(as_text=True)
    assert "<script>alert" not in page and "<img src=x" not in page


def test_a_comment_is_added_and_empty_or_long_text_is_refused(client, session, club_world,
                                                              login_as):
    w = club_world
    post = write(session, w["anna"], w["a"])
    login_as(w["ben"])
    assert client.post(f"/clubs/posts/{post.id}/comments", data={"body": "  "}
                       ).status_code == 400
    assert client.post(f"/clubs/posts/{post.id}/comments", data={"body": "x" * 2001}
                       ).status_code == 400
    assert client.post(f"/clubs/{w['a'].id}/posts", data={"body": "x" * 5001}
                       ).status_code == 400
    response = client.post(f"/clubs/posts/{post.id}/comments", data={"body": "Same here"})
    assert response.status_code == 302
    assert count(session, ClubComment) == 1
    assert "Same here" in client.get(f"/clubs/posts/{post.id}").get_data(as_text=True)
    # anna sees a report form for ben's comment, not for her own post (she may delete it)
    login_as(w["anna"])
    page = client.get(f"/clubs/posts/{post.id}").get_data(as_text=True)
    comment = session.scalar(select(ClubComment))
    assert f'action="/clubs/posts/{post.id}/comments/{comment.id}/report"' in page
    assert "Report this comment" in page and "Report this post" not in page
    assert f'action="/clubs/posts/{post.id}/delete"' in page
    login_as(w["ben"])  # and ben, the other way round
    page = client.get(f"/clubs/posts/{post.id}").get_data(as_text=True)
    assert f'action="/clubs/posts/{post.id}/report"' in page
    assert "Report this post" in page and "Report this comment" not in page


def test_a_post_page_with_several_report_forms_keeps_its_ids_unique(client, session, club_world,
                                                                     login_as):
    w = club_world
    post = write(session, w["anna"], w["a"])
    login_as(w["anna"])
    for body in ("First", "Second"):
        assert client.post(f"/clubs/posts/{post.id}/comments", data={"body": body}
                           ).status_code == 302
    login_as(w["ben"])  # ben reports the post or either of anna's comments: three forms
    page = client.get(f"/clubs/posts/{post.id}").get_data(as_text=True)
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    comments = session.scalars(select(ClubComment).order_by(ClubComment.id)).all()
    for prefix in ["reason-post"] + [f"reason-comment-{c.id}" for c in comments]:
        assert f'for="{prefix}"' in page and f'id="{prefix}"' in page


def test_a_post_that_is_not_a_photo_is_refused_and_leaves_no_file(client, session, club_world,
                                                                  login_as, app):
    w = club_world
    login_as(w["anna"])
    response = client.post(f"/clubs/{w['a'].id}/posts", data={
        "body": "Look", "photo": (io.BytesIO(b"%PDF-1.4 not a photo"), "x.png")},
        content_type="multipart/form-data")
    assert response.status_code == 400
    assert "not a photo we can read" in response.get_data(as_text=True)
    assert count(session, ClubPost) == 0
    from pathlib import Path
    assert not list(Path(app.config["UPLOAD_DIR"]).rglob("*.jpg"))


def test_authors_delete_their_own_posts_only(client, session, club_world, login_as, app):
    w = club_world
    mine = write(session, w["anna"], w["a"])
    login_as(w["ben"])
    assert client.post(f"/clubs/posts/{mine.id}/delete").status_code == 404
    login_as(w["anna"])
    assert client.post(f"/clubs/posts/{mine.id}/delete").status_code == 302
    assert count(session, ClubPost) == 0


# --- likes -----------------------------------------------------------------------------------

def test_a_like_is_one_per_person_and_toggles(client, session, club_world, login_as):
    w = club_world
    post = write(session, w["anna"], w["a"])
    login_as(w["ben"])
    assert client.post(f"/clubs/posts/{post.id}/like").status_code == 302
    assert count(session, ClubLike, ClubLike.post_id == post.id) == 1
    assert "♥ Like · 1" in client.get(f"/clubs/posts/{post.id}").get_data(as_text=True)
    assert client.post(f"/clubs/posts/{post.id}/like").status_code == 302
    assert count(session, ClubLike, ClubLike.post_id == post.id) == 0


def test_two_likes_at_once_count_once(session, club_world):
    """The second of two simultaneous likes finds the unique key taken: still one like."""
    w = club_world
    post = write(session, w["anna"], w["a"])
    session.add(ClubLike(post_id=post.id, user_id=w["ben"].id))  # the other request's row
    session.flush()
    from sqlalchemy.exc import IntegrityError
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(ClubLike(post_id=post.id, user_id=w["ben"].id))
    assert posts.like_count(session, post) == 1


# --- the word filter -------------------------------------------------------------------------

def test_a_post_with_a_blocked_word_is_held_not_published(client, session, club_world,
                                                          login_as, monkeypatch):
    w = club_world
    published = []
    monkeypatch.setattr("webapp.community_glue.post_published",
                        lambda s, post: published.append(post.id))
    login_as(w["mod_a"])
    assert client.post("/studio/clubs/words", data={"word": "Miracle Cure"}).status_code == 302
    assert client.post("/studio/clubs/words", data={"word": "代购"}).status_code == 302
    assert client.post("/studio/clubs/words", data={"word": "miracle cure"}).status_code == 400
    login_as(w["anna"])
    client.post(f"/clubs/{w['a'].id}/posts", data={"body": "Try this MIRACLE  cure now"})
    client.post(f"/clubs/{w['a'].id}/posts", data={"body": "专业代购奶粉"})
    client.post(f"/clubs/{w['a'].id}/posts", data={"body": "miraculous curettes"})  # not it
    rows = session.scalars(select(ClubPost).order_by(ClubPost.id)).all()
    assert [r.status for r in rows] == ["held", "held", "published"]
    assert rows[0].held_reason == "word filter: miracle cure"
    assert [r.published_at is None for r in rows] == [True, True, False]
    assert published == [rows[2].id]
    held = rows[0]
    assert "Waiting for a moderator" in client.get(f"/clubs/posts/{held.id}").get_data(
        as_text=True)  # the author sees their own held post
    login_as(w["ben"])
    assert client.get(f"/clubs/posts/{held.id}").status_code == 404
    assert "MIRACLE" not in client.get(f"/clubs/{w['a'].id}").get_data(as_text=True)
    login_as(w["mod_a"])
    assert "MIRACLE" in client.get("/studio/clubs/queue").get_data(as_text=True)
    assert client.post(f"/studio/clubs/posts/{held.id}/restore").status_code == 302
    assert published == [rows[2].id, held.id]  # points once, when first published
    login_as(w["ben"])
    assert client.get(f"/clubs/posts/{held.id}").status_code == 200


def test_a_comment_with_a_blocked_word_is_held(session, club_world):
    w = club_world
    moderation.add_word(session, w["admin"], "spam")
    post = write(session, w["anna"], w["a"])
    comment = posts.create_comment(session, w["ben"], post, "buy SPAM!", daily_cap=100)
    assert comment.status == "held"
    assert posts.comments_for(session, w["anna"], post) == []
    assert posts.comments_for(session, w["ben"], post) == [comment]


def test_the_word_filter_page_is_for_moderators_and_admins(client, session, club_world,
                                                           make_family, login_as):
    parent, _ = make_family()
    login_as(parent)
    assert client.get("/studio/clubs/words").status_code == 404
    login_as(make_staff(session, "marketer"))
    assert client.get("/studio/clubs/words").status_code == 403
    login_as(club_world["admin"])
    client.post("/studio/clubs/words", data={"word": "scam"})
    word = moderation.words(session)[0]
    assert client.post(f"/studio/clubs/words/{word.id}/delete").status_code == 302
    assert moderation.words(session) == []
    assert [a.action for a in session.scalars(select(ModerationAction).order_by(
        ModerationAction.id))][-2:] == ["word_add", "word_remove"]


# --- moderation ------------------------------------------------------------------------------

def test_a_hidden_post_is_invisible_to_members_but_in_the_queue(client, session, club_world,
                                                                login_as):
    w = club_world
    post = write(session, w["anna"], w["a"], "Rude words here")
    points.award(session, w["anna"], "club_post", f"club_post:{post.id}", now=utcnow())
    session.commit()  # what publishing it on the site gave
    login_as(w["ben"])
    assert client.post(f"/clubs/posts/{post.id}/report", data={"reason": "  Rude  "}
                       ).status_code == 302
    report = session.scalar(select(ClubReport))
    assert (report.reason, report.resolved_at) == ("Rude", None)
    login_as(w["mod_a"])
    queue = client.get("/studio/clubs/queue").get_data(as_text=True)
    assert "Rude words here" in queue and "reported: Rude" in queue
    assert client.post(f"/studio/clubs/posts/{post.id}/hide", data={"note": "insults"}
                       ).status_code == 302
    session.expire_all()
    assert post.status == "hidden" and report.resolved_by_id == w["mod_a"].id
    assert points.balance(session, w["anna"]) == 0  # hiding took the post's points back
    assert "Rude words here" not in client.get("/studio/clubs/queue").get_data(as_text=True)
    assert "Rude words here" in client.get("/studio/clubs/queue?show=hidden").get_data(
        as_text=True)
    for member in (w["ben"], w["anna"]):  # the author too
        login_as(member)
        assert client.get(f"/clubs/posts/{post.id}").status_code == 404
        assert "Rude words here" not in client.get(f"/clubs/{w['a'].id}").get_data(
            as_text=True)
        assert client.post(f"/clubs/posts/{post.id}/like").status_code == 404
    action = session.scalars(select(ModerationAction).where(
        ModerationAction.action == "hide")).one()
    assert (action.staff_user_id, action.staff_member_no, action.club_id, action.post_id,
            action.subject_member_no, action.note) == (
        w["mod_a"].id, w["mod_a"].member_no, w["a"].id, post.id, w["anna"].member_no,
        "insults")
    assert action.at is not None
    # restore: back for everyone
    login_as(w["mod_a"])
    assert client.post(f"/studio/clubs/posts/{post.id}/restore").status_code == 302
    session.expire_all()
    assert points.balance(session, w["anna"]) == 5  # and restoring gave them back, once
    assert client.post(f"/studio/clubs/posts/{post.id}/restore").status_code == 302
    assert points.balance(session, w["anna"]) == 5
    login_as(w["ben"])
    assert client.get(f"/clubs/posts/{post.id}").status_code == 200


def test_the_moderation_log_cannot_be_changed(session, club_world):
    w = club_world
    post = write(session, w["anna"], w["a"])
    moderation.hide(session, w["mod_a"], post)
    session.flush()
    action = session.scalars(select(ModerationAction).where(
        ModerationAction.action == "hide")).one()
    action.note = "changed"
    from community.models import AppendOnly
    with pytest.raises(AppendOnly):
        session.flush()
    session.rollback()


def test_a_moderator_of_club_a_cannot_see_or_act_on_club_b(client, session, club_world,
                                                           login_as):
    w = club_world
    post_b = write(session, w["cara"], w["b"], "Club B business")
    comment_b = posts.create_comment(session, w["cara"], post_b, "B comment", daily_cap=100)
    posts.report(session, w["cara"], post_b, "test", comment_b)
    post_b.status = "held"
    session.commit()
    login_as(w["mod_a"])
    assert "Club B business" not in client.get("/studio/clubs/queue").get_data(as_text=True)
    for url in (f"/studio/clubs/posts/{post_b.id}/hide",
                f"/studio/clubs/posts/{post_b.id}/restore",
                f"/studio/clubs/comments/{comment_b.id}/hide",
                f"/studio/clubs/comments/{comment_b.id}/restore"):
        assert client.post(url).status_code == 404, url
    until = (date(2026, 11, 23) + timedelta(days=7)).isoformat()
    assert client.post(f"/studio/clubs/posts/{post_b.id}/ban",
                       data={"scope": "club", "until": until}).status_code == 404
    session.expire_all()
    assert post_b.status == "held" and comment_b.status == "published"
    assert count(session, ClubBan) == 0
    assert count(session, ModerationAction, ModerationAction.club_id == w["b"].id) == 1  # assign
    # ... and the moderators' admin pages are the admin's
    assert client.get("/studio/clubs/moderators").status_code == 403
    assert client.get("/studio/clubs/groups").status_code == 403
    login_as(w["mod_b"])
    assert "Club B business" in client.get("/studio/clubs/queue").get_data(as_text=True)
    login_as(w["admin"])
    page = client.get("/studio/clubs/queue").get_data(as_text=True)
    assert "Club B business" in page and "B comment" in page


def test_a_banned_member_cannot_post_or_comment(client, session, club_world, login_as):
    w = club_world
    post = write(session, w["ben"], w["a"])
    login_as(w["mod_a"])
    until = (date(2026, 11, 23) + timedelta(days=7)).isoformat()
    response = client.post(f"/studio/clubs/posts/{post.id}/ban",
                           data={"scope": "club", "until": until, "reason": "spam"})
    assert response.status_code == 302
    # a moderator cannot ban from every club; nor ban into the past
    assert client.post(f"/studio/clubs/posts/{post.id}/ban",
                       data={"scope": "all", "until": until}).status_code == 403
    assert client.post(f"/studio/clubs/posts/{post.id}/ban",
                       data={"scope": "club", "until": "2026-11-01"}).status_code == 400
    ban = session.scalars(select(ClubBan)).one()
    assert (ban.user_id, ban.club_id, ban.reason) == (w["ben"].id, w["a"].id, "spam")
    login_as(w["ben"])
    before = count(session, ClubPost)
    response = client.post(f"/clubs/{w['a'].id}/posts", data={"body": "still here"})
    assert response.status_code == 403
    assert "cannot post in this club" in response.get_data(as_text=True)
    assert client.post(f"/clubs/posts/{post.id}/comments", data={"body": "x"}
                       ).status_code == 403
    assert count(session, ClubPost) == before and count(session, ClubComment) == 0
    assert "You cannot post in this club until" in client.get(
        f"/clubs/{w['a'].id}").get_data(as_text=True)
    # other clubs are fine; an admin's ban from every club stops those too
    sleep = clubs.ensure_topic_groups(session)[0]
    clubs.join(session, w["ben"], sleep)
    session.commit()
    assert client.post(f"/clubs/{sleep.id}/posts", data={"body": "sleep?"}).status_code == 302
    login_as(w["admin"])
    assert client.post(f"/studio/clubs/posts/{post.id}/ban",
                       data={"scope": "all", "until": until}).status_code == 302
    login_as(w["ben"])
    assert client.post(f"/clubs/{sleep.id}/posts", data={"body": "again"}).status_code == 403


def test_a_ban_ends_on_its_date(session, club_world, clock_at):
    w = club_world
    moderation.ban(session, w["mod_a"], w["ben"], w["a"],
                   until=posts.utcnow() + timedelta(days=1))
    session.commit()
    with pytest.raises(posts.Banned):
        posts.create_post(session, w["ben"], w["a"], "hi", None, daily_cap=100)
    clock_at("2026-11-24T05:00")
    assert posts.create_post(session, w["ben"], w["a"], "hi", None, daily_cap=100).id


def test_the_admin_assigns_moderators_and_opens_topic_groups(client, session, club_world,
                                                             login_as):
    w = club_world
    login_as(w["admin"])
    assert client.get("/studio/clubs/moderators").status_code == 200
    assert client.post("/studio/clubs/moderators", data={
        "user_id": w["mod_a"].id, "club_id": w["b"].id}).status_code == 302
    assert moderation.can_moderate(session, w["mod_a"], w["b"].id)
    assert client.post("/studio/clubs/moderators", data={
        "user_id": w["anna"].id, "club_id": w["b"].id}).status_code == 400  # not a moderator
    assert client.post("/studio/clubs/groups", data={
        "slug": "twins", "name_en": "Twins", "name_zh": "双胞胎"}).status_code == 302
    assert client.post("/studio/clubs/groups", data={
        "slug": "twins", "name_en": "Twins", "name_zh": "双胞胎"}).status_code == 400
    assert client.post("/studio/clubs/groups", data={
        "slug": "<b>", "name_en": "X", "name_zh": "X"}).status_code == 400
    assert session.scalar(select(Club).where(Club.slug == "twins")).name_zh == "双胞胎"


def test_an_assignment_of_someone_no_longer_a_moderator_is_marked(client, session, club_world,
                                                                  login_as):
    """The role, not the assignment, gives access: a moderator whose role went keeps the row
    (it comes back into force if the role does), and the admin sees that it gives no access,
    beside the Remove button."""
    from diary import accounts

    w = club_world
    w["mod_a"].display_name, w["mod_b"].display_name = "Still Mod", "Former Mod"
    accounts.set_staff_role(session, w["mod_b"], None)
    session.commit()
    assert not moderation.can_moderate(session, w["mod_b"], w["b"].id)
    login_as(w["admin"])
    page = client.get("/studio/clubs/moderators").get_data(as_text=True)
    rows = {name: row for row in page.split('<li class="list-group-item')[1:]
            for name in ("Still Mod", "Former Mod") if name in row}
    assert "gives no access" in rows["Former Mod"] and "/remove" in rows["Former Mod"]
    assert "gives no access" not in rows["Still Mod"]


def test_a_moderator_starts_in_the_queue(client, session, club_world, login_as):
    response = client.post("/login", data={"email": club_world["mod_a"].email,
                                           "password": PASSWORD})
    assert response.headers["Location"].endswith("/studio/clubs/queue")
    assert client.get("/studio").headers["Location"].endswith("/studio/clubs/queue")


# --- limits ----------------------------------------------------------------------------------

class TestRateLimits:
    @pytest.fixture()
    def app_overrides(self):
        return {"RATELIMIT_ENABLED": True, "CLUB_POST_RATE_LIMIT": "2 per minute",
                "ALLOW_PER_WORKER_RATE_LIMITS": True}

    def test_the_third_post_in_a_minute_is_429_with_a_message(self, client, session,
                                                              club_world, login_as):
        w = club_world
        login_as(w["anna"])
        codes = [client.post(f"/clubs/{w['a'].id}/posts", data={"body": f"p{i}"}).status_code
                 for i in range(3)]
        assert codes == [302, 302, 429]
        response = client.post(f"/clubs/{w['a'].id}/posts", data={"body": "again"})
        assert "Please wait a minute before trying again." in response.get_data(as_text=True)
        assert count(session, ClubPost) == 2
        login_as(w["ben"])  # counted per account
        assert client.post(f"/clubs/{w['a'].id}/posts", data={"body": "b"}).status_code == 302


class TestDailyCap:
    @pytest.fixture()
    def app_overrides(self):
        return {"CLUB_DAILY_POST_CAP": 3}

    def test_posts_and_comments_over_the_daily_cap_are_429(self, client, session, club_world,
                                                           login_as, clock_at):
        w = club_world
        login_as(w["anna"])
        assert client.post(f"/clubs/{w['a'].id}/posts", data={"body": "1"}).status_code == 302
        post = session.scalar(select(ClubPost))
        assert client.post(f"/clubs/posts/{post.id}/comments", data={"body": "2"}
                           ).status_code == 302
        assert client.post(f"/clubs/{w['a'].id}/posts", data={"body": "3"}).status_code == 302
        response = client.post(f"/clubs/{w['a'].id}/posts", data={"body": "4"})
        assert response.status_code == 429
        assert "You have posted 3 times in the last 24 hours" in response.get_data(
            as_text=True)
        assert client.post(f"/clubs/posts/{post.id}/comments", data={"body": "5"}
                           ).status_code == 429
        assert count(session, ClubPost) == 2 and count(session, ClubComment) == 1
        clock_at("2026-11-24T04:01")
        assert client.post(f"/clubs/{w['a'].id}/posts", data={"body": "6"}).status_code == 302


class TestCsrf:
    @pytest.fixture()
    def app_overrides(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_every_club_form_needs_its_token(self, app, session, club_world):
        w = club_world
        post = write(session, w["anna"], w["a"])
        comment = posts.create_comment(session, w["anna"], post, "c", daily_cap=100)
        session.commit()

        def sign_in(user):
            client = app.test_client()
            page = client.get("/login").get_data(as_text=True)
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
            token = token or re.search(r'name="csrf_token" value="([^"]+)"', page)
            assert client.post("/login", data={"email": user.email, "password": PASSWORD,
                                               "csrf_token": token.group(1)}
                               ).status_code == 302
            return client

        before = {m: count(session, m) for m in (ClubPost, ClubComment, ClubLike, ClubReport,
                                                 ClubMember, ClubBan)}
        client = sign_in(w["ben"])
        for url, data in ((f"/clubs/{w['a'].id}/posts", {"body": "x"}),
                          (f"/clubs/posts/{post.id}/comments", {"body": "x"}),
                          (f"/clubs/posts/{post.id}/like", {}),
                          (f"/clubs/posts/{post.id}/report", {"reason": "x"}),
                          (f"/clubs/posts/{post.id}/comments/{comment.id}/report",
                           {"reason": "x"}),
                          (f"/clubs/{w['b'].id}/join", {}),
                          (f"/clubs/{w['a'].id}/leave", {}),
                          ("/clubs/birth/2026-8/join", {})):
            assert client.post(url, data=data).status_code == 400, url
        client = sign_in(w["anna"])
        assert client.post(f"/clubs/posts/{post.id}/delete").status_code == 400
        client = sign_in(w["admin"])
        until = (date(2026, 11, 23) + timedelta(days=3)).isoformat()
        for url, data in ((f"/studio/clubs/posts/{post.id}/hide", {}),
                          (f"/studio/clubs/comments/{comment.id}/restore", {}),
                          (f"/studio/clubs/posts/{post.id}/ban",
                           {"scope": "club", "until": until}),
                          ("/studio/clubs/words", {"word": "x"}),
                          ("/studio/clubs/words/1/delete", {}),
                          ("/studio/clubs/groups", {"slug": "abc", "name_en": "A",
                                                    "name_zh": "A"}),
                          ("/studio/clubs/moderators", {"user_id": w["mod_a"].id,
                                                        "club_id": w["b"].id}),
                          ("/studio/clubs/moderators/1/remove", {})):
            assert client.post(url, data=data).status_code == 400, url
        assert {m: count(session, m) for m in before} == before
        session.expire_all()
        assert post.status == "published" and moderation.words(session) == []


# --- privacy ---------------------------------------------------------------------------------

def test_the_data_export_has_the_persons_club_activity(client, session, club_world, login_as):
    w = club_world
    mine = write(session, w["anna"], w["a"], "My post")
    other = write(session, w["ben"], w["a"], "Ben's post")
    posts.create_comment(session, w["anna"], other, "My comment", daily_cap=100)
    posts.toggle_like(session, w["anna"], other)
    posts.report(session, w["anna"], other, "Because")
    posts.create_comment(session, w["ben"], mine, "Ben's comment", daily_cap=100)
    session.commit()
    login_as(w["anna"])
    response = client.post("/account/export")
    assert response.status_code == 200
    document = json.loads(zipfile.ZipFile(io.BytesIO(response.data)).read("data.json"))
    assert [p["body"] for p in document["club_posts"]] == ["My post"]
    assert [c["body"] for c in document["club_comments"]] == ["My comment"]
    assert [like["post_id"] for like in document["club_likes"]] == [other.id]
    assert [r["reason"] for r in document["club_reports"]] == ["Because"]
    assert [m["club"] for m in document["club_memberships"]] == ["2026-08"]
    assert document["club_bans"] == []


def test_deleting_an_account_deletes_its_posts_and_photo_files(client, session, club_world,
                                                               login_as, app):
    w = club_world
    login_as(w["anna"])
    client.post(f"/clubs/{w['a'].id}/posts", data={
        "body": "With photo", "photo": (io.BytesIO(png_bytes()), "a.png")},
        content_type="multipart/form-data")
    post = session.scalar(select(ClubPost))
    path = app.extensions["photo_store"].path(post.photo_key)
    assert path.exists()
    other = write(session, w["ben"], w["a"], "Ben's")
    posts.create_comment(session, w["anna"], other, "Anna's comment", daily_cap=100)
    posts.create_comment(session, w["ben"], post, "Ben on Anna's post", daily_cap=100)
    posts.toggle_like(session, w["anna"], other)
    session.commit()
    assert client.post("/account/delete", data={"current_password": PASSWORD, "confirm": "y"}
                       ).status_code == 302
    assert not path.exists()
    assert count(session, ClubPost) == 1  # Ben's
    assert count(session, ClubComment) == 0  # Anna's, and Ben's under her post
    assert count(session, ClubLike) == 0
    assert count(session, ClubMember, ClubMember.club_id == w["a"].id) == 1
