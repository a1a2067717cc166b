"""Saved segments in the studio: the list, the builder with its live count, save, edit,
delete and CSV export. Marketers and analysts (and admins); parents get 404, other staff 403.

Thin views over `crm.segments`. The builder works without JavaScript (its "add", "remove"
and "update" buttons post the form and the page comes back with the rows changed, nothing
saved); with htmx the rows are swapped in place (`builder`) and the count follows every
change (`live_count`). Counts show no customer data; the sample of members on a segment's
page and its CSV export do, and are recorded in the staff access log first.
"""
from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user

import csvsafe
from clock import utcnow
from crm import segments
from crm.models import Segment
from diary import staff_audit
from diary.errors import DiaryError
from webapp import audit
from webapp.blueprints.studio import MARKETING
from webapp.blueprints.studio.segments import builder
from webapp.database import get_session, transaction
from webapp.forms_common import ConfirmForm
from webapp.i18n import number, translate_error
from webapp.security import staff_required

bp = Blueprint("segments", __name__)

CSV_CHUNK = 64 * 1024


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return dict(FIELD_NAMES=builder.FIELD_NAMES, OP_NAMES=builder.OP_NAMES,
                PAIR_NAMES=builder.PAIR_NAMES, FIELDS=segments.FIELDS,
                choice_names=builder.choice_names, definition_text=builder.definition_text,
                MAX_CONDITIONS=segments.MAX_CONDITIONS, CURRENCY=segments.CURRENCY,
                TIER_NAMES=builder.TIER_NAMES, whole=lambda n: number(n, "#,##0"))


# --- the list --------------------------------------------------------------------------------

@bp.route("")
@staff_required(*MARKETING)
def index() -> Any:
    s = get_session()
    rows = [(segment, segments.usage(s, segment.id)) for segment in segments.all_segments(s)]
    authors = segments.names_of(s, {seg.updated_by_id for seg, _ in rows})
    return render_template("studio/segments/index.html", rows=rows, authors=authors)


@bp.route("/<int:segment_id>/count")
@staff_required(*MARKETING)
def saved_count(segment_id: int) -> Any:
    """A saved segment's count, as a fragment (the list loads them after the page)."""
    s = get_session()
    segment = segments.get(s, segment_id)
    return render_template("studio/segments/_count.html",
                           count=segments.count(s, segment.definition, utcnow()), error=None)


# --- the builder -----------------------------------------------------------------------------

def _page(segment: Segment | None, rows: list[builder.Row], name: str, description: str,
          status: int = 200, errors: dict[str, str] | None = None,
          form_error: str | None = None) -> Any:
    s = get_session()
    usage = segments.usage(s, segment.id) if segment is not None else None
    count, count_error = None, None
    try:
        count = segments.count(s, builder.definition_of(rows), utcnow())
    except segments.SegmentError as error:
        count_error = translate_error(error)
    return render_template(
        "studio/segments/edit.html", segment=segment, rows=rows, name=name,
        description=description, errors=errors or {}, form_error=form_error, usage=usage,
        stage_choices=builder.stage_choices(), confirm_form=ConfirmForm(), count=count,
        error=count_error), status


@bp.route("/<int:segment_id>/members")
@staff_required(*MARKETING)
def members(segment_id: int) -> Any:
    """A sample of the members (newest accounts first), recorded in the access log before it
    is shown. A fragment for htmx (the segment's page loads it), else a page of its own."""
    s = get_session()
    segment = segments.get(s, segment_id)
    sample = segments.sample(s, segment.definition, utcnow())
    audit.record_read(staff_audit.SEGMENT_MEMBERS, users=sample)
    scores = segments.scores_of(s, sample)
    fragment = request.headers.get("HX-Request") == "true"
    return render_template("studio/segments/_members.html" if fragment
                           else "studio/segments/members.html",
                           segment=segment, sample=sample, scores=scores)


def _posted() -> tuple[list[builder.Row], str, str]:
    return (builder.rows_from_form(request.form), request.form.get("name", ""),
            request.form.get("description", ""))


def _is_rebuild() -> bool:
    """The "add", "remove" and "update" buttons change the rows; nothing is saved."""
    return any(k in request.form for k in ("add", "remove", "refresh"))


def _save(segment: Segment | None) -> Any:
    segment_id = segment.id if segment is not None else None
    rows, name, description = _posted()
    if _is_rebuild():
        return _page(segment, rows, name, description)
    errors: dict[str, str] = {}
    form_error = None
    version = request.form.get("version", type=int)
    try:
        with transaction() as tx:
            if segment is None:
                segment = saved = segments.create(tx, current_user, name, description,
                                                  builder.definition_of(rows))
            else:
                saved = segments.update(tx, segment, current_user, version, name, description,
                                        builder.definition_of(rows))
    except segments.SegmentError as error:
        message = translate_error(error)
        if not builder.place_error(rows, error, message):
            form_error = message
    except DiaryError as error:
        if error.field in ("name", "description"):
            errors[error.field] = translate_error(error)
        else:
            form_error = translate_error(error)
    else:
        flash(gettext("Segment “%(name)s” saved.", name=saved.name), "success")
        return redirect(url_for("studio.segments.edit", segment_id=saved.id), 303)
    current = segments.get(get_session(), segment_id) if segment_id is not None else None
    return _page(current, rows, name, description, 400, errors, form_error)


@bp.route("/new", methods=["GET", "POST"])
@staff_required(*MARKETING)
def new() -> Any:
    if request.method == "POST":
        return _save(None)
    return _page(None, [builder.Row(builder.NEW_ROW["field"], builder.NEW_ROW["op"])], "", "")


@bp.route("/<int:segment_id>", methods=["GET", "POST"])
@staff_required(*MARKETING)
def edit(segment_id: int) -> Any:
    segment = segments.get(get_session(), segment_id)
    if request.method == "POST":
        return _save(segment)
    return _page(segment, builder.rows_of(segment.definition), segment.name,
                 segment.description)


@bp.route("/builder", methods=["POST"])
@staff_required(*MARKETING)
def rebuild() -> Any:
    """The condition rows after "add", "remove" or a new field (htmx swaps them in); the
    count is told to follow."""
    rows = builder.rows_from_form(request.form)
    response = Response(render_template("studio/segments/_conditions.html", rows=rows,
                                        stage_choices=builder.stage_choices()))
    response.headers["HX-Trigger"] = "segment-changed"
    return response


@bp.route("/count")
@staff_required(*MARKETING)
def live_count() -> Any:
    """How many customers the conditions in the query string hold (the builder's live
    count). A definition that is not valid yet answers with what is wrong, not an error
    status: the builder shows it in place of the number."""
    rows = builder.rows_from_form(request.args)
    try:
        count = segments.count(get_session(), builder.definition_of(rows), utcnow())
    except segments.SegmentError as error:
        return render_template("studio/segments/_count.html", count=None,
                               error=translate_error(error))
    return render_template("studio/segments/_count.html", count=count, error=None)


# --- delete and export -----------------------------------------------------------------------

@bp.route("/<int:segment_id>/delete", methods=["POST"])
@staff_required(*MARKETING)
def delete(segment_id: int) -> Any:
    segment = segments.get(get_session(), segment_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash(gettext("This form has expired. Please reload the page and try again."), "danger")
        return redirect(url_for("studio.segments.edit", segment_id=segment_id), 303)
    name = segment.name
    try:
        with transaction() as tx:
            segments.delete(tx, segment, request.form.get("version", type=int))
    except DiaryError as error:
        flash(translate_error(error), "danger")
        return redirect(url_for("studio.segments.edit", segment_id=segment_id), 303)
    flash(gettext("Segment “%(name)s” deleted.", name=name), "success")
    return redirect(url_for("studio.segments.index"), 303)


@bp.route("/<int:segment_id>/export.csv")
@staff_required(*MARKETING)
def export(segment_id: int) -> Any:
    """Every member as CSV (formula-safe), recorded with every member in the access log."""
    s = get_session()
    segment = segments.get(s, segment_id)
    now = utcnow()
    audit.record_read(staff_audit.SEGMENT_EXPORT,
                      users=segments.everyone(s, segment.definition, now))
    definition = segment.definition

    def chunks() -> Iterator[str]:
        buffer = io.StringIO()
        out = csvsafe.writer(buffer, segments.EXPORT_COLUMNS)
        for row in segments.export_rows(get_session(), definition, now):
            out.writerow(row)
            if buffer.tell() >= CSV_CHUNK:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    name = f"segment-{segment.id}-{now:%Y%m%d-%H%M}.csv"
    return Response(stream_with_context(chunks()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "no-store"})
