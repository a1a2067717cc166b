"""Family pages: babies (add, edit, arrived, remove) and caregivers (invite, roles)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from care import surveys
from clock import utcnow
from diary import families, invitations, privacy
from diary.errors import DiaryError, NotFound
from diary.models import Invitation
from journeys import engine as journeys
from webapp.blueprints.family.forms import (
    AddChildForm,
    ArrivedForm,
    InviteForm,
    RoleForm,
)
from webapp.database import get_session, transaction
from webapp.forms_common import ConfirmForm, apply_error
from webapp.i18n import translate_error
from webapp.rate_limits import limit, per_account
from webapp.services import photo_store

bp = Blueprint("family", __name__)


@bp.route("/family")
@login_required
def index() -> Any:
    memberships = families.memberships_of(get_session(), current_user)
    return render_template("family/index.html", memberships=memberships,
                           invite_form=InviteForm(), role_form=RoleForm(),
                           confirm_form=ConfirmForm())


@bp.route("/children/new", methods=["GET", "POST"])
@login_required
def add_child() -> Any:
    """Add a baby to a family the user owns (the first one), or start a new family."""
    s = get_session()
    owned = [m for m in families.memberships_of(s, current_user) if m.is_owner]
    form = AddChildForm()
    if form.validate_on_submit():
        try:
            with transaction() as tx:
                family = owned[0].family if owned else families.create_family(
                    tx, current_user, "mother")
                child = families.add_child(tx, family, form.child_details())
                journeys.start(tx, child, utcnow())
        except DiaryError as error:
            apply_error(form, error, AddChildForm.CHILD_FIELD_MAP)
        else:
            flash(gettext("%(name)s is added to your family.", name=child.name), "success")
            return redirect(url_for("diary.child_home", child_id=child.id))
    return render_template("family/child_form.html", form=form, child=None,
                           title=gettext("Add a baby")), 400 if form.errors else 200


@bp.route("/children/<int:child_id>/edit", methods=["GET", "POST"])
@login_required
def edit_child(child_id: int) -> Any:
    child = families.child_for(get_session(), current_user, child_id, write=True)
    form = AddChildForm()
    if request.method == "GET":
        form.fill_from_child(child)
    if form.validate_on_submit():
        try:
            with transaction() as tx:
                families.update_child(child, form.child_details())
                journeys.recheck(tx, child)  # new dates may mean a new stage
        except DiaryError as error:
            apply_error(form, error, AddChildForm.CHILD_FIELD_MAP)
        else:
            flash(gettext("Saved."), "success")
            return redirect(url_for("diary.child_home", child_id=child.id))
    return render_template("family/child_form.html", form=form, child=child,
                           title=gettext("Edit %(name)s", name=child.name)), \
        400 if form.errors else 200


@bp.route("/children/<int:child_id>/arrived", methods=["GET", "POST"])
@login_required
def arrived(child_id: int) -> Any:
    child = families.child_for(get_session(), current_user, child_id, write=True)
    if child.is_born:
        return redirect(url_for("diary.child_home", child_id=child.id))
    form = ArrivedForm()
    if request.method == "GET":
        form.fill_from_child(child)
    form.status.data = "born"
    if form.validate_on_submit():
        try:
            with transaction() as tx:
                families.record_birth(child, form.child_details())
                journeys.recheck(tx, child)  # the journey moves on to the baby stages now
                # two weeks on, the caregivers are asked how it is going (care.surveys)
                surveys.birth_recorded(tx, child.id, child.family_id)
        except DiaryError as error:
            apply_error(form, error, ArrivedForm.CHILD_FIELD_MAP)
        else:
            flash(gettext("Congratulations on the arrival of %(name)s!", name=child.name),
                  "success")
            return redirect(url_for("diary.child_home", child_id=child.id))
    return render_template("family/arrived.html", form=form, child=child), \
        400 if form.errors else 200


@bp.route("/children/<int:child_id>/delete", methods=["GET", "POST"])
@login_required
def delete_child(child_id: int) -> Any:
    s = get_session()
    child = families.child_for(s, current_user, child_id, write=True)
    families.family_for(s, current_user, child.family_id, owner=True)
    form = ConfirmForm()
    if form.validate_on_submit():
        name = child.name
        with transaction() as tx:
            keys = privacy.delete_child(tx, child)
        photo_store().delete(keys)
        flash(gettext("%(name)s's book is deleted.", name=name), "info")
        return redirect(url_for("family.index"))
    return render_template("family/delete_child.html", child=child, form=form)


@bp.route("/families/<int:family_id>/invitations", methods=["POST"])
@login_required
@limit("INVITE_RATE_LIMIT", key=per_account)
def invite(family_id: int) -> Any:
    s = get_session()
    family = families.family_for(s, current_user, family_id, owner=True).family
    form = InviteForm()
    if form.validate_on_submit():
        try:
            with transaction() as tx:
                invitation = invitations.invite(
                    tx, family, current_user, form.email.data or "", form.role.data or "",
                    form.relationship.data or "",
                    per_day=current_app.config["INVITATIONS_PER_FAMILY_PER_DAY"])
        except DiaryError as error:
            flash(translate_error(error), "danger")
        else:
            flash(gettext("Invitation sent to %(email)s.", email=invitation.email), "success")
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(message, "danger")
    return redirect(url_for("family.index"))


def _owned_invitation(invitation_id: int) -> Invitation:
    s = get_session()
    invitation = s.get(Invitation, invitation_id)
    if invitation is None:
        raise NotFound()
    families.family_for(s, current_user, invitation.family_id, owner=True)
    return invitation


@bp.route("/invitations/<int:invitation_id>/revoke", methods=["POST"])
@login_required
def revoke(invitation_id: int) -> Any:
    invitation = _owned_invitation(invitation_id)
    if ConfirmForm().validate_on_submit():
        with transaction():
            invitations.revoke(invitation)
        flash(gettext("Invitation withdrawn."), "info")
    return redirect(url_for("family.index"))


@bp.route("/families/<int:family_id>/members/<int:membership_id>/role", methods=["POST"])
@login_required
def change_role(family_id: int, membership_id: int) -> Any:
    s = get_session()
    family = families.family_for(s, current_user, family_id, owner=True).family
    membership = invitations.membership_by_id(s, family, membership_id)
    form = RoleForm()
    if form.validate_on_submit():
        try:
            with transaction() as tx:
                invitations.change_role(tx, membership, form.role.data or "")
        except DiaryError as error:
            flash(translate_error(error), "danger")
        else:
            flash(gettext("Role updated."), "success")
    return redirect(url_for("family.index"))


@bp.route("/families/<int:family_id>/members/<int:membership_id>/remove", methods=["POST"])
@login_required
def remove_member(family_id: int, membership_id: int) -> Any:
    """Owners remove anyone; anyone may remove themselves (leave the family)."""
    s = get_session()
    mine = families.family_for(s, current_user, family_id)
    membership = invitations.membership_by_id(s, mine.family, membership_id)
    if membership.id != mine.id and not mine.is_owner:
        families.family_for(s, current_user, family_id, owner=True)  # raises PermissionDenied
    if ConfirmForm().validate_on_submit():
        try:
            with transaction() as tx:
                invitations.remove_member(tx, membership)
        except DiaryError as error:
            flash(translate_error(error), "danger")
        else:
            flash(gettext("Done."), "info")
    return redirect(url_for("family.index") if membership.id != mine.id
                    else url_for("diary.dashboard"))
