"""A sample of the rewards catalogue, in both languages."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from rewards.catalogue import (
    DESCRIPTION_LENGTH,
    MAX_COST,
    MAX_STOCK,
    NAME_LENGTH,
    ItemInput,
)


class ItemForm(FlaskForm):
    name_en = StringField(_l("Name (English)"), validators=[InputRequired(),
                                                            Length(max=NAME_LENGTH)])
    name_zh = StringField(_l("Name (Chinese)"), validators=[InputRequired(),
                                                            Length(max=NAME_LENGTH)])
    description_en = TextAreaField(_l("Description (English)"),
                                   validators=[Optional(), Length(max=DESCRIPTION_LENGTH)])
    description_zh = TextAreaField(_l("Description (Chinese)"),
                                   validators=[Optional(), Length(max=DESCRIPTION_LENGTH)])
    cost = IntegerField(_l("Points it costs"), validators=[InputRequired(),
                                                           NumberRange(1, MAX_COST)])
    stock = IntegerField(_l("In stock"), validators=[InputRequired(),
                                                     NumberRange(0, MAX_STOCK)])
    active = BooleanField(_l("Shown to parents"), default=True)

    def to_input(self) -> ItemInput:
        return ItemInput(name_en=self.name_en.data or "", name_zh=self.name_zh.data or "",
                         description_en=self.description_en.data or "",
                         description_zh=self.description_zh.data or "",
                         cost=self.cost.data, stock=self.stock.data,
                         active=bool(self.active.data))
