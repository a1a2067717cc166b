"""Marketer campaigns in the studio: the list, the editor, start and pause, and results.

Thin views over `journeys.marketing` and `journeys.results`. Marketers (and admins) make and
change campaigns; analysts read the list and the results. The audience is a saved segment
(`crm.segments`, checked here: journeys cannot see that table); the message is a content
message that a reviewer approved. Results show counts only (no customer data).
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from clock import utcnow
from content.models import ContentItem
from crm import segments
from crm.models import Segment
from diary.errors import N_, DiaryError, NotFound, ValidationError
from journeys import campaigns as life_moments
from journeys import marketing, results
from journeys.models import MarketingCampaign
from webapp.blueprints.studio import MARKETING
from webapp.blueprints.studio.campaigns.forms import (
    CHANNEL_CHOICES,
    FIELD_MAP,
    GOAL_CHOICES,
    STATUS_NAMES,
    TRIGGER_CHOICES,
    CampaignForm,
)
from webapp.blueprints.studio.content.forms import STATUS_NAMES as MESSAGE_STATUS_NAMES
from webapp.blueprints.studio.content.forms import to_local, to_utc
from webapp.blueprints.studio.segments import builder
from webapp.database import get_session, transaction
from webapp.forms_common import ConfirmForm, apply_error
from webapp.i18n import current_locale, translate_error
from webapp.security import staff_required

bp = Blueprint("campaigns", __name__)

EDITORS = ("marketer",)  # admins pass every staff_required check


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return dict(STATUS_NAMES=STATUS_NAMES, TRIGGER_NAMES=dict(TRIGGER_CHOICES),
                GOAL_NAMES=dict(GOAL_CHOICES), CHANNEL_NAMES=dict(CHANNEL_CHOICES),
                MESSAGE_STATUS_NAMES=MESSAGE_STATUS_NAMES,
                definition_text=builder.definition_text,
                can_edit_campaigns=current_user.is_authenticated
                and current_user.staff_role in EDITORS + ("admin",))


def _segment_names() -> dict[int, str]:
    return {s.id: s.name for s in segments.all_segments(get_session())}


# --- the list --------------------------------------------------------------------------------

@bp.route("")
@staff_required(*MARKETING)
def index() -> Any:
    s = get_session()
    rows = [(c, results.campaign_results(s, c.key)) for c in marketing.all_campaigns(s)]
    moments = [(name, results.campaign_results(s, name)) for name in life_moments.CAMPAIGNS]
    return render_template("studio/campaigns/index.html", rows=rows, moments=moments,
                           segment_names=_segment_names())


# --- one campaign: settings and results ------------------------------------------------------

@bp.route("/<int:campaign_id>")
@staff_required(*MARKETING)
def detail(campaign_id: int) -> Any:
    s = get_session()
    campaign = marketing.get(s, campaign_id)
    segment = s.get(Segment, campaign.segment_id)
    message = marketing.live_message(s, campaign, utcnow())
    return render_template(
        "studio/campaigns/detail.html", campaign=campaign, segment=segment,
        message=message, message_status=marketing.message_status(s, campaign),
        result=results.campaign_results(s, campaign.key), confirm_form=ConfirmForm(),
        send_at_local=to_local(campaign.send_at, current_user.timezone))


# --- the editor ------------------------------------------------------------------------------

def _choices(form: CampaignForm) -> None:
    s = get_session()
    form.segment_id.choices = [("", gettext("Choose a segment"))] + [
        (str(i), name) for i, name in _segment_names().items()]
    messages = marketing.messages_to_choose(s)
    locale = current_locale()
    form.message_key.choices = [("", gettext("Choose a message"))] + [
        (m.key, _message_choice(m, locale)) for m in messages]


def _message_choice(message: ContentItem, locale: str) -> str:
    text = message.text(locale)
    status = MESSAGE_STATUS_NAMES.get(message.status, message.status)
    return f"{text.title if text else message.key} · {message.key} ({status})"


def _editor(form: CampaignForm, campaign: MarketingCampaign | None, status: int = 200) -> Any:
    return render_template("studio/campaigns/edit.html", form=form, campaign=campaign,
                           has_sent=campaign is not None
                           and marketing.has_sent(get_session(), campaign)), status


def _save(form: CampaignForm, campaign: MarketingCampaign | None) -> MarketingCampaign | None:
    """Validate and save in one transaction; None (errors on the form) when refused."""
    try:
        send_at = to_utc(form.send_at.data, current_user.timezone) \
            if form.trigger.data == "on_date" else None
        data = form.to_input(send_at)
        with transaction() as tx:
            if data.segment_id is not None:
                try:
                    segments.get(tx, data.segment_id)
                except NotFound:
                    raise ValidationError(N_("Choose the segment the campaign is for."),
                                          "segment_id") from None
            now = utcnow()
            if campaign is None:
                return marketing.create(tx, current_user, data, now)
            return marketing.update(tx, campaign, data, request.form.get("version", type=int),
                                    now)
    except DiaryError as error:
        if error.field == "publish_at":  # the date range check names the content field
            error.field = "send_at"
        apply_error(form, error, FIELD_MAP)
    return None


@bp.route("/new", methods=["GET", "POST"])
@staff_required(*EDITORS)
def new() -> Any:
    form = CampaignForm()
    _choices(form)
    if form.validate_on_submit():
        saved = _save(form, None)
        if saved is not None:
            flash(gettext("Campaign saved as a draft. Start it when its message is approved."),
                  "success")
            return redirect(url_for("studio.campaigns.detail", campaign_id=saved.id), 303)
    elif request.method != "POST" and request.args.get("segment", "").isdigit():
        form.segment_id.data = request.args["segment"]
    return _editor(form, None, 400 if request.method == "POST" else 200)


@bp.route("/<int:campaign_id>/edit", methods=["GET", "POST"])
@staff_required(*EDITORS)
def edit(campaign_id: int) -> Any:
    campaign = marketing.get(get_session(), campaign_id)
    if campaign.status == "done":
        flash(gettext("This campaign has finished; make a new one instead."), "info")
        return redirect(url_for("studio.campaigns.detail", campaign_id=campaign.id), 303)
    if request.method != "POST":  # GET and HEAD
        form = CampaignForm(formdata=None)
        form.fill(campaign, to_local(campaign.send_at, current_user.timezone))
        _choices(form)
        return _editor(form, campaign)
    form = CampaignForm()
    _choices(form)
    if form.validate_on_submit() and _save(form, campaign) is not None:
        flash(gettext("Campaign saved."), "success")
        return redirect(url_for("studio.campaigns.detail", campaign_id=campaign.id), 303)
    return _editor(form, marketing.get(get_session(), campaign_id), 400)


@bp.route("/<int:campaign_id>/<any(start, pause):action>", methods=["POST"])
@staff_required(*EDITORS)
def set_status(campaign_id: int, action: str) -> Any:
    campaign = marketing.get(get_session(), campaign_id)
    if not ConfirmForm().validate_on_submit():
        flash(gettext("This form has expired. Please reload the page and try again."), "danger")
        return redirect(url_for("studio.campaigns.detail", campaign_id=campaign_id), 303)
    version = request.form.get("version", type=int)
    try:
        with transaction() as tx:
            if action == "start":
                marketing.start(tx, campaign, utcnow(), version)
            else:
                marketing.pause(tx, campaign, utcnow(), version)
    except DiaryError as error:
        flash(translate_error(error), "danger")
    else:
        flash(gettext("Started: the scheduler sends it within a few minutes. Nobody gets it "
                      "twice.") if action == "start" else
              gettext("Paused: nothing more is sent until you start it again."),
              "success" if action == "start" else "warning")
    return redirect(url_for("studio.campaigns.detail", campaign_id=campaign_id), 303)
