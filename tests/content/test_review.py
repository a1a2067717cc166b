"""Review cannot be bypassed: publishing names the reviewed version, nobody approves their
own edit, an admin override needs a reason and is recorded, imports follow the same rules."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from clock import utcnow
from content import authoring, packs, workflow
from content.authoring import ItemInput, TextInput
from content.errors import PermissionDenied, StaleVersion, ValidationError
from content.models import ContentItem, Publication, Version
from diary import accounts
from diary.photos import PhotoStore
from tests.conftest import PASSWORD


def staff(session, role, name):
    user = accounts.create_staff(session, f"{name.lower()}@example.com", PASSWORD, role, name)
    session.flush()
    return user


@pytest.fixture()
def people(session):
    return {"mia": staff(session, "marketer", "Mia"), "rui": staff(session, "reviewer", "Rui"),
            "rex": staff(session, "reviewer", "Rex"), "ada": staff(session, "admin", "Ada")}


def article(title="Sleep", key="sleep-basics"):
    return ItemInput(kind="article", key=key, window_unit="week", window_from=0, window_to=4,
                     topics=["sleep"], translations={"en": TextInput(title, "s", "body"),
                                                     "zh_CN": TextInput("睡眠", "s", "正文")})


def live_item(session, people):
    """Version 1 by Mia, approved by Rui: what families see."""
    item = authoring.create(session, article(), people["mia"])
    workflow.publish(session, item, people["rui"], True, version=1)
    return item


def edit(session, item, user, title):
    return authoring.save(session, item, article(title), user, review_required=True).number


def publications(session, item):
    return list(session.scalars(select(Publication).where(Publication.item_id == item.id)
                                .order_by(Publication.id)))


# --- the attack: a newer version than the one reviewed ------------------------------------

def test_a_draft_changed_after_review_is_not_published(session, people):
    item = authoring.create(session, article(), people["mia"])
    workflow.submit(item, people["mia"])
    shown = workflow.under_review(session, item).version  # the reviewer opens version 1
    assert shown == 1
    edit(session, item, people["mia"], "Sleep, now with something unreviewed")
    with pytest.raises(StaleVersion) as caught:
        workflow.publish(session, item, people["rui"], True, version=shown)
    assert str(caught.value) == ("This item changed since you opened it (version 2 by Mia). "
                                 "Review the new version before publishing.")
    assert (caught.value.reviewed, caught.value.current) == (1, 2)
    assert item.status == "in_review" and publications(session, item) == []
    workflow.publish(session, item, people["rui"], True, version=2)  # after looking again
    assert item.status == "published" and item.version == 2


def test_a_waiting_edit_replaced_after_review_is_not_published(session, people):
    item = live_item(session, people)
    edit(session, item, people["mia"], "Safe sleep")  # v2 waits
    shown = workflow.under_review(session, item).version
    assert shown == 2
    edit(session, item, people["mia"], "Safe sleep — and a sneaky link")  # v3 replaces it
    for at in (None, utcnow() + timedelta(days=2)):  # publish now, or schedule
        with pytest.raises(StaleVersion):
            workflow.publish(session, item, people["rui"], True, version=shown, at=at)
        assert item.text("en").title == "Sleep" and item.version == 1 and item.pending_review
        assert item.publish_at is None
    workflow.publish(session, item, people["rui"], True, version=3)
    assert item.text("en").title == "Safe sleep — and a sneaky link"


def test_a_scheduled_approval_of_a_changed_draft_is_refused(session, people):
    item = authoring.create(session, article(), people["mia"])
    edit(session, item, people["mia"], "Changed")
    with pytest.raises(StaleVersion):
        workflow.publish(session, item, people["rui"], True, version=1,
                         at=utcnow() + timedelta(days=1))
    assert item.status == "draft" and item.publish_at is None


@pytest.mark.parametrize("version", [0, -1, 3, 2**31 - 1])
def test_a_version_that_does_not_exist_is_a_validation_error(session, people, version):
    item = authoring.create(session, article(), people["mia"])
    edit(session, item, people["mia"], "Two")
    with pytest.raises(ValidationError) as caught:
        workflow.publish(session, item, people["rui"], True, version=version)
    assert caught.value.field == "version" and not isinstance(caught.value, StaleVersion)
    assert item.status == "draft"


# --- nobody approves their own edit --------------------------------------------------------

def test_a_reviewer_cannot_publish_their_own_draft(session, people):
    item = authoring.create(session, article(), people["rui"])
    review = workflow.under_review(session, item)
    assert review.authors == (people["rui"].id,)
    assert workflow.refusal(review, people["rui"], True) == workflow.OWN_EDIT
    with pytest.raises(PermissionDenied) as caught:
        workflow.publish(session, item, people["rui"], True, version=1)
    assert str(caught.value) == ("You wrote or changed this version, so another reviewer "
                                 "must approve it.")
    assert item.status == "draft"
    workflow.publish(session, item, people["rex"], True, version=1)
    [row] = publications(session, item)
    assert (row.version, row.mode, row.published_by_id, row.published_by_name, row.reason) \
        == (1, "review", people["rex"].id, "Rex", "")


def test_co_writing_counts_as_own(session, people):
    """Rui changed one version of Mia's draft: Rui wrote part of what would go live."""
    item = authoring.create(session, article(), people["mia"])
    edit(session, item, people["rui"], "Rui's sentence")
    edit(session, item, people["mia"], "Mia again")
    assert set(workflow.under_review(session, item).authors) == {people["mia"].id,
                                                                  people["rui"].id}
    with pytest.raises(PermissionDenied):
        workflow.publish(session, item, people["rui"], True, version=3)
    workflow.publish(session, item, people["rex"], True, version=3)
    assert item.text("en").title == "Mia again"


def test_only_versions_since_the_last_approval_count(session, people):
    """Rui wrote version 1 long ago (approved by Rex); Mia's waiting edit is Rui's to
    review. Sending an edit back saves the live text again: that is not authorship."""
    item = authoring.create(session, article(), people["rui"])
    workflow.publish(session, item, people["rex"], True, version=1)
    edit(session, item, people["mia"], "Mia's edit")
    workflow.reject(session, item, people["rui"], True)  # v3 = the live text, by Rui
    edit(session, item, people["mia"], "Mia tries again")  # v4
    review = workflow.under_review(session, item)
    assert (review.since, review.version, review.authors) == (3, 4, (people["mia"].id,))
    workflow.publish(session, item, people["rui"], True, version=4)
    assert item.text("en").title == "Mia tries again"


def test_reviewers_edits_to_live_content_wait_like_everyone_elses(session, people):
    item = live_item(session, people)
    edit(session, item, people["rui"], "Rui's quick fix")
    assert item.pending_review and item.text("en").title == "Sleep"
    with pytest.raises(PermissionDenied):
        workflow.publish(session, item, people["rui"], True, version=2)
    authoring.revert(session, item, 1, people["rex"], review_required=True)  # v3 waits too
    assert item.pending_review and item.version == 1
    with pytest.raises(PermissionDenied):  # Rex reverted: his own edit now
        workflow.publish(session, item, people["rex"], True, version=3)
    with pytest.raises(PermissionDenied):  # Rui wrote v2, still in what goes live
        workflow.publish(session, item, people["rui"], True, version=3)


def test_an_archived_and_restored_item_counts_from_its_last_approval(session, people):
    item = authoring.create(session, article(), people["rui"])
    workflow.publish(session, item, people["rex"], True, version=1)
    workflow.archive(item, people["rex"], True)
    workflow.restore(item, people["mia"])
    assert workflow.under_review(session, item).authors == ()
    workflow.publish(session, item, people["rui"], True, version=1)  # unchanged: fine
    workflow.archive(item, people["rex"], True)
    workflow.restore(item, people["rui"])
    edit(session, item, people["rui"], "Rui while it was a draft")
    with pytest.raises(PermissionDenied):
        workflow.publish(session, item, people["rui"], True, version=2)


# --- admin override -------------------------------------------------------------------------

def test_an_admin_publishes_their_own_edit_only_with_a_reason(session, people):
    item = authoring.create(session, article(), people["ada"])
    review = workflow.under_review(session, item)
    assert workflow.refusal(review, people["ada"], True) is None
    assert workflow.needs_override(review, people["ada"], True)
    for reason, message in ((None, workflow.OVERRIDE_NEEDED), ("", workflow.NEEDS_REASON),
                            ("   \n ", workflow.NEEDS_REASON),
                            ("x" * 301, "Keep the reason under %(max)d characters.")):
        with pytest.raises(ValidationError) as caught:
            workflow.publish(session, item, people["ada"], True, version=1,
                             override_reason=reason)
        assert caught.value.message == message
        assert item.status == "draft" and publications(session, item) == []
    workflow.publish(session, item, people["ada"], True, version=1,
                     override_reason="  Urgent   safety fix ")
    [row] = publications(session, item)
    assert (row.version, row.mode, row.reason, row.published_by_id, row.published_by_name) \
        == (1, "override", "Urgent safety fix", people["ada"].id, "Ada")
    assert row.created_at is not None and row.live_from is not None


def test_a_reviewer_cannot_override(session, people):
    item = authoring.create(session, article(), people["rui"])
    assert not workflow.needs_override(workflow.under_review(session, item), people["rui"], True)
    with pytest.raises(PermissionDenied):
        workflow.publish(session, item, people["rui"], True, version=1,
                         override_reason="I am sure")
    assert item.status == "draft"


def test_an_admin_approving_someone_elses_edit_needs_no_override(session, people):
    item = authoring.create(session, article(), people["mia"])
    workflow.publish(session, item, people["ada"], True, version=1)
    assert publications(session, item)[0].mode == "review"


def test_an_override_still_names_the_version(session, people):
    item = authoring.create(session, article(), people["ada"])
    edit(session, item, people["mia"], "Mia changed it meanwhile")
    with pytest.raises(StaleVersion):
        workflow.publish(session, item, people["ada"], True, version=1, override_reason="Go")


# --- review off -----------------------------------------------------------------------------

def test_with_review_off_marketers_publish_alone_and_it_is_recorded(session, people):
    item = authoring.create(session, article(), people["mia"])
    workflow.publish(session, item, people["mia"], False, version=1)
    authoring.save(session, item, article("Straight to live"), people["mia"],
                   review_required=False)
    assert item.text("en").title == "Straight to live" and not item.pending_review
    rows = publications(session, item)
    assert [(r.version, r.mode, r.published_by_name) for r in rows] == [
        (1, "no_review", "Mia"), (2, "no_review", "Mia")]
    with pytest.raises(StaleVersion):  # still names the version it was shown
        workflow.publish(session, item, people["mia"], False, version=1)


# --- packs ----------------------------------------------------------------------------------

def _pack(folder, title, key="sleep-basics"):
    folder.mkdir(exist_ok=True)
    text = {"title": title, "summary": "s", "body": "body"}
    (folder / "articles.json").write_text(json.dumps([{
        "slug": key, "window": {"unit": "week", "from": 0, "to": 4}, "topics": ["sleep"],
        "translations": {"en": text, "zh_CN": {**text, "title": "睡眠"}}}]))
    return folder


def test_importing_without_publishing_never_changes_live_text(session, people, tmp_path):
    item = live_item(session, people)
    store = PhotoStore(tmp_path / "img")
    packs.import_pack(session, _pack(tmp_path / "p", "From the pack"), None, store,
                      publish=False)
    assert item.text("en").title == "Sleep" and item.pending_review and item.version == 1


def test_a_reviewer_cannot_publish_a_pack_they_import(session, people, tmp_path):
    item = live_item(session, people)
    store = PhotoStore(tmp_path / "img")
    folder = _pack(tmp_path / "p", "From the pack")
    with pytest.raises(PermissionDenied) as caught:
        packs.import_pack(session, folder, people["rui"], store, publish=True,
                          override_reason="reviewed")
    assert caught.value.message == workflow.OWN_IMPORT
    assert session.scalar(select(func.count(Version.id))) == 1
    # without publishing: the changes wait for a second reviewer
    new = _pack(tmp_path / "q", "Brand new", key="new-one")
    packs.import_pack(session, folder, people["rui"], store, publish=False)
    packs.import_pack(session, new, people["rui"], store, publish=False)
    fresh = authoring.find(session, "article", "new-one")
    assert fresh.status == "in_review" and fresh.submitted_by_id == people["rui"].id
    assert item.pending_review and item.submitted_by_id == people["rui"].id
    assert item.text("en").title == "Sleep"
    with pytest.raises(PermissionDenied):
        workflow.publish(session, item, people["rui"], True, version=2)
    workflow.publish(session, item, people["rex"], True, version=2)
    assert item.text("en").title == "From the pack"


def test_an_admin_publishes_an_import_with_a_reason_recorded_per_item(session, people,
                                                                      tmp_path):
    item = live_item(session, people)
    store = PhotoStore(tmp_path / "img")
    folder = _pack(tmp_path / "p", "From the pack")
    with pytest.raises(ValidationError):
        packs.import_pack(session, folder, people["ada"], store, publish=True,
                          override_reason="")
    packs.import_pack(session, folder, people["ada"], store, publish=True,
                      override_reason="Pack checked by the medical team")
    assert item.text("en").title == "From the pack"
    row = publications(session, item)[-1]
    assert (row.version, row.mode, row.reason, row.published_by_name) == (
        2, "override", "Pack checked by the medical team", "Ada")


def test_command_line_imports_are_recorded_as_the_system(session, people, tmp_path):
    store = PhotoStore(tmp_path / "img")
    packs.import_pack(session, _pack(tmp_path / "p", "Sleep"), None, store,
                      reason="Release 2026.12")
    item = session.scalar(select(ContentItem))
    [row] = publications(session, item)
    assert (row.mode, row.reason, row.published_by_id, row.version) == (
        "system", "Release 2026.12", None, 1)
