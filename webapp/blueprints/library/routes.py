"""The library: articles by stage and topic, search, products, help centre, saved items, and
the images of live content (public: parents read articles without signing in)."""
from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask import session as flask_session
from flask_babel import gettext
from flask_login import current_user, login_required

from care import help as faq_help
from clock import utcnow
from content import library, reviews
from content.models import Article, Product, Reminder
from content.stages import Stage, coverage_stages, stage_of
from content.vocabulary import TOPICS
from diary import bounds, families
from diary.errors import DiaryError, NotFound, PermissionDenied
from webapp import rewards_glue
from webapp.blueprints.library.forms import ReviewForm
from webapp.database import get_session, transaction
from webapp.errors import render_error
from webapp.forms_common import ConfirmForm, apply_error
from webapp.i18n import child_today, translate_error
from webapp.rate_limits import limit, per_account
from webapp.security import safe_next
from webapp.services import send_content_image

bp = Blueprint("library", __name__)


def _my_stages() -> list[tuple[Any, Stage]]:
    """(child, stage) for the signed-in parent's children, to start the library there."""
    if not current_user.is_authenticated:
        return []
    pairs = []
    for child in families.children_of(get_session(), current_user):
        stage = stage_of(child, child_today(child))
        if stage is not None:
            pairs.append((child, stage))
    return pairs


def _interests() -> list[str]:
    return list(current_user.interests or []) if current_user.is_authenticated else []


@bp.route("/library")
def index() -> Any:
    stages = coverage_stages()
    return render_template("library/index.html", mine=_my_stages(), topics=TOPICS,
                           pregnancy=[s for s in stages if s.unit == "pregnancy_week"],
                           weeks=[s for s in stages if s.unit == "week"],
                           months=[s for s in stages if s.unit == "month"])


@bp.route("/library/stage/<stage_key>")
def stage(stage_key: str) -> Any:
    chosen = Stage.parse(stage_key)
    if chosen is None:
        abort(404)
    s = get_session()
    return render_template(
        "library/stage.html", stage=chosen,
        articles=library.for_stage(s, Article, chosen, _interests()),
        reminders=library.for_stage(s, Reminder, chosen, _interests()),
        products=library.for_stage(s, Product, chosen, _interests(), limit=8))


@bp.route("/library/topic/<topic>")
def topic(topic: str) -> Any:
    if topic not in TOPICS:
        abort(404)
    return render_template("library/topic.html", topic=topic,
                           articles=library.by_topic(get_session(), topic))


@bp.route("/search")
def search() -> Any:
    query = (request.args.get("q") or "").strip()[:100]
    results = library.find(get_session(), query) if query else []
    return render_template("library/search.html", query=query, results=results)


@bp.route("/articles/<slug>")
def article(slug: str) -> Any:
    s = get_session()
    item = library.by_key(s, Article, slug)
    if item is None:
        abort(404)
    saved = current_user.is_authenticated and library.is_saved(s, current_user, item)
    return render_template("library/article.html", item=item, saved=saved,
                           related=library.related(s, item),
                           products=library.products_for_article(s, item),
                           form=ConfirmForm())


@bp.route("/articles/<slug>/save", methods=["POST"])
@login_required
def toggle_save(slug: str) -> Any:
    s = get_session()
    item = library.by_key(s, Article, slug)
    if item is None:
        abort(404)
    if ConfirmForm().validate_on_submit():
        with transaction() as tx:
            if library.is_saved(tx, current_user, item):
                library.unsave(tx, current_user, item)
                flash(gettext("Removed from your saved articles."), "info")
            else:
                library.save_for_later(tx, current_user, item)
                flash(gettext("Saved for later."), "success")
    return redirect(safe_next(request.form.get("next"), "library.saved")
                    if request.form.get("next") else url_for("library.article", slug=slug))


@bp.route("/saved")
@login_required
def saved() -> Any:
    return render_template("library/saved.html",
                           items=library.saved(get_session(), current_user))


@bp.route("/products")
def products() -> Any:
    """Products for a stage: the chosen one, else the parent's first child's stage."""
    mine = _my_stages()
    chosen = Stage.parse(request.args.get("stage", "")) or (mine[0][1] if mine else None)
    items = library.for_stage(get_session(), Product, chosen, _interests()) if chosen else []
    return render_template("library/products.html", stage=chosen, items=items, mine=mine,
                           stages=coverage_stages(),
                           reco_child=next((c.id for c, s in mine if s == chosen), None))


def _product_or_404(sku: str) -> Any:
    item = library.by_key(get_session(), Product, sku)
    if item is None:
        abort(404)
    return item


def _product_page(item: Any, form: ReviewForm | None = None, status: int = 200) -> Any:
    """The product with its reviews: the average and count, the newest visible reviews, and
    for a signed-in parent the form to write (or edit) theirs."""
    s = get_session()
    parent = current_user.is_authenticated and not current_user.is_staff
    own = reviews.mine(s, current_user, item) if parent else None
    if parent and form is None:
        form = ReviewForm(data={"rating": str(own.rating), "body": own.body} if own else None)
    return render_template("library/product.html", item=item,
                           summary=reviews.summary(s, item), shown=reviews.visible(s, item),
                           own=own, form=form if parent else None,
                           confirm=ConfirmForm()), status


@bp.route("/products/<sku>")
def product(sku: str) -> Any:
    return _product_page(_product_or_404(sku))


@bp.route("/products/<sku>/review", methods=["POST"])
@limit("REVIEW_RATE_LIMIT", key=per_account)
@login_required
def write_review(sku: str) -> Any:
    """Write a review of the product, or edit one's own (one per person per product)."""
    item = _product_or_404(sku)
    if current_user.is_staff:
        return render_error(403, translate_error(PermissionDenied(
            reviews.STAFF_REFUSAL)))
    form = ReviewForm()
    if not form.validate_on_submit():
        return _product_page(item, form, 400)
    editing = request.form.get("review_id")
    try:
        with transaction() as tx:
            if editing:  # the edit form names the review: it must be the person's own
                if not (editing.isascii() and editing.isdigit() and len(editing) <= 10
                        and bounds.is_row_id(int(editing))):
                    raise NotFound()
                reviews.own_review(tx, current_user, int(editing))
            review, new = reviews.write(tx, current_user, item, form.rating.data,
                                        form.body.data, utcnow())
            if new:
                rewards_glue.review_published(tx, review)
    except NotFound:
        abort(404)
    except DiaryError as error:
        apply_error(form, error)
        return _product_page(item, form, 400)
    flash(gettext("Thank you for your review.") if new else gettext("Your review is updated."),
          "success")
    return redirect(url_for("library.product", sku=sku) + "#reviews")


@bp.route("/products/<sku>/review/<int:review_id>/delete", methods=["POST"])
@limit("REVIEW_RATE_LIMIT", key=per_account)
@login_required
def delete_review(sku: str, review_id: int) -> Any:
    item = _product_or_404(sku)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        with transaction() as tx:
            review = reviews.own_review(tx, current_user, review_id)
            if review.item_id != item.id:
                raise NotFound()
            rewards_glue.review_removed(tx, review)
            reviews.delete(tx, current_user, review_id)
    except NotFound:
        abort(404)
    flash(gettext("Your review is deleted."), "info")
    return redirect(url_for("library.product", sku=sku) + "#reviews")


HELP_VOTER_KEY = "help_voter"  # the browser's random key for anonymous votes (Flask session)


@bp.route("/help")
def help_centre() -> Any:
    """FAQs: the child's stage first, a topic filter and a search within the help centre."""
    query = (request.args.get("q") or "").strip()[:100]
    topic = request.args.get("topic") or None
    mine = _my_stages()
    stage = mine[0][1] if mine else None
    s = get_session()
    page = faq_help.help_page(s, stage, topic, query or None)
    shown = [i.id for i in page.for_stage] + [i.id for g in page.groups.values() for i in g]
    user = current_user if current_user.is_authenticated else None
    votes = faq_help.votes_by(s, user, flask_session.get(HELP_VOTER_KEY), shown)
    return render_template("library/help.html", page=page, groups=page.groups, query=query,
                           topic=topic, child=mine[0][0] if mine else None, votes=votes,
                           form=ConfirmForm())


@bp.route("/help/<int:item_id>/vote", methods=["POST"])
@limit("HELP_VOTE_RATE_LIMIT", when=lambda: not current_user.is_authenticated)
def help_vote(item_id: int) -> Any:
    """"Was this helpful?": yes or no, changeable; visitors vote once per browser."""
    form = ConfirmForm()
    answer = request.form.get("helpful")
    if not form.validate_on_submit() or answer not in ("yes", "no"):
        abort(400)
    user = current_user if current_user.is_authenticated else None
    if user is None and not flask_session.get(HELP_VOTER_KEY):
        flask_session[HELP_VOTER_KEY] = secrets.token_hex(12)
    with transaction() as tx:
        item = faq_help.vote(tx, item_id, answer == "yes", user,
                         None if user else flask_session.get(HELP_VOTER_KEY))
    flash(gettext("Thank you for your answer."), "success")
    return redirect(url_for("library.help_centre") + f"#faq-{item.key}")


@bp.route("/content-images/<key>/<any(full, thumb):size>")
def content_image(key: str, size: str) -> Any:
    """Public: only images that belong to a live item (drafts' images stay private)."""
    if not key.isalnum() or not library.has_live_image(get_session(), key):
        abort(404)
    return send_content_image(key, size, "public, max-age=3600")
