"""Forms of the library pages: a product review (a rating of 1–5 stars and a few words)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.validators import Length

from content.reviews import RATINGS, TEXT_MAX


class ReviewForm(FlaskForm):
    #: The domain checks the rating (content.reviews.parse_rating) and says what is wrong.
    rating = RadioField(_l("Your rating"), choices=[(str(r), f"{r} ★") for r in RATINGS],
                        validate_choice=False)
    body = TextAreaField(_l("Your review (optional)"), validators=[Length(max=TEXT_MAX)],
                         description=_l("Plain text. Other parents see it with your display "
                                        "name."))
