"""Studio forms: the item editor (one form, fields per kind), workflow, packs, previews."""
from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from content.authoring import OPTIONAL_WINDOW, WITH_TOPICS, WITHOUT_WINDOW, ItemInput, TextInput
from content.errors import N_, ValidationError
from content.models import KINDS
from content.sizes import Size
from content.stages import UNITS
from content.vocabulary import CATEGORIES, SIZE_LADDERS, SIZE_SYSTEM_LABELS, TOPICS
from diary import bounds
from diary.locales import LOCALES, currency_digits
from webapp.content_format import CATEGORY_NAMES, TOPIC_NAMES, UNIT_NAMES
from webapp.forms_common import DateInRange, MultiCheckboxField
from webapp.i18n import INTEREST_CHOICES, LOCALE_CHOICES

KIND_NAMES = {"article": _l("Article"), "reminder": _l("Reminder"), "product": _l("Product"),
              "faq": _l("FAQ"), "message": _l("Message")}
KIND_PLURALS = {"article": _l("Articles"), "reminder": _l("Reminders"),
                "product": _l("Products"), "faq": _l("FAQs"), "message": _l("Messages")}
STATUS_NAMES = {"draft": _l("Draft"), "in_review": _l("In review"),
                "published": _l("Published"), "scheduled": _l("Scheduled"),
                "archived": _l("Archived")}

#: Which text boxes each kind has, and what they are called (same mapping as the packs:
#: products keep name/description in title/summary, FAQs question/answer in title/body).
KIND_TEXT: dict[str, dict[str, Any]] = {
    "article": {"title": _l("Title"), "summary": _l("Summary"),
                "body": _l("Article text (Markdown)")},
    "reminder": {"title": _l("Title"), "body": _l("Reminder text (Markdown)")},
    "product": {"title": _l("Product name"), "summary": _l("Description")},
    "faq": {"title": _l("Question"), "body": _l("Answer (Markdown)")},
    "message": {"title": _l("Title"),
                "body": _l("Message text (plain text; {name}, {child} and {years} are filled "
                           "in)")},
}
#: Domain error fields → form fields, per kind (so every message lands on a visible box).
BASE_FIELD_MAP = {"photos": "image", "price_minor": "price", "window_to": "window_from",
                  "size": "size_code"}


def field_map(kind: str) -> dict[str, str]:
    mapping = dict(BASE_FIELD_MAP)
    if "body" not in KIND_TEXT[kind]:
        mapping.update({f"body_{loc}": f"summary_{loc}" for loc in LOCALES})
    return mapping


#: Far above any product's price, and its minor units fit the Integer column in any currency.
PRICE_MAX = Decimal(1_000_000)


def parse_price(raw: str, currency: str) -> int | None:
    """"59.90" → 5990 minor units (fen); exact decimal arithmetic, never floats."""
    text = (raw or "").strip().replace(",", "")
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValidationError(N_("Enter the price as a number, such as 59.00."),
                              "price") from None
    if not amount.is_finite() or amount < 0 or amount > PRICE_MAX:
        raise ValidationError(N_("Enter the price as a number, such as 59.00."), "price")
    digits = _precision(currency)
    minor = amount.scaleb(digits)
    if minor != minor.to_integral_value():
        raise ValidationError(N_("This currency has at most %(digits)d decimal places."),
                              "price", digits=digits)
    return int(minor)


def format_price_input(minor: int | None, currency: str | None) -> str:
    if minor is None:
        return ""
    digits = _precision(currency or "")
    return f"{Decimal(minor).scaleb(-digits):.{digits}f}"


def _precision(currency: str) -> int:
    try:
        return currency_digits(currency) if re.fullmatch(r"[A-Z]{3}", currency) else 2
    except Exception:  # noqa: BLE001 - unknown codes are refused by the domain anyway
        return 2


def parse_kg(raw: str | None, field: str) -> float | None:
    """"6" or "4.5" kilograms → a float; empty → None."""
    text = (raw or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValidationError(N_("Enter the weight in kilograms, such as 6 or 4.5."),
                              field) from None
    if not value.is_finite():
        raise ValidationError(N_("Enter the weight in kilograms, such as 6 or 4.5."), field)
    return float(value)


def _kg_text(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def split_tags(raw: str) -> list[str]:
    tags: list[str] = []
    for part in re.split(r"[,，、]", raw or ""):
        tag = part.strip()[:40]
        if tag and tag not in tags:
            tags.append(tag)
    return tags


def to_utc(local: datetime | None, tz: str) -> datetime | None:
    """A datetime typed in the staff member's time zone → an aware UTC instant
    (ValidationError on "publish_at" for days out of range, which would overflow)."""
    if local is None:
        return None
    return bounds.local_to_utc(local, tz, "publish_at")


def to_local(instant: datetime | None, tz: str) -> datetime | None:
    if instant is None:
        return None
    return instant.astimezone(ZoneInfo(tz)).replace(tzinfo=None, second=0, microsecond=0)


def _body(text: str | None) -> str:
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip("\n")


class ItemForm(FlaskForm):
    """Every field of every kind; `ItemForm(kind)` shows and reads only the kind's own."""

    key = StringField(_l("Slug"), validators=[Length(max=80)])
    title_en = StringField(_l("Title"), validators=[Optional(), Length(max=200)])
    title_zh_CN = StringField(_l("Title"), validators=[Optional(), Length(max=200)])
    summary_en = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=2000)])
    summary_zh_CN = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=2000)])
    body_en = TextAreaField(_l("Text"), validators=[Optional(), Length(max=50000)])
    body_zh_CN = TextAreaField(_l("Text"), validators=[Optional(), Length(max=50000)])
    window_unit = SelectField(_l("For"), choices=[(u, UNIT_NAMES[u]) for u in UNITS],
                              default="pregnancy_week", validate_choice=False)
    window_from = IntegerField(_l("From"), validators=[Optional()])
    window_to = IntegerField(_l("To"), validators=[Optional()])
    topics = MultiCheckboxField(_l("Topics"), choices=[(t, TOPIC_NAMES[t]) for t in TOPICS])
    interests = MultiCheckboxField(_l("Interests it suits"), choices=INTEREST_CHOICES)
    category = SelectField(_l("Category"), choices=[], validate_choice=False)
    source = StringField(_l("Sources"), validators=[Optional(), Length(max=300)],
                         description=_l("The public bodies this is informed by (WHO, NHS, "
                                        "AAP …). Write everything in your own words."))
    reviewed_by = StringField(_l("Reviewed by"), validators=[Optional(), Length(max=120)])
    review_date = DateField(_l("Review date"), validators=[Optional()])
    tags = StringField(_l("Tags"), validators=[Optional(), Length(max=400)],
                       description=_l("Separate tags with commas."))
    price = StringField(_l("Price"), validators=[Optional(), Length(max=20)],
                        description=_l("For example 59.00"))
    currency = StringField(_l("Currency"), default="CNY",
                           validators=[Optional(), Length(max=3)])
    buy_url = StringField(_l("Shop link"), validators=[Optional(), Length(max=500)],
                          description=_l("Must start with https://"))
    active = BooleanField(_l("On sale (shown to families)"), default=True)
    consumable = BooleanField(_l("Bought again and again (like nappies, wipes or creams); "
                                 "a one-off is not suggested again once bought"))
    size_system = SelectField(_l("Size ladder"), validate_choice=False, choices=[
        ("", _l("No sizes"))] + [(code, _l(SIZE_SYSTEM_LABELS[code])) for code in SIZE_LADDERS])
    size_code = StringField(_l("Size"), validators=[Optional(), Length(max=8)],
                            description=_l("Nappies: NB, S, M, L, XL · teats: 1, 2, 3 · "
                                           "clothing: 0-3m, 3-6m, 6-12m, 12-18m, 18-24m, 2-3y"))
    size_min_kg = StringField(_l("Fits from (kg)"), validators=[Optional(), Length(max=8)])
    size_max_kg = StringField(_l("Fits up to (kg)"), validators=[Optional(), Length(max=8)])
    position = IntegerField(_l("Position in its category"), default=0,
                            validators=[Optional(), NumberRange(0, 10000)])
    publish_at = DateTimeLocalField(_l("Publish on"), format="%Y-%m-%dT%H:%M",
                                    validators=[Optional()])
    image = FileField(_l("Image"), description=_l(
        "JPEG, PNG, WebP or HEIC, up to 10 MB. It is re-encoded and its metadata removed."))
    remove_image = BooleanField(_l("Remove the current image"))
    note = StringField(_l("What changed? (version note)"),
                       validators=[Optional(), Length(max=200)])

    def __init__(self, kind: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if kind not in KINDS:
            raise ValueError(kind)
        self.kind = kind
        self.key.label.text = _l("SKU") if kind == "product" else _l("Slug")
        self.key.description = _l("Capital letters, digits and hyphens, e.g. BJ-BATH-001") \
            if kind == "product" else _l("Lowercase letters, digits and hyphens, e.g. "
                                         "week-12-scan")
        labels = KIND_TEXT[kind]
        for part in ("title", "summary", "body"):
            for locale in LOCALES:
                if part in labels:
                    getattr(self, f"{part}_{locale}").label.text = labels[part]
        self.category.choices = [("", _l("Choose…"))] + [
            (c, CATEGORY_NAMES.get(c, c)) for c in CATEGORIES.get(kind, ())]
        self.image.label.text = _l("Hero image") if kind == "article" else _l("Image")
        if kind in OPTIONAL_WINDOW:
            self.window_unit.choices = [("", _l("Every stage"))] + [
                (u, UNIT_NAMES[u]) for u in UNITS]
            if not self.window_unit.raw_data:  # not chosen: for every stage
                self.window_unit.data = ""

    # What the template shows for this kind.
    @property
    def text_parts(self) -> list[str]:
        return [p for p in ("title", "summary", "body") if p in KIND_TEXT[self.kind]]

    @property
    def has_window(self) -> bool:
        return self.kind not in WITHOUT_WINDOW

    @property
    def window_optional(self) -> bool:
        return self.kind in OPTIONAL_WINDOW

    @property
    def has_topics(self) -> bool:
        return self.kind in WITH_TOPICS

    @property
    def has_category(self) -> bool:
        return self.kind in CATEGORIES

    @property
    def has_image(self) -> bool:
        return self.kind in ("article", "product")

    def to_input(self, tz: str, image_key: str | None) -> ItemInput:
        """The submitted values as an ItemInput (raises ValidationError for bad price)."""
        kind, parts = self.kind, self.text_parts
        translations = {}
        for locale in LOCALES:
            translations[locale] = TextInput(
                title=(getattr(self, f"title_{locale}").data or "").strip(),
                summary=(getattr(self, f"summary_{locale}").data or "").strip()
                if "summary" in parts else "",
                body=_body(getattr(self, f"body_{locale}").data) if "body" in parts else "")
        product = kind == "product"
        currency = (self.currency.data or "").strip().upper() or None
        return ItemInput(
            kind=kind, key=(self.key.data or "").strip(), translations=translations,
            window_unit=(self.window_unit.data or None) if self.has_window else None,
            window_from=self.window_from.data if self.has_window else None,
            window_to=self.window_to.data if self.has_window else None,
            topics=list(self.topics.data or []) if self.has_topics else [],
            interests=list(self.interests.data or [])
            if self.has_window and not self.window_optional else [],
            tags=split_tags(self.tags.data or ""),
            category=(self.category.data or None) if self.has_category else None,
            source=(self.source.data or "").strip(),
            reviewed_by=(self.reviewed_by.data or "").strip() or None,
            review_date=self.review_date.data,
            image_key=image_key if self.has_image else None,
            price_minor=parse_price(self.price.data or "", currency or "") if product else None,
            currency=currency if product else None,
            buy_url=((self.buy_url.data or "").strip() or None) if product else None,
            active=bool(self.active.data) if product else True,
            position=(self.position.data or 0) if kind == "faq" else 0,
            publish_at=to_utc(self.publish_at.data, tz),
            consumable=bool(self.consumable.data) if product else False,
            size=self._size() if product else None)

    def _size(self) -> Size | None:
        """The size typed in, or None when every size box is empty (the domain checks it)."""
        system = (self.size_system.data or "").strip()
        code = (self.size_code.data or "").strip()
        low = parse_kg(self.size_min_kg.data, "size_min_kg")
        high = parse_kg(self.size_max_kg.data, "size_max_kg")
        if not system and not code and low is None and high is None:
            return None
        return Size(system, code, low, high)

    def fill(self, data: ItemInput, publish_at: datetime | None, tz: str) -> None:
        self.key.data = data.key
        for locale in LOCALES:
            text = data.translations.get(locale) or TextInput("")
            getattr(self, f"title_{locale}").data = text.title
            getattr(self, f"summary_{locale}").data = text.summary
            getattr(self, f"body_{locale}").data = text.body
        self.window_unit.data = data.window_unit or \
            ("" if self.window_optional else "pregnancy_week")
        self.window_from.data, self.window_to.data = data.window_from, data.window_to
        self.topics.data, self.interests.data = list(data.topics), list(data.interests)
        self.category.data = data.category or ""
        self.source.data, self.reviewed_by.data = data.source, data.reviewed_by or ""
        self.review_date.data = data.review_date
        self.tags.data = ", ".join(data.tags)
        self.price.data = format_price_input(data.price_minor, data.currency)
        self.currency.data = data.currency or "CNY"
        self.buy_url.data = data.buy_url or ""
        self.active.data = data.active
        self.consumable.data = data.consumable
        self.size_system.data = data.size.system if data.size else ""
        self.size_code.data = data.size.code if data.size else ""
        self.size_min_kg.data = _kg_text(data.size.min_kg if data.size else None)
        self.size_max_kg.data = _kg_text(data.size.max_kg if data.size else None)
        self.position.data = data.position
        self.publish_at.data = to_local(publish_at, tz)


#: The largest version number a form may name (the database's INTEGER).
MAX_VERSION = 2**31 - 1


class PublishForm(FlaskForm):
    """Approve and publish: the version the reviewer was shown (hidden field; anything else
    is refused as a conflict) and, for an admin's own change, the override and its reason."""

    version = IntegerField(validators=[InputRequired(), NumberRange(1, MAX_VERSION)])
    override = BooleanField(_l("Publish my own change without a second reviewer"))
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=300)])


class ScheduleForm(PublishForm):
    publish_at = DateTimeLocalField(_l("Publish on"), format="%Y-%m-%dT%H:%M",
                                    validators=[InputRequired()])


class ImportForm(FlaskForm):
    pack = FileField(_l("Content pack (.zip)"))
    publish = BooleanField(_l("Publish the imported items (the pack has been reviewed)"),
                           default=True)
    reason = StringField(_l("Reason for publishing without a second reviewer"),
                         validators=[Optional(), Length(max=300)])


class FamilyPreviewForm(FlaskForm):
    """Read-only (GET) form: no CSRF token needed, the page changes nothing."""

    class Meta:
        csrf = False

    stage = SelectField(_l("Stage"), choices=[], validate_choice=False)
    due_date = DateField(_l("…or a due date"), validators=[Optional(), DateInRange()])
    birth_date = DateField(_l("…or a birth date"), validators=[Optional(), DateInRange()])
    on = DateField(_l("On the day"), validators=[Optional(), DateInRange()])
    interests = MultiCheckboxField(_l("Interests"), choices=INTEREST_CHOICES)
    locale = SelectField(_l("Language"), choices=LOCALE_CHOICES, default="en")
