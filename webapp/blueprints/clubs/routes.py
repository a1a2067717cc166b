"""Birth clubs and topic groups: the list, a club's feed, a post with its comments, likes,
reports, and the photos posted (for the club's members only; 404 for everyone else)."""
from __future__ import annotations

from datetime import date
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
from flask_babel import gettext
from flask_login import current_user, login_required
from markupsafe import Markup
from werkzeug.datastructures import FileStorage

from community import clubs, moderation, posts
from community.models import BIRTH, Club, ClubPost
from diary import families
from diary.errors import DiaryError, NotFound
from diary.locales import reading_locale
from diary.photos import check_upload, process_upload
from webapp import community_glue
from webapp.blueprints.clubs.forms import CommentForm, PostForm, ReportForm
from webapp.database import get_session, transaction
from webapp.errors import render_error
from webapp.forms_common import ConfirmForm, apply_error
from webapp.i18n import _month_name, current_locale, translate_error
from webapp.params import id_arg
from webapp.rate_limits import limit, per_account
from webapp.services import photo_store

bp = Blueprint("clubs", __name__, url_prefix="/clubs")


@bp.app_template_global()
def month_club_name(month: date) -> str:
    """"March 2027 babies" / "2027年3月宝宝"."""
    from flask_babel import get_locale
    return gettext("%(month)s babies", month=_month_name(get_locale(), month.year, month.month))


@bp.app_template_global()
def club_name(club: Club) -> str:
    if club.kind == BIRTH and club.month is not None:
        return month_club_name(club.month)
    zh = reading_locale(current_locale()) == "zh_CN"
    return club.name_zh if zh and club.name_zh else club.name_en


@bp.app_template_global()
def club_about(club: Club) -> str:
    if club.kind == BIRTH:
        return gettext("Parents whose babies are due or born this month.")
    zh = reading_locale(current_locale()) == "zh_CN"
    return club.description_zh if zh and club.description_zh else club.description_en


@bp.app_template_filter("post_html")
def _post_html(text: str) -> Markup:
    return Markup(posts.render_post(text))  # nosec: render_post sanitises with nh3


def _signed_in_parent() -> None:
    """The clubs are for parents: staff moderate them from the studio."""
    if current_user.is_staff:
        abort(404)


def _confirmed_by_a_parent() -> None:
    """A button's POST (join, leave, like, delete…): a parent's, with the form's CSRF token."""
    _signed_in_parent()
    if not ConfirmForm().validate_on_submit():
        abort(400)


def _daily_cap() -> int:
    return int(current_app.config["CLUB_DAILY_POST_CAP"])


def _refused(error: DiaryError) -> Any:
    """A domain refusal as a page: 404 for what a person may not see, 429 for the daily cap,
    403 for a ban, 400 for the rest."""
    if isinstance(error, NotFound):
        abort(404)
    if isinstance(error, posts.PostingLimitReached):
        return render_error(429, translate_error(error))
    if isinstance(error, posts.Banned):
        return render_error(403, translate_error(error))
    return None


@bp.route("")
@login_required
def index() -> Any:
    _signed_in_parent()
    s = get_session()
    mine = clubs.my_clubs(s, current_user)
    others = clubs.other_clubs(s, current_user)
    months = clubs.months_to_join(s, current_user, families.children_of(s, current_user))
    counts = clubs.member_counts(s, [c.id for c in mine + others])
    return render_template("clubs/index.html", mine=mine, others=others, months=months,
                           counts=counts, form=ConfirmForm())


@bp.route("/birth/<int:year>-<int:month>/join", methods=["POST"])
@limit("CLUB_ACTION_RATE_LIMIT", key=per_account)
@login_required
def join_birth(year: int, month: int) -> Any:
    """Join the birth club of one of the parent's own children's months (made on demand)."""
    _confirmed_by_a_parent()
    s = get_session()
    wanted = clubs.months_to_join(s, current_user, families.children_of(s, current_user))
    chosen = next((m for m in wanted if (m.year, m.month) == (year, month)), None)
    if chosen is None:
        abort(404)
    with transaction() as tx:
        club = clubs.birth_club(tx, chosen)
        clubs.join(tx, current_user, club)
    flash(gettext("Welcome to %(club)s!", club=club_name(club)), "success")
    return redirect(url_for("clubs.show", club_id=club.id))


@bp.route("/<int:club_id>/<any(join, leave):action>", methods=["POST"])
@limit("CLUB_ACTION_RATE_LIMIT", key=per_account)
@login_required
def membership(club_id: int, action: str) -> Any:
    _confirmed_by_a_parent()
    try:
        with transaction() as tx:
            club = clubs.get_club(tx, club_id)
            if action == "join":
                clubs.join(tx, current_user, club)
            else:
                clubs.leave(tx, current_user, club)
    except DiaryError as error:
        return _refused(error) or render_error(400, translate_error(error))
    if action == "join":
        flash(gettext("Welcome to %(club)s!", club=club_name(club)), "success")
        return redirect(url_for("clubs.show", club_id=club.id))
    flash(gettext("You left %(club)s.", club=club_name(club)), "info")
    return redirect(url_for("clubs.index"))


def _feed_page(club: Club, form: PostForm, status: int = 200) -> Any:
    s = get_session()
    page = posts.feed(s, current_user, club, min(id_arg("page") or 1, 10_000))
    ban = posts.active_ban(s, current_user, club.id)

    def page_url(n: int) -> str:
        return url_for("clubs.show", club_id=club.id, page=n)

    return render_template("clubs/club.html", club=club, page=page, form=form, ban=ban,
                           page_url=page_url,
                           confirm=ConfirmForm(),
                           member_count=clubs.member_counts(s, [club.id]).get(club.id, 0),
                           ), status


@bp.route("/<int:club_id>")
@login_required
def show(club_id: int) -> Any:
    _signed_in_parent()
    try:
        club = clubs.club_for_member(get_session(), current_user, club_id)
    except NotFound:
        abort(404)
    return _feed_page(club, PostForm())


def _photo(form: PostForm) -> FileStorage | None:
    upload = form.photo.data
    return upload if upload and getattr(upload, "filename", "") else None


@bp.route("/<int:club_id>/posts", methods=["POST"])
@limit("CLUB_POST_RATE_LIMIT", key=per_account)
@login_required
def new_post(club_id: int) -> Any:
    _signed_in_parent()
    s = get_session()
    try:
        club = clubs.club_for_member(s, current_user, club_id)
    except NotFound:
        abort(404)
    form = PostForm()
    if not form.validate_on_submit():
        return _feed_page(club, form, 400)
    store = photo_store()
    key = None
    try:
        upload = _photo(form)
        if upload is not None:
            check_upload(upload.stream)
            key = store.save(process_upload(upload.stream))
        with transaction() as tx:
            post = posts.create_post(tx, current_user, club, form.body.data or "", key,
                                     _daily_cap())
            if post.published_at is not None:
                community_glue.post_published(tx, post)
    except DiaryError as error:
        if key:
            store.delete([key])
        refused = _refused(error)
        if refused is not None:
            return refused
        apply_error(form, error, {"photo": "photo"})
        return _feed_page(club, form, 400)
    except BaseException:
        if key:
            store.delete([key])
        raise
    if post.status == "held":
        flash(gettext("Thank you. Your post is waiting for a moderator before the club sees "
                      "it."), "info")
    else:
        flash(gettext("Posted."), "success")
    return redirect(url_for("clubs.show", club_id=club.id))


def _post_page(post: ClubPost, form: CommentForm, status: int = 200) -> Any:
    s = get_session()
    return render_template(
        "clubs/post.html", post=post, club=post.club, form=form,
        comments=posts.comments_for(s, current_user, post), report_form=ReportForm(),
        confirm=ConfirmForm(), likes=posts.like_count(s, post),
        liked=posts.liked(s, current_user, post),
        ban=posts.active_ban(s, current_user, post.club_id)), status


@bp.route("/posts/<int:post_id>")
@login_required
def post(post_id: int) -> Any:
    _signed_in_parent()
    try:
        found = posts.post_for_member(get_session(), current_user, post_id)
    except NotFound:
        abort(404)
    return _post_page(found, CommentForm())


@bp.route("/posts/<int:post_id>/comments", methods=["POST"])
@limit("CLUB_POST_RATE_LIMIT", key=per_account)
@login_required
def comment(post_id: int) -> Any:
    _signed_in_parent()
    try:
        found = posts.post_for_member(get_session(), current_user, post_id)
    except NotFound:
        abort(404)
    form = CommentForm()
    if not form.validate_on_submit():
        return _post_page(found, form, 400)
    try:
        with transaction() as tx:
            made = posts.create_comment(tx, current_user, found, form.body.data or "",
                                        _daily_cap())
    except DiaryError as error:
        refused = _refused(error)
        if refused is not None:
            return refused
        apply_error(form, error)
        return _post_page(found, form, 400)
    if made.status == "held":
        flash(gettext("Thank you. Your comment is waiting for a moderator before the club "
                      "sees it."), "info")
    return redirect(url_for("clubs.post", post_id=found.id, _anchor=f"c-{made.id}"))


@bp.route("/posts/<int:post_id>/like", methods=["POST"])
@limit("CLUB_ACTION_RATE_LIMIT", key=per_account)
@login_required
def like(post_id: int) -> Any:
    _confirmed_by_a_parent()
    try:
        with transaction() as tx:
            found = posts.post_for_member(tx, current_user, post_id)
            posts.toggle_like(tx, current_user, found)
    except NotFound:
        abort(404)
    back = request.form.get("back")
    if back == "feed":
        return redirect(url_for("clubs.show", club_id=found.club_id, _anchor=f"p-{found.id}"))
    return redirect(url_for("clubs.post", post_id=found.id))


@bp.route("/posts/<int:post_id>/report", methods=["POST"])
@bp.route("/posts/<int:post_id>/comments/<int:comment_id>/report", methods=["POST"])
@limit("CLUB_ACTION_RATE_LIMIT", key=per_account)
@login_required
def report(post_id: int, comment_id: int | None = None) -> Any:
    _signed_in_parent()
    form = ReportForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with transaction() as tx:
            found = posts.post_for_member(tx, current_user, post_id)
            target = None
            if comment_id is not None:
                target = posts.comment_for_member(tx, current_user, comment_id)
                if target.post_id != found.id:
                    abort(404)
            posts.report(tx, current_user, found, form.reason.data or "", target)
    except NotFound:
        abort(404)
    except DiaryError as error:
        flash(translate_error(error), "danger")
        return redirect(url_for("clubs.post", post_id=post_id))
    flash(gettext("Thank you for telling us. A moderator will look at it."), "success")
    return redirect(url_for("clubs.post", post_id=post_id))


@bp.route("/posts/<int:post_id>/delete", methods=["POST"])
@login_required
def delete_post(post_id: int) -> Any:
    _confirmed_by_a_parent()
    try:
        with transaction() as tx:
            found = posts.post_for_member(tx, current_user, post_id)
            club_id = found.club_id
            community_glue.post_removed(tx, found)
            key = posts.delete_own_post(tx, current_user, found)
    except NotFound:
        abort(404)
    if key:
        photo_store().delete([key])
    flash(gettext("Your post is deleted."), "info")
    return redirect(url_for("clubs.show", club_id=club_id))


@bp.route("/posts/<int:post_id>/photo/<any(full, thumb):size>")
@login_required
def photo(post_id: int, size: str) -> Any:
    """A post's photo: for the club's members (and its moderators), 404 for anyone else."""
    s = get_session()
    try:
        if current_user.is_staff:
            found = moderation.post_for_moderator(s, current_user, post_id)
        else:
            found = posts.post_for_member(s, current_user, post_id)
    except NotFound:
        abort(404)
    if not found.photo_key:
        abort(404)
    path = photo_store().path(found.photo_key, size)
    if not path.exists():
        abort(404)
    response = send_file(path, mimetype="image/jpeg", conditional=True, max_age=3600)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
