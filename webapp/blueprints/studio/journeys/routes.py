"""Journeys in the studio: the list, a journey's flow view and its editors.

Thin views over `journeys.authoring`. Marketers and reviewers edit; analysts read the
list and the flow views; parents get a 404 everywhere.

Every edit form carries the journey's version. When someone else changed the journey in the
meantime (a step removed, say, so "step 2" means another step now), the edit is refused with
the form kept, instead of changing the wrong thing.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user
from flask_wtf import FlaskForm

from clock import utcnow
from content.stages import UNITS
from crm import segments
from crm.models import Segment
from diary.errors import N_, Conflict, DiaryError, NotFound, ValidationError
from journeys import authoring, results
from journeys.models import Journey, JourneyStage
from webapp.blueprints.studio import EDITORS, READERS
from webapp.blueprints.studio.content.forms import STATUS_NAMES
from webapp.blueprints.studio.journeys.forms import (
    CHANNEL_CHOICES,
    ENTRY_STAGE_CHOICES,
    GOAL_CHOICES,
    JourneySettingsForm,
    NewJourneyForm,
    NewStageForm,
    StageWindowForm,
    StepForm,
)
from webapp.content_format import UNIT_NAMES, window_text
from webapp.database import get_session, transaction
from webapp.forms_common import ConfirmForm, apply_error
from webapp.i18n import INTEREST_NAMES, join_list
from webapp.params import id_arg
from webapp.security import staff_required

bp = Blueprint("journeys", __name__)

OPEN_ALL_UP_TO = 12  # journeys with more stages show their groups collapsed


# --- words for the flow view -----------------------------------------------------------------

def _kind_count(kind: str, n: int) -> str:
    if kind == "article":
        return ngettext("%(num)d article", "%(num)d articles", n)
    if kind == "reminder":
        return ngettext("%(num)d reminder", "%(num)d reminders", n)
    return ngettext("%(num)d product", "%(num)d products", n)


def _and(parts: list[str]) -> str:
    return join_list(parts)


def step_text(step: dict[str, Any]) -> str:
    """"On entry: push 1 article to the inbox", "After 3 days: push 2 products to the inbox",
    "If interested in Skin care, after 1 day: push 2 articles to the inbox and by email"."""
    delay = int(step.get("delay_days") or 0)
    when = gettext("On entry") if delay == 0 else \
        ngettext("After %(num)d day", "After %(num)d days", delay)
    limit = int(step.get("limit") or 2)
    what = _and([_kind_count(k, limit) for k in step.get("push") or []]) or gettext("nothing")
    channels = step.get("channels") or ["inbox"]
    where = _and([gettext("to the inbox") if c == "inbox" else gettext("by email")
                  for c in channels])
    interest = step.get("when_interest")
    if interest:
        name = INTEREST_NAMES.get(interest, interest)
        return gettext("If interested in %(interest)s, %(when)s: push %(what)s %(where)s",
                       interest=str(name).lower(), when=when[:1].lower() + when[1:],
                       what=what, where=where)
    return gettext("%(when)s: push %(what)s %(where)s", when=when, what=what, where=where)


def entry_text(rule: dict[str, Any] | None) -> str:
    rule = rule or {}
    segment_text = None
    if rule.get("segment"):
        found = get_session().get(Segment, rule["segment"])
        segment_text = gettext("in the segment “%(name)s”", name=found.name) if found \
            else gettext("in a segment that was deleted (nobody enters)")
    parts = [str(dict(ENTRY_STAGE_CHOICES).get(rule.get("stage") or "any", rule.get("stage")))]
    if rule.get("interests"):
        parts.append(gettext("interested in %(names)s",
                             names=join_list([INTEREST_NAMES.get(i, i)
                                              for i in rule["interests"]],
                                             style="or")))
    if rule.get("region"):
        parts.append(gettext("in %(region)s", region=rule["region"]))
    if segment_text:
        parts.append(segment_text)
    return " · ".join(parts)


def _with_segments(form: JourneySettingsForm) -> JourneySettingsForm:
    form.segment.choices = [("", gettext("Any customer (no segment)"))] + [
        (str(seg.id), seg.name) for seg in segments.all_segments(get_session())]
    return form


def _check_segment(tx: Any, rule: dict[str, Any]) -> None:
    """The segment a rule names must exist (segments live in crm, above journeys)."""
    if rule.get("segment") is not None:
        try:
            segments.get(tx, rule["segment"])
        except NotFound:
            raise ValidationError(N_("Choose a saved segment."), "segment") from None


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return dict(window_text=window_text, step_text=step_text, entry_text=entry_text,
                UNIT_NAMES=UNIT_NAMES, STATUS_NAMES=STATUS_NAMES,
                INTEREST_NAMES=INTEREST_NAMES, CHANNEL_NAMES=dict(CHANNEL_CHOICES),
                can_edit_journeys=current_user.is_authenticated
                and current_user.staff_role in EDITORS + ("admin",))


# --- the list --------------------------------------------------------------------------------

@bp.route("")
@staff_required(*READERS)
def index() -> Any:
    s = get_session()
    return render_template("studio/journeys/index.html", rows=authoring.journey_list(s),
                           tick=authoring.last_tick(s), now=utcnow())


@bp.route("/new", methods=["GET", "POST"])
@staff_required(*EDITORS)
def new() -> Any:
    form = _with_segments(NewJourneyForm())
    if form.validate_on_submit():
        try:
            with transaction() as tx:
                _check_segment(tx, form.entry_rule())
                journey = authoring.create_journey(tx, form.slug.data or "",
                                                   form.name.data or "", form.entry_rule())
                authoring.update_journey(tx, journey, journey.name, journey.entry_rule,
                                         form.measurement())
        except DiaryError as error:
            apply_error(form, error, FIELD_MAP)
        else:
            flash(gettext("Journey created. It is paused: add its stages, then resume it to "
                          "start pushing."), "success")
            return redirect(url_for("studio.journeys.detail", journey_id=journey.id))
    return render_template("studio/journeys/new.html", form=form), \
        400 if request.method == "POST" else 200


# --- one journey: the flow view --------------------------------------------------------------

FIELD_MAP = {"steps": "push"}


@bp.route("/<int:journey_id>")
@staff_required(*READERS)
def detail(journey_id: int) -> Any:
    journey = authoring.get_journey(get_session(), journey_id)
    return _detail(journey, id_arg("edit"))


def _detail(journey: Journey, edit_id: int | None = None,
            forms: dict[str, FlaskForm] | None = None, status: int = 200) -> Any:
    """The flow view; `forms` are bound forms (with their errors) to show instead of fresh
    ones, keyed "settings", "add", "stage" or "step<N>"/"newstep" of the edited stage."""
    s = get_session()
    forms = dict(forms or {})
    views = authoring.journey_view(s, journey)
    can_edit = current_user.staff_role in EDITORS + ("admin",)
    editing = next((v for v in views if v.stage.id == edit_id), None) if can_edit else None
    if can_edit:
        if "settings" not in forms:
            forms["settings"] = _with_segments(JourneySettingsForm(prefix="journey",
                                                                   formdata=None))
            forms["settings"].fill(journey)
        forms.setdefault("add", NewStageForm(prefix="add", formdata=None))
        if editing is not None:
            if "stage" not in forms:
                forms["stage"] = StageWindowForm(prefix="stage", formdata=None)
                forms["stage"].fill(editing.stage)
            for index, step in enumerate(editing.steps):
                if f"step{index}" not in forms:
                    forms[f"step{index}"] = StepForm(prefix=f"step{index}", formdata=None)
                    forms[f"step{index}"].fill(step)
            forms.setdefault("newstep", StepForm(prefix="newstep", formdata=None))
    groups = []
    for unit in UNITS:
        members = [v for v in views if v.stage.window_unit == unit]
        if members:
            open_ = len(views) <= OPEN_ALL_UP_TO or any(v is editing for v in members)
            groups.append((unit, members, open_))
    odd = [v for v in views if v.stage.window_unit not in UNITS]
    if odd:
        groups.append(("", odd, True))
    totals = {"families": sum(v.counts.families for v in views),
              "delivered": sum(v.counts.delivered for v in views)}
    return render_template("studio/journeys/detail.html", journey=journey, views=views,
                           groups=groups, editing=editing, forms=forms, can_edit=can_edit,
                           totals=totals, settings_open=_has_errors(forms.get("settings")),
                           add_open=_has_errors(forms.get("add"))), status


def _has_errors(form: FlaskForm | None) -> bool:
    return form is not None and bool(form.errors or form.form_errors)


def _change(journey: Journey, form: FlaskForm, change: Callable[[Any], None]) -> bool:
    """Run one authoring change in a transaction; on a domain error show it on the form."""
    sent = request.form.get("version", type=int)
    try:
        with transaction() as tx:
            if sent is not None and sent != journey.version:
                raise Conflict(N_("Someone changed this journey while you were editing it "
                                  "(it is now version %(version)d). Check it and save "
                                  "again."), version=journey.version)
            change(tx)
    except NotFound:
        raise  # a stage or step that is not there: the 404 page
    except DiaryError as error:
        apply_error(form, error, FIELD_MAP)
        return False
    return True


def _back(journey: Journey, stage: JourneyStage | None = None) -> Any:
    if stage is None:
        return redirect(url_for("studio.journeys.detail", journey_id=journey.id))
    return redirect(url_for("studio.journeys.detail", journey_id=journey.id,
                            edit=stage.id, _anchor=f"stage-{stage.id}"))


def _saved(journey: Journey, message: str) -> None:
    flash(gettext("%(message)s Now version %(version)d.", message=message,
                  version=journey.version), "success")


def _load(journey_id: int, stage_id: int | None = None
          ) -> tuple[Journey, JourneyStage | None]:
    s = get_session()
    journey = authoring.get_journey(s, journey_id)
    stage = authoring.get_stage(s, journey, stage_id) if stage_id is not None else None
    return journey, stage


@bp.route("/<int:journey_id>/settings", methods=["POST"])
@staff_required(*EDITORS)
def settings(journey_id: int) -> Any:
    journey, _ = _load(journey_id)
    form = _with_segments(JourneySettingsForm(prefix="journey"))

    def change(tx: Any) -> None:
        _check_segment(tx, form.entry_rule())
        authoring.update_journey(tx, journey, form.name.data or "", form.entry_rule(),
                                 form.measurement())

    if form.validate_on_submit() and _change(journey, form, change):
        _saved(journey, gettext("Journey settings saved."))
        return _back(journey)
    return _detail(authoring.get_journey(get_session(), journey_id),
                   forms={"settings": form}, status=400)


@bp.route("/<int:journey_id>/results")
@staff_required(*READERS)
def results_page(journey_id: int) -> Any:
    """Families who entered, what was delivered and clicked, conversions against the
    holdout and the lift with its interval."""
    s = get_session()
    journey = authoring.get_journey(s, journey_id)
    return render_template("studio/journeys/results.html", journey=journey,
                           result=results.journey_results(s, journey),
                           GOAL_NAMES=dict(GOAL_CHOICES))


@bp.route("/<int:journey_id>/<any(pause, resume):action>", methods=["POST"])
@staff_required(*EDITORS)
def set_status(journey_id: int, action: str) -> Any:
    journey, _ = _load(journey_id)
    with transaction():
        (authoring.pause if action == "pause" else authoring.resume)(journey)
    if action == "pause":
        flash(gettext("Paused: the scheduler pushes nothing on this journey until you resume "
                      "it."), "warning")
    else:
        flash(gettext("Resumed: the next scheduler tick pushes what is due. Items already "
                      "delivered are never sent again."), "success")
    return _back(journey)


@bp.route("/<int:journey_id>/stages", methods=["POST"])
@staff_required(*EDITORS)
def stage_add(journey_id: int) -> Any:
    journey, _ = _load(journey_id)
    form = NewStageForm(prefix="add")
    created: list[JourneyStage] = []

    def change(tx: Any) -> None:
        steps = [dict(step) for step in authoring.STANDARD_STEPS] \
            if form.standard_steps.data else []
        created.append(authoring.add_stage(
            tx, journey, form.key.data or "", form.name.data or "",
            form.window_unit.data or "", form.window_from.data, form.window_to.data, steps))

    if form.validate_on_submit() and _change(journey, form, change):
        _saved(journey, gettext("Stage added."))
        return _back(journey, created[0])
    return _detail(authoring.get_journey(get_session(), journey_id), forms={"add": form},
                   status=400)


@bp.route("/<int:journey_id>/stages/<int:stage_id>", methods=["POST"])
@staff_required(*EDITORS)
def stage_update(journey_id: int, stage_id: int) -> Any:
    journey, stage = _load(journey_id, stage_id)
    assert stage is not None
    form = StageWindowForm(prefix="stage")
    if form.validate_on_submit() and _change(journey, form, lambda tx: authoring.update_stage(
            tx, stage, name=form.name.data or "", unit=form.window_unit.data or "",
            window_from=form.window_from.data, window_to=form.window_to.data)):
        _saved(journey, gettext("Stage saved."))
        return _back(journey, stage)
    return _detail(authoring.get_journey(get_session(), journey_id), stage_id,
                   forms={"stage": form}, status=400)


@bp.route("/<int:journey_id>/stages/<int:stage_id>/remove", methods=["POST"])
@staff_required(*EDITORS)
def stage_remove(journey_id: int, stage_id: int) -> Any:
    journey, stage = _load(journey_id, stage_id)
    assert stage is not None
    form = ConfirmForm()
    name = stage.name
    if _change(journey, form, lambda tx: authoring.remove_stage(tx, stage)):
        _saved(journey, gettext("Stage “%(name)s” removed. What it delivered stays in the "
                                "ledger and is never sent again.", name=name))
        return _back(journey)
    for message in form.form_errors:
        flash(message, "danger")
    return _back(journey, stage)


@bp.route("/<int:journey_id>/stages/<int:stage_id>/steps", methods=["POST"])
@staff_required(*EDITORS)
def step_add(journey_id: int, stage_id: int) -> Any:
    journey, stage = _load(journey_id, stage_id)
    assert stage is not None
    form = StepForm(prefix="newstep")
    if form.validate_on_submit() and _change(
            journey, form, lambda tx: authoring.add_step(stage, form.to_step())):
        _saved(journey, gettext("Step added."))
        return _back(journey, stage)
    return _detail(authoring.get_journey(get_session(), journey_id), stage_id,
                   forms={"newstep": form}, status=400)


@bp.route("/<int:journey_id>/stages/<int:stage_id>/steps/<int:index>",
          methods=["POST"])
@staff_required(*EDITORS)
def step_update(journey_id: int, stage_id: int, index: int) -> Any:
    journey, stage = _load(journey_id, stage_id)
    assert stage is not None
    form = StepForm(prefix=f"step{index}")
    if form.validate_on_submit() and _change(
            journey, form, lambda tx: authoring.update_step(stage, index, form.to_step())):
        _saved(journey, gettext("Step saved."))
        return _back(journey, stage)
    return _detail(authoring.get_journey(get_session(), journey_id), stage_id,
                   forms={f"step{index}": form}, status=400)


@bp.route("/<int:journey_id>/stages/<int:stage_id>/steps/<int:index>/remove",
          methods=["POST"])
@staff_required(*EDITORS)
def step_remove(journey_id: int, stage_id: int, index: int) -> Any:
    journey, stage = _load(journey_id, stage_id)
    assert stage is not None
    form = ConfirmForm()
    if _change(journey, form, lambda tx: authoring.remove_step(stage, index)):
        _saved(journey, gettext("Step removed."))
    else:
        for message in form.form_errors:
            flash(message, "danger")
    return _back(journey, stage)

