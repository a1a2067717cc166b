"""The content studio: marketers write, reviewers approve, analysts read the coverage.

Thin views over content.authoring / listing / workflow / library / coverage / packs. Every
page is staff-only (parents get a 404); the public images of live items are the library's
(`library.content_image`).
"""
from __future__ import annotations

import io
from datetime import datetime
from typing import Any

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
from flask_babel import gettext, ngettext
from flask_login import current_user
from markupsafe import Markup

from clock import utcnow
from content import authoring, coverage, library, listing, packs, workflow
from content.errors import Conflict, PermissionDenied, StaleVersion, ValidationError
from content.models import KINDS, ContentItem, PublishMode, Version
from content.rendering import render_markdown
from content.stages import Stage, coverage_stages, stage_of
from diary import age as agemath
from diary.accounts import users_by_id
from diary.errors import DiaryError
from diary.locales import LOCALES, language_name
from diary.models import Child, User
from diary.photos import process_upload
from diary.vocabulary import INTERESTS
from webapp.blueprints.studio import EDITORS, home_endpoint
from webapp.blueprints.studio.content.forms import (
    KIND_PLURALS,
    KIND_TEXT,
    STATUS_NAMES,
    FamilyPreviewForm,
    ImportForm,
    ItemForm,
    PublishForm,
    ScheduleForm,
    field_map,
    to_local,
    to_utc,
)
from webapp.content_format import CATEGORY_NAMES, TOPIC_NAMES, UNIT_NAMES, window_text
from webapp.content_format import stage_label as stage_text
from webapp.database import get_session, transaction
from webapp.forms_common import apply_error
from webapp.i18n import INTEREST_NAMES, join_list, local_datetime, translate_error
from webapp.rate_limits import has_files, limit, per_account
from webapp.security import staff_required
from webapp.services import content_store, send_content_image

bp = Blueprint("content", __name__)


# --- helpers shared by the templates -------------------------------------------------------

def review_required() -> bool:
    return bool(current_app.config.get("CONTENT_REVIEW_REQUIRED", True))


def can_publish() -> bool:
    return workflow.can_publish(current_user, review_required())


def status_of(item: ContentItem) -> str:
    return workflow.status_label(item, utcnow())


def diff_label(kind: str, name: str) -> str:
    """"title (zh_CN)" → "Product name · 简体中文"; plain fields get their form label."""
    base, _, locale = name.partition(" (")
    locale = locale.rstrip(")")
    labels = {"key": gettext("SKU") if kind == "product" else gettext("Slug"),
              "window_unit": gettext("For"), "window_from": gettext("From"),
              "window_to": gettext("To"), "topics": gettext("Topics"),
              "interests": gettext("Interests"), "tags": gettext("Tags"),
              "category": gettext("Category"), "source": gettext("Sources"),
              "reviewed_by": gettext("Reviewed by"), "review_date": gettext("Review date"),
              "image_key": gettext("Image"), "price_minor": gettext("Price (minor units)"),
              "currency": gettext("Currency"), "buy_url": gettext("Shop link"),
              "active": gettext("On sale"), "position": gettext("Position"),
              "consumable": gettext("Bought again and again"), "size": gettext("Size"),
              "publish_at": gettext("Publish on (UTC)"), "kind": gettext("Kind")}
    if locale:
        text = KIND_TEXT.get(kind, {}).get(base)
        language = language_name(locale)
        return f"{text or base} · {language}"
    return labels.get(base, base)


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return dict(window_text=window_text, stage_text=stage_text,
                status_of=status_of, KIND_PLURALS=KIND_PLURALS, STATUS_NAMES=STATUS_NAMES,
                TOPIC_NAMES=TOPIC_NAMES, UNIT_NAMES=UNIT_NAMES, CATEGORY_NAMES=CATEGORY_NAMES,
                LOCALES=LOCALES, INTEREST_NAMES=INTEREST_NAMES)


def _flash_error(error: DiaryError) -> None:
    flash(translate_error(error), "warning" if isinstance(error, PermissionDenied)
          else "danger")


def _user() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined]


# --- the list ------------------------------------------------------------------------------

@bp.route("")
@staff_required()
def index() -> Any:
    if current_user.staff_role not in EDITORS + ("admin",):  # the studio's own start
        return redirect(url_for(home_endpoint(current_user.staff_role)))
    filters, bad_stage = listing.Filters.parse(request.args)
    if bad_stage:
        flash(gettext("Use a stage such as pregnancy_week:12, week:3 or month:6."), "warning")
    page = listing.item_page(get_session(), filters,
                             request.args.get("page", 1, type=int) or 1, utcnow())
    chosen = filters.chosen()

    def page_url(number: int) -> str:
        return url_for("studio.content.index", **chosen, page=number)

    return render_template("studio/content/index.html", items=page.items, total=page.total,
                           page=page.number, pages=page.pages, page_url=page_url,
                           chosen=filters, editors=page.editors, first=page.first,
                           last=page.last, filtered=bool(chosen), stages=_stage_groups(),
                           status_filters=listing.STATUS_FILTERS)


def _stage_groups(extra_months: bool = False) -> list[tuple[str, list[Stage]]]:
    stages = coverage_stages()
    if extra_months:
        stages += [Stage("month", m) for m in range(37, 61)]
    return [(str(UNIT_NAMES[unit]), [st for st in stages if st.unit == unit])
            for unit in ("pregnancy_week", "week", "month")]


# --- the editor ----------------------------------------------------------------------------

@bp.route("/new/<kind>", methods=["GET", "POST"])
@limit("UPLOAD_RATE_LIMIT", key=per_account, when=has_files)
@staff_required(*EDITORS)
def new(kind: str) -> Any:
    if kind not in KINDS:
        abort(404)
    return _editor(kind, None)


@bp.route("/<int:item_id>/edit", methods=["GET", "POST"])
@limit("UPLOAD_RATE_LIMIT", key=per_account, when=has_files)
@staff_required(*EDITORS)
def edit(item_id: int) -> Any:
    item = authoring.get(get_session(), item_id)
    return _editor(item.kind, item)


def _shown_schedule(item: ContentItem, working: authoring.ItemInput) -> datetime | None:
    """The publication time to show: the waiting version's, else the item's; only future."""
    when = working.publish_at if item.pending_review else item.publish_at
    return when if when is not None and when > utcnow() else None


def _editor(kind: str, item: ContentItem | None) -> Any:
    s = get_session()
    tz = current_user.timezone
    form = ItemForm(kind)
    working = authoring.working_copy(s, item) if item is not None else None
    if request.method != "POST" and working is not None and item is not None:
        form.fill(working, _shown_schedule(item, working), tz)
    if form.validate_on_submit():
        saved = _save(form, item, working)
        if saved is not None:
            return redirect(url_for("studio.content.edit", item_id=saved.id))
    overlaps: list[ContentItem] = []
    if working is not None and item is not None and request.method != "POST":
        overlaps = authoring.overlapping(s, working, item.id)[:12]
    previews = {locale: Markup(render_markdown(getattr(form, f"body_{locale}").data or ""))
                for locale in LOCALES}
    latest = authoring.latest_version(s, item) if item is not None else None
    review = workflow.under_review(s, item) if item is not None else None
    return render_template(
        "studio/content/editor.html", form=form, kind=kind, item=item, working=working,
        overlaps=overlaps, previews=previews, latest=latest, can_publish=can_publish(),
        review_required=review_required(), schedule_form=ScheduleForm(),
        review=review, review_authors=join_list(_names(review.authors)) if review else "",
        refusal=workflow.refusal(review, _user(), review_required()) if review else None,
        needs_override=review is not None
        and workflow.needs_override(review, _user(), review_required()),
        image_key=working.image_key if working else None, tz=tz,
        default_schedule=to_local(item.publish_at, tz) if item and item.publish_at
        and item.publish_at > utcnow() else None,
    ), 400 if request.method == "POST" else 200


def _save(form: ItemForm, item: ContentItem | None,
          working: authoring.ItemInput | None) -> ContentItem | None:
    """Validate the image, build the input, store the image, save — or show the error."""
    store = content_store()
    stored: str | None = None
    try:
        image_key = None if form.remove_image.data else (working.image_key if working else None)
        upload = form.image.data
        processed = None
        if form.has_image and upload is not None and getattr(upload, "filename", ""):
            processed = process_upload(upload.stream)  # size and header before any decode
        data = form.to_input(current_user.timezone, image_key)
        if processed is not None:
            stored = data.image_key = store.save(processed)
        note = (form.note.data or "").strip()
        with transaction() as tx:
            if item is None:
                item = authoring.create(tx, data, _user(), note=note)
                number = 1
            else:
                number = authoring.save(tx, item, data, _user(), review_required(),
                                        note=note).number
    except DiaryError as error:
        if stored:
            store.delete([stored])
        apply_error(form, error, field_map(form.kind))
        return None
    except BaseException:
        if stored:
            store.delete([stored])
        raise
    if item.pending_review:
        flash(gettext("Saved as version %(number)d. Families keep seeing version %(live)d "
                      "until a reviewer approves the change.", number=number,
                      live=item.version), "info")
    else:
        flash(gettext("Saved as version %(number)d.", number=number), "success")
    return item


@bp.route("/preview", methods=["POST"])
@staff_required(*EDITORS)
def preview() -> Any:
    """htmx: the sanitised HTML of one locale's body, for the live preview pane."""
    locale = request.form.get("locale", "en")
    if locale not in LOCALES:
        locale = "en"
    text = request.form.get(f"body_{locale}", request.form.get("body", ""))[:50000]
    return render_template("studio/content/_preview.html", html=Markup(render_markdown(text)),
                           locale=locale)


# --- workflow ------------------------------------------------------------------------------

@bp.route("/<int:item_id>/workflow/"
          "<any(submit, publish, publish_now, schedule, reject, archive, restore):action>",
          methods=["GET", "HEAD", "POST"])
@staff_required(*EDITORS)
def act(item_id: int, action: str) -> Any:
    _post_only()
    s = get_session()
    item = authoring.get(s, item_id)
    back = redirect(url_for("studio.content.edit", item_id=item.id))
    publishing = action in ("publish", "publish_now", "schedule")
    at, version, override_reason = None, 0, None
    if publishing:
        try:
            workflow.require_publisher(_user(), review_required())
        except PermissionDenied as error:
            _flash_error(error)
            return back
        form = ScheduleForm() if action == "schedule" else PublishForm()
        form.validate()
        if form.version.errors:
            return _refused(item, gettext("The version you reviewed is missing or is not a "
                                          "version number. Reload the page and try again."),
                            400)
        if form.reason.errors:
            return _refused(item, gettext("Keep the reason under %(max)d characters.",
                                          max=workflow.REASON_MAX), 400)
        version = form.version.data
        override_reason = (form.reason.data or "") if form.override.data else None
        if action == "schedule":
            if form.publish_at.errors:
                flash(gettext("Choose the date and time it should go live."), "danger")
                return back
            try:
                at = to_utc(form.publish_at.data, current_user.timezone)
            except ValidationError as error:
                _flash_error(error)
                return back
            if at is None or at <= utcnow():
                flash(gettext("Choose a time in the future."), "danger")
                return back
        elif action == "publish_now":
            at = utcnow()
    try:
        with transaction() as tx:
            if action == "submit":
                workflow.submit(item, _user())
            elif publishing:
                workflow.publish(tx, item, _user(), review_required(), version=version, at=at,
                                 override_reason=override_reason)
            elif action == "reject":
                workflow.reject(tx, item, _user(), review_required())
            elif action == "archive":
                workflow.archive(item, _user(), review_required())
            else:
                workflow.restore(item, _user())
    except StaleVersion as error:
        return _refused(item, translate_error(error), 409, stale=error)
    except (ValidationError, PermissionDenied, Conflict) as error:
        if error.field == "version":
            return _refused(item, translate_error(error), 400)
        _flash_error(error)
        return back
    flash(_done_message(action, item), "success")
    return back


def _post_only() -> None:
    """Actions are POST-only, but GET/HEAD reach the view so the role check answers first:
    parents see 404 and other staff 403 on every method, never a 405 that names the URL."""
    if request.method != "POST":
        abort(405, valid_methods=["POST"])


def _refused(item: ContentItem, message: str, status: int,
             stale: StaleVersion | None = None) -> Any:
    """Nothing was published: say why, and for a conflict link to what changed."""
    return render_template("studio/content/refused.html", item=item, message=message, stale=stale,
                           status=status), status


def _names(user_ids: tuple[int, ...] | set[int]) -> list[str]:
    found = users_by_id(get_session(), user_ids)
    return [found[i].display_name for i in user_ids if i in found]


def _done_message(action: str, item: ContentItem) -> str:
    if action in ("publish", "publish_now", "schedule"):
        if item.publish_at is not None and item.publish_at > utcnow():
            return gettext("Approved. It goes live on %(when)s.",
                           when=local_datetime(item.publish_at))
        return gettext("Published: families can see it now.")
    return {"submit": gettext("Sent for review."),
            "reject": gettext("Sent back to the author."),
            "archive": gettext("Archived: families no longer see it."),
            "restore": gettext("Restored as a draft.")}[action]


# --- versions ------------------------------------------------------------------------------

@bp.route("/<int:item_id>/versions")
@staff_required(*EDITORS)
def versions(item_id: int) -> Any:
    s = get_session()
    item = authoring.get(s, item_id)
    history = authoring.versions(s, item)
    authors = users_by_id(s, {v.created_by_id for v in history if v.created_by_id})
    return render_template("studio/content/versions.html", item=item, history=history,
                           authors=authors, can_publish=can_publish(),
                           publications=authoring.publications(s, item),
                           mode_names=_mode_names())


def _mode_names() -> dict[str, str]:
    return {PublishMode.REVIEW.value: gettext("Approved by a second person"),
            PublishMode.OVERRIDE.value: gettext("Admin override"),
            PublishMode.NO_REVIEW.value: gettext("Published without review (not required)"),
            PublishMode.SYSTEM.value: gettext("Published by the system")}


@bp.route("/<int:item_id>/versions/<int:number>")
@staff_required(*EDITORS)
def version_diff(item_id: int, number: int) -> Any:
    s = get_session()
    item = authoring.get(s, item_id)
    new_version = authoring.version(s, item, number)
    start = request.args.get("from", type=int)  # ?from=N: all changes since version N
    if start is None or not 1 <= start < number:
        start = number - 1
    old_version = authoring.version(s, item, start) if start >= 1 else \
        Version(number=0, snapshot={"translations": {}})  # transient: "everything is new"
    changes = [(diff_label(item.kind, name), lines)
               for name, lines in authoring.diff(old_version, new_version)]
    author = s.get(User, new_version.created_by_id) if new_version.created_by_id else None
    return render_template("studio/content/diff.html", item=item, new=new_version, old=old_version,
                           changes=changes, author=author,
                           newest=authoring.latest_version(s, item))


@bp.route("/<int:item_id>/versions/<int:number>/revert",
          methods=["GET", "HEAD", "POST"])
@staff_required(*EDITORS)
def revert(item_id: int, number: int) -> Any:
    _post_only()
    s = get_session()
    item = authoring.get(s, item_id)
    authoring.version(s, item, number)  # 404 for a version that does not exist
    try:
        with transaction() as tx:
            created = authoring.revert(tx, item, number, _user(), review_required())
    except (ValidationError, PermissionDenied, Conflict) as error:
        _flash_error(error)
        return redirect(url_for("studio.content.versions", item_id=item.id))
    flash(gettext("Version %(new)d brings back the content of version %(old)d.",
                  new=created.number, old=number), "success")
    if item.pending_review:
        flash(gettext("Families keep seeing version %(live)d until a reviewer approves it.",
                      live=item.version), "info")
    return redirect(url_for("studio.content.versions", item_id=item.id))


# --- previews as a family ------------------------------------------------------------------

@bp.route("/preview-as-family")
@staff_required(*EDITORS)
def family_preview() -> Any:
    form = FamilyPreviewForm(formdata=request.args if request.args else None)
    groups = _stage_groups(extra_months=True)
    form.stage.choices = {label: [(st.key, stage_text(st)) for st in stages]
                          for label, stages in groups}
    if not request.args:
        form.stage.data = "pregnancy_week:12"
    elif not form.validate():
        for field in (form.due_date, form.birth_date, form.on):
            if field.errors:
                field.data = None  # shown with its message, not used
    today = agemath.local_today(current_user.timezone)
    on = form.on.data or today
    stage: Stage | None
    if form.birth_date.data or form.due_date.data:
        child = Child(name="", birth_date=form.birth_date.data, due_date=form.due_date.data,
                      gestational_weeks_at_birth=None, gestational_days_at_birth=None)
        stage = stage_of(child, on)
        if stage is None:
            flash(gettext("On that day there is no stage: before week 4 of pregnancy or after "
                          "five years."), "warning")
    else:
        stage = Stage.parse(form.stage.data or "")
    locale = form.locale.data if form.locale.data in LOCALES else "en"
    interests = [i for i in (form.interests.data or []) if i in INTERESTS]
    results: dict[str, list[ContentItem]] = {}
    if stage is not None:
        s = get_session()
        now = utcnow()
        for kind, limit in library.THIS_WEEK_LIMITS.items():
            results[kind] = library.for_stage(s, KINDS[kind], stage, interests, limit, now)
    return render_template("studio/content/family_preview.html", form=form, stage=stage,
                           locale=locale, results=results, interests=interests, on=on)


# --- coverage ------------------------------------------------------------------------------

@bp.route("/coverage")
@staff_required("marketer", "reviewer", "analyst")
def coverage_page() -> Any:
    drafts = request.args.get("drafts") == "1"
    report = coverage.report(get_session(), include_drafts=drafts)
    known = set(report["stages"])
    groups = [(label, [st for st in stages if st.key in known])
              for label, stages in _stage_groups()]
    columns = [(kind, locale) for kind in coverage.COVERED_KINDS for locale in LOCALES]
    gaps_by_kind = {kind: sum(1 for g in report["gaps"] if g["kind"] == kind)
                    for kind in coverage.COVERED_KINDS}
    return render_template("studio/content/coverage.html", report=report, groups=groups,
                           columns=columns, drafts=drafts, gaps_by_kind=gaps_by_kind)


# --- packs ---------------------------------------------------------------------------------

def _can_import() -> bool:
    return current_user.staff_role in ("reviewer", "admin")


@bp.route("/packs")
@staff_required(*EDITORS)
def packs_page() -> Any:
    form, options = ImportForm(), _import_options()
    if not options["may_publish_import"] or options["import_override"]:
        form.publish.data = False  # an override is ticked on purpose, never by default
    return render_template("studio/content/packs.html", form=form, can_import=_can_import(),
                           report=None, problems=None, **options)


def _import_options() -> dict[str, bool]:
    """Who may tick "publish": with review off, anyone who imports; with review on only an
    admin, as an override with a reason (the importer wrote what the pack brings in)."""
    admin = current_user.staff_role == "admin"
    return {"may_publish_import": not review_required() or admin,
            "import_override": review_required() and admin}


@bp.route("/packs/export", methods=["POST"])
@staff_required(*EDITORS)
def export_pack() -> Any:
    data = packs.export_pack(get_session(), content_store())
    name = f"content-pack-{utcnow():%Y-%m-%d}.zip"
    return send_file(io.BytesIO(data), mimetype="application/zip", as_attachment=True,
                     download_name=name, max_age=0)


@bp.route("/packs/import", methods=["GET", "HEAD", "POST"])
@limit("UPLOAD_RATE_LIMIT", key=per_account, when=has_files)
@staff_required("reviewer")
def import_pack() -> Any:
    _post_only()
    form = ImportForm()
    report, problems, status = None, None, 200
    if not form.validate_on_submit():
        problems, status = [m for errors in form.errors.values() for m in errors], 400
    else:
        upload = form.pack.data
        publish = bool(form.publish.data)
        if upload is None or not getattr(upload, "filename", "") or _empty(upload.stream):
            problems, status = [gettext("Choose a pack (.zip) to import.")], 400
        else:
            try:  # the zip is read where Werkzeug spooled it, its limits checked first
                with transaction() as tx:
                    report = packs.import_pack(
                        tx, upload.stream, _user(), content_store(), publish=publish,
                        review_required=review_required(),
                        override_reason=(form.reason.data or "") if publish else None)
            except packs.PackError as error:
                problems, status = [_problem_text(p) for p in error.problems], 400
            except DiaryError as error:  # publishing one's own import; an archived item
                problems = [translate_error(error)]
                status = 403 if isinstance(error, PermissionDenied) else 400
    if report is not None:
        flash(gettext("The pack is imported: %(summary)s.", summary=_summary(report)),
              "success")
    return render_template("studio/content/packs.html", form=form, can_import=True, report=report,
                           problems=problems, **_import_options()), status


def _empty(stream: Any) -> bool:
    end = stream.seek(0, io.SEEK_END)
    stream.seek(0)
    return end == 0


def _problem_text(problem: str | packs.Problem) -> str:
    """Item problems are shown as the validation wrote them; the pack's own translated."""
    if isinstance(problem, str):
        return problem
    text = translate_error(problem.error)
    return f"{problem.name}: {text}" if problem.name else text


def _summary(report: packs.ImportReport) -> str:
    return join_list([ngettext("%(num)d created", "%(num)d created", len(report.created)),
                      ngettext("%(num)d updated", "%(num)d updated", len(report.updated)),
                      ngettext("%(num)d unchanged", "%(num)d unchanged",
                               len(report.unchanged))])


# --- images --------------------------------------------------------------------------------

@bp.route("/images/<key>/<any(full, thumb):size>")
@staff_required(*EDITORS)
def staff_image(key: str, size: str) -> Any:
    """Any content image, also of drafts and waiting versions: staff only."""
    return send_content_image(key, size, "private, max-age=3600")
