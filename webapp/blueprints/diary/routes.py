"""The baby's book: dashboards, the timeline, entries and photos."""
from __future__ import annotations

from collections.abc import Callable
from itertools import groupby
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from clock import utcnow
from content import library
from db.one_trip import one_trip_with_entities
from diary import book as baby_book
from diary import daily_summary, entry_kinds, families, growth_report
from diary import entries as entry_service
from diary.entries import Cursor
from diary.entry_kinds import ENTRY_KINDS, KINDS, EntryInput
from diary.errors import DiaryError
from diary.formatting import render_note
from diary.models import Child, Membership
from diary.photos import ProcessedPhoto
from journeys import inbox
from rewards import points as reward_points
from webapp import fragments, rewards_glue, viewer
from webapp.blueprints.daily import routes as daily_tools
from webapp.blueprints.diary.forms import EntryForm, error_fields
from webapp.blueprints.growth import charts
from webapp.database import get_session, transaction
from webapp.forms_common import ConfirmForm, apply_error
from webapp.i18n import child_today, current_locale, kind_label, translate_error
from webapp.photo_uploads import save_then_write
from webapp.rate_limits import has_files, limit, per_account
from webapp.services import photo_store
from webapp.suggestion_blocks import shown_suggestions

bp = Blueprint("diary", __name__)


def kinds_for(child: Child) -> tuple[str, ...]:
    return entry_kinds.kinds_for(child.is_born)


@bp.app_template_filter("note_html")
def _note_html(text: str) -> Markup:
    return Markup(render_note(text))  # nosec: render_note sanitises with nh3


@bp.route("/dashboard")
@login_required
def dashboard() -> Any:
    s = get_session()
    rows = families.children_with_memberships(s, current_user)
    if len(rows) == 1:
        return redirect(url_for("diary.child_home", child_id=rows[0][0].id))
    children = [child for child, _membership in rows]
    # Twins' parents ask "who ate last?": each born child's day at a glance, the newest
    # line in each book, and this week's reading once per stage the children are at.
    now = utcnow()
    glance = {c.id: daily_summary.status(s, c, now) for c in children if c.is_born}
    return render_template("diary/dashboard.html", children=children, glance=glance,
                           can_write={c.id: m.can_write for c, m in rows},
                           newest=entry_service.newest_by_child(s, children),
                           reading=_reading_by_stage(s, children),
                           points_balance=reward_points.balance(s, current_user))


#: Articles the dashboard lists for each stage its children are at.
DASHBOARD_ARTICLES = 3


def _reading_by_stage(s: Session, children: list[Child]
                      ) -> list[tuple[library.ThisWeek, list[Child]]]:
    """This week's articles for each stage the children are at, with the children at it
    (twins share one list), in the children's order; stages with no article are left out."""
    found: dict[str, tuple[library.ThisWeek, list[Child]]] = {}
    for child in children:
        week = library.this_week(s, child, current_user, child_today(child), current_locale())
        if week.stage is None or not week.articles:
            continue
        if week.stage.key in found:
            found[week.stage.key][1].append(child)
        else:
            week.articles = week.articles[:DASHBOARD_ARTICLES]
            found[week.stage.key] = (week, [child])
    return list(found.values())


#: Entries the child home shows under "Latest in the book".
LATEST_SHOWN = 5


@bp.route("/children/<int:child_id>")
@login_required
def child_home(child_id: int) -> Any:
    s = get_session()
    now = utcnow()
    # The child with the viewer's other children (the switcher) and their memberships, the
    # daily part, the newest entries, and the inbox headlines with the header's badge and
    # the content generation: five reads, one statement. The day is the family's: it is
    # asked in the viewer's zone, which is nearly always the family's, and again alone when
    # it is not. Nothing is shown before the viewer's access to the child is checked.
    zone = current_user.timezone
    children, found = one_trip_with_entities(
        s, families.children_query(current_user),
        day=daily_summary.child_day_query(child_id, zone, now),
        latest=entry_service.timeline_query(child_id, limit=LATEST_SHOWN),
        inbox=inbox.headlines_query(current_user, child_id, current_locale(), now=now,
                                    also=viewer.open_surveys(now)))
    child, membership, siblings = families.child_and_siblings_in(children, child_id)
    headlines, unread = inbox.headlines_of(s, found["inbox"])
    viewer.remember_unread(unread)
    day = (daily_summary.child_day_of(found["day"], now) if child.family.timezone == zone
           else daily_summary.child_day(s, child, now))
    latest = entry_service.timeline_refs_of(found["latest"], LATEST_SHOWN).refs
    today = child_today(child)
    this_week = library.this_week(s, child, current_user, today, current_locale())
    return render_template("diary/child_home.html", child=child, siblings=siblings,
                           this_week=this_week,
                           **daily_tools.child_page_context(child, day, this_week.reminders,
                                                            now, today),
                           inbox_entries=headlines,
                           can_write=membership.can_write,
                           latest=fragments.cards(s, latest, child),
                           kinds=kinds_for(child),
                           quick_kinds=entry_kinds.quick_add_kinds(child.is_born),
                           today=today,
                           suggestions=shown_suggestions(child, "child_page"))


@bp.route("/children/<int:child_id>/timeline")
@login_required
def timeline(child_id: int) -> Any:
    s = get_session()
    kinds = [k for k in request.args.getlist("kind") if k in ENTRY_KINDS]
    query = (request.args.get("q") or "").strip()[:100]
    try:
        cursor = Cursor.decode(request.args.get("before"))
    except DiaryError as error:
        families.child_access(s, current_user, child_id)  # a stranger learns nothing here
        flash(translate_error(error), "warning")
        return redirect(url_for("diary.timeline", child_id=child_id))
    partial = bool(request.headers.get("HX-Request")) and cursor is not None
    child, membership, page = _timeline_page(s, child_id, kinds, query, cursor,
                                             with_badge=not partial)
    tz = ZoneInfo(child.family.timezone)
    pairs = zip(page.refs, fragments.cards(s, page.refs, child), strict=True)
    months = []  # (YYYY-MM, the month's first entry time, its cards)
    for key, group in groupby(pairs, key=lambda p: p[0].occurred_at.astimezone(tz)
                              .strftime("%Y-%m")):
        items = list(group)
        months.append((key, items[0][0].occurred_at, [card for _, card in items]))
    next_url = None
    if page.next_cursor is not None:
        next_url = url_for("diary.timeline", child_id=child.id, kind=kinds, q=query or None,
                           before=page.next_cursor.encode(), month=months[-1][0])
    context = dict(child=child, months=months, next_url=next_url,
                   kinds=kinds, query=query, all_kinds=kinds_for(child),
                   previous_month=request.args.get("month"), can_write=membership.can_write)
    if partial:
        return render_template("diary/_timeline_page.html", **context)
    return render_template("diary/timeline.html", **context)


def _timeline_page(s: Session, child_id: int, kinds: list[str], query: str,
                   cursor: Cursor | None, with_badge: bool
                   ) -> tuple[Child, Membership, entry_service.TimelineRefs]:
    """The child (NotFound unless the viewer may see it), the viewer's membership and a
    timeline page's references. A whole page (`with_badge`) reads all three and the
    header's unread badge in one statement (db.one_trip_with_entities); a search, or a
    page without the badge, asks for the child first."""
    limit = current_app.config["TIMELINE_PAGE_SIZE"]
    badge = viewer.unread_part(utcnow()) if with_badge and not query else None
    if badge is None:
        child, membership = families.child_access(s, current_user, child_id)
        return child, membership, entry_service.timeline_refs(
            s, child, kinds=kinds or None, query=query or None, cursor=cursor, limit=limit)
    rows, found = one_trip_with_entities(
        s, families.access_query(current_user, child_id),
        refs=entry_service.timeline_query(child_id, kinds or None, cursor, limit), badge=badge)
    child, membership = families.child_access_in(rows)
    viewer.remember_unread(found["badge"][0][0] or 0)
    return child, membership, entry_service.timeline_refs_of(found["refs"], limit)


def _chosen_files(form: EntryForm) -> list[FileStorage]:
    return [f for f in (form.photos.data or []) if f and getattr(f, "filename", "")]


T = TypeVar("T")
Write = Callable[[Session, EntryInput, list[tuple[str, ProcessedPhoto]]], T]


def _write_with_photos(form: EntryForm, kind: str, child: Child, write: Write[T],
                       kept: int = 0) -> T | None:
    """Check, store the uploaded photos, then run `write` in one transaction
    (webapp.photo_uploads). A domain error is shown on the form and None returned."""
    try:
        entry_input = form.to_input(kind, child.family.timezone)
        return save_then_write(_chosen_files(form), kind, kept,
                               lambda tx, saved: write(tx, entry_input, saved))
    except DiaryError as error:
        apply_error(form, error, error_fields(kind))
        return None


@bp.route("/children/<int:child_id>/entries/new", methods=["GET", "POST"])
@limit("UPLOAD_RATE_LIMIT", key=per_account, when=has_files)
@login_required
def new_entry(child_id: int) -> Any:
    s = get_session()
    child = families.child_for(s, current_user, child_id, write=True)
    kind = request.args.get("kind", "note")
    if kind not in ENTRY_KINDS:
        abort(404)
    form = EntryForm()
    if request.method != "POST":  # GET and HEAD show the form filled in
        now = utcnow().astimezone(ZoneInfo(child.family.timezone))
        form.occurred_date.data, form.occurred_time.data = now.date(), now.time().replace(
            second=0, microsecond=0)
    if form.validate_on_submit():
        def write(tx: Session, entry_input: EntryInput,
                  saved: list[tuple[str, ProcessedPhoto]]) -> Any:
            created = entry_service.create_entry(tx, child, current_user, entry_input, saved)
            rewards_glue.entry_created(tx, current_user, created)
            return created

        entry = _write_with_photos(form, kind, child, write)
        if entry is not None:
            flash(gettext("Saved to %(name)s's book.", name=child.name), "success")
            return redirect(url_for("diary.show_entry", entry_id=entry.id))
    return render_template("diary/entry_form.html", form=form, child=child, kind=kind,
                           fields=KINDS[kind].fields, entry=None), 400 if form.errors else 200


@bp.route("/entries/<int:entry_id>")
@login_required
def show_entry(entry_id: int) -> Any:
    s = get_session()
    entry, membership = families.entry_access(s, current_user, entry_id)
    percentiles = []
    if entry.kind == "measurement" and entry.child.is_born:
        percentiles = charts.entry_percentiles(entry.child, entry.id,
                                               growth_report.samples(s, entry.child))
    return render_template("diary/entry.html", entry=entry, child=entry.child,
                           can_write=membership.can_write, percentiles=percentiles)


@bp.route("/entries/<int:entry_id>/edit", methods=["GET", "POST"])
@limit("UPLOAD_RATE_LIMIT", key=per_account, when=has_files)
@login_required
def edit_entry(entry_id: int) -> Any:
    s = get_session()
    entry = families.entry_for(s, current_user, entry_id, write=True)
    child = entry.child
    form = EntryForm()
    form.remove_photos.choices = [(p.id, str(p.id)) for p in entry.photos]
    if request.method != "POST":  # GET and HEAD show the form filled in
        form.fill_from(entry, child.family.timezone)
    if form.validate_on_submit():
        remove = set(form.remove_photos.data or [])
        removed = _write_with_photos(form, entry.kind, child, lambda tx, entry_input, saved:
                                     entry_service.update_entry(tx, entry, entry_input, saved,
                                                                remove),
                                     kept=entry_service.photos_kept(entry, remove))
        if removed is not None:
            photo_store().delete(removed)
            flash(gettext("Saved."), "success")
            return redirect(url_for("diary.show_entry", entry_id=entry.id))
    return render_template("diary/entry_form.html", form=form, child=child, kind=entry.kind,
                           fields=KINDS[entry.kind].fields, entry=entry), \
        400 if form.errors else 200


@bp.route("/entries/<int:entry_id>/delete", methods=["GET", "POST"])
@login_required
def delete_entry(entry_id: int) -> Any:
    s = get_session()
    entry = families.entry_for(s, current_user, entry_id, write=True)
    child = entry.child
    form = ConfirmForm()
    if form.validate_on_submit():
        with transaction() as tx:
            rewards_glue.entries_deleting(tx, [entry])
            keys = entry_service.delete_entry(tx, entry)
        photo_store().delete(keys)
        flash(gettext("The entry is deleted."), "info")
        return redirect(url_for("diary.timeline", child_id=child.id))
    return render_template("diary/delete_entry.html", entry=entry, child=child, form=form,
                           label=kind_label(entry.kind))


@bp.route("/children/<int:child_id>/book")
@login_required
def book(child_id: int) -> Any:
    """The printable keepsake; the browser's print dialog makes the PDF."""
    s = get_session()
    child = families.child_for(s, current_user, child_id)
    return render_template("diary/book.html", child=child, book=baby_book.build(s, child))


@bp.route("/photos/<int:photo_id>/<any(full, thumb):size>")
@login_required
def photo(photo_id: int, size: str) -> Any:
    """Photos are private: only members of the child's family get the bytes."""
    p = families.photo_for(get_session(), current_user, photo_id)
    path = photo_store().path(p.storage_key, size)
    if not path.exists():
        abort(404)
    response = send_file(path, mimetype="image/jpeg", conditional=True, max_age=86400)
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response
