"""The survey forms: a score (the buttons of the scale) and an optional comment."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional

from care.surveys import COMMENT_MAX


class AnswerForm(FlaskForm):
    """The score comes from the button pressed (name="score"); the comment is optional."""

    score = IntegerField(_l("Score"), validators=[Optional(), NumberRange(0, 10)])
    comment = TextAreaField(_l("Anything you would like to tell us? (optional)"),
                            validators=[Optional(), Length(max=COMMENT_MAX)])


class CommentForm(FlaskForm):
    comment = TextAreaField(_l("Anything you would like to tell us? (optional)"),
                            validators=[Length(max=COMMENT_MAX)])


#: What each trigger's survey asks (the page, the inbox card and the email).
QUESTIONS = {
    "ticket": _l("How satisfied are you with the answer to your question?"),
    "birth": _l("How well is Baby Journey helping you in these first weeks with your baby?"),
    "digests": _l("How useful are the emails about your baby's stage?"),
    "quarterly": _l("How likely are you to recommend Baby Journey to a friend or family "
                    "member?"),
}
#: What the ends of each scale mean.
SCALE_ENDS = {"csat": (_l("Very unhappy"), _l("Very happy")),
              "nps": (_l("Not at all likely"), _l("Extremely likely"))}
