"""Birth-club moderation: the queue, hide / restore / ban, the word filter (moderators, for
the clubs they are assigned to; admins for all), topic groups and moderator assignment
(admins). A moderator acting on a club they do not moderate gets 404: from their side it does
not exist. Every decision is logged by `community.moderation`."""
from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from community import clubs, moderation
from community.models import ClubComment, ClubPost
from diary.errors import DiaryError, NotFound, PermissionDenied
from diary.models import User
from webapp import community_glue
from webapp.blueprints.studio import MODERATORS
from webapp.blueprints.studio.clubs.forms import (
    AssignForm,
    BanForm,
    DecisionForm,
    GroupForm,
    WordForm,
)
from webapp.database import get_session, transaction
from webapp.forms_common import ConfirmForm, apply_error
from webapp.i18n import translate_error
from webapp.security import staff_required

bp = Blueprint("clubs", __name__)

ACTION_NAMES = {"hide": _l("hid"), "restore": _l("published"), "ban": _l("banned"),
                "word_add": _l("added a filtered word"),
                "word_remove": _l("removed a filtered word"), "assign": _l("assigned"),
                "unassign": _l("unassigned")}


def _queue_page(ban_form: BanForm | None = None, status: int = 200) -> Any:
    s = get_session()
    show = "hidden" if request.args.get("show") == "hidden" else "open"
    return render_template(
        "studio/clubs/queue.html", items=moderation.queue(s, current_user, show), show=show,
        decision=DecisionForm(), ban_form=ban_form or BanForm(),
        bans=moderation.bans(s, current_user), actions=moderation.actions(s, current_user),
        clubs_by_id={c.id: c for c in clubs.all_clubs(s)}, ACTION_NAMES=ACTION_NAMES,
        everywhere=moderation.moderated_club_ids(s, current_user) is None), status


@bp.route("/queue")
@staff_required(*MODERATORS)
def queue() -> Any:
    return _queue_page()


def _target(s: Any, kind: str, item_id: int) -> tuple[ClubPost, ClubComment | None]:
    if kind == "comments":
        comment = moderation.comment_for_moderator(s, current_user, item_id)
        return comment.post, comment
    return moderation.post_for_moderator(s, current_user, item_id), None


@bp.route("/<any(posts, comments):kind>/<int:item_id>/<any(hide, restore):action>",
          methods=["POST"])
@staff_required(*MODERATORS)
def decide(kind: str, item_id: int, action: str) -> Any:
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with transaction() as tx:
            post, comment = _target(tx, kind, item_id)
            if action == "hide":
                moderation.hide(tx, current_user, post, comment, form.note.data or "")
                if comment is None:  # a post hidden, not one of its comments
                    community_glue.post_removed(tx, post)
            elif moderation.restore(tx, current_user, post, comment, form.note.data or ""):
                community_glue.post_published(tx, post)
            elif comment is None:  # a hidden post back up: what hiding took is given back
                community_glue.post_restored(tx, post)
    except NotFound:
        abort(404)
    flash(gettext("Hidden.") if action == "hide" else gettext("Published."), "success")
    return redirect(url_for("studio.clubs.queue"))


@bp.route("/<any(posts, comments):kind>/<int:item_id>/ban", methods=["POST"])
@staff_required(*MODERATORS)
def ban(kind: str, item_id: int) -> Any:
    form = BanForm()
    if not form.validate_on_submit():
        return _queue_page(form, 400)
    until = datetime.combine(form.until.data, time(0),  # type: ignore[arg-type]
                             ZoneInfo(current_user.timezone))
    try:
        with transaction() as tx:
            post, comment = _target(tx, kind, item_id)
            person = (comment or post).author
            moderation.ban(tx, current_user, person,
                           None if form.scope.data == "all" else post.club, until,
                           form.reason.data or "")
    except NotFound:
        abort(404)
    except PermissionDenied as error:
        flash(translate_error(error), "danger")
        return _queue_page(form, 403)
    except DiaryError as error:
        apply_error(form, error)
        return _queue_page(form, 400)
    flash(gettext("%(name)s cannot post until %(date)s.", name=person.display_name,
                  date=form.until.data.isoformat()), "success")  # type: ignore[union-attr]
    return redirect(url_for("studio.clubs.queue"))


# --- the word filter -------------------------------------------------------------------------

@bp.route("/words", methods=["GET", "POST"])
@staff_required(*MODERATORS)
def words() -> Any:
    form = WordForm()
    status = 200
    if form.validate_on_submit():
        try:
            with transaction() as tx:
                moderation.add_word(tx, current_user, form.word.data or "")
        except DiaryError as error:
            apply_error(form, error)
        else:
            flash(gettext("Added to the word filter."), "success")
            return redirect(url_for("studio.clubs.words"))
    if request.method == "POST":
        status = 400
    return render_template("studio/clubs/words.html", form=form, confirm=ConfirmForm(),
                           words=moderation.words(get_session())), status


@bp.route("/words/<int:word_id>/delete", methods=["POST"])
@staff_required(*MODERATORS)
def delete_word(word_id: int) -> Any:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        with transaction() as tx:
            moderation.remove_word(tx, current_user, word_id)
    except NotFound:
        abort(404)
    flash(gettext("Removed from the word filter."), "success")
    return redirect(url_for("studio.clubs.words"))


# --- topic groups and moderators (admins) ----------------------------------------------------

@bp.route("/groups", methods=["GET", "POST"])
@staff_required("admin")
def groups() -> Any:
    form = GroupForm()
    if form.validate_on_submit():
        try:
            with transaction() as tx:
                clubs.create_topic_group(tx, current_user, clubs.GroupInput(
                    form.slug.data or "", form.name_en.data or "", form.name_zh.data or "",
                    form.description_en.data or "", form.description_zh.data or ""))
        except DiaryError as error:
            apply_error(form, error)
        else:
            flash(gettext("The group is open."), "success")
            return redirect(url_for("studio.clubs.groups"))
    s = get_session()
    every = clubs.all_clubs(s)
    return render_template("studio/clubs/groups.html", form=form, clubs=every,
                           counts=clubs.member_counts(s, [c.id for c in every])
                           ), 400 if request.method == "POST" else 200


@bp.route("/moderators", methods=["GET", "POST"])
@staff_required("admin")
def moderators() -> Any:
    s = get_session()
    form = AssignForm()
    people = moderation.moderators(s)
    form.user_id.choices = [(u.id, f"{u.display_name} ({u.member_no})") for u in people]
    form.club_id.choices = [(c.id, _club_label(c)) for c in clubs.all_clubs(s)]
    if form.validate_on_submit():
        try:
            with transaction() as tx:
                moderator = tx.get(User, form.user_id.data)
                club = clubs.get_club(tx, form.club_id.data)  # type: ignore[arg-type]
                if moderator is None:
                    abort(400)
                moderation.assign(tx, current_user, moderator, club)
        except DiaryError as error:
            apply_error(form, error)
        else:
            flash(gettext("Assigned."), "success")
            return redirect(url_for("studio.clubs.moderators"))
    return render_template("studio/clubs/moderators.html", form=form, confirm=ConfirmForm(),
                           assignments=moderation.assignments(s),
                           ), 400 if request.method == "POST" else 200


def _club_label(club: Any) -> str:
    from webapp.blueprints.clubs.routes import club_name
    return club_name(club)


@bp.route("/moderators/<int:assignment_id>/remove", methods=["POST"])
@staff_required("admin")
def unassign(assignment_id: int) -> Any:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        with transaction() as tx:
            moderation.unassign(tx, current_user, assignment_id)
    except NotFound:
        abort(404)
    flash(gettext("No longer assigned."), "success")
    return redirect(url_for("studio.clubs.moderators"))
