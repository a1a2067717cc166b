"""Forms of the clubs pages: a post (text and one photo), a comment, a report."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from community.posts import COMMENT_MAX, POST_MAX, REASON_MAX


class PostForm(FlaskForm):
    body = TextAreaField(_l("Share something with the club"),
                         validators=[InputRequired(), Length(max=POST_MAX)],
                         description=_l("Only club members see posts. You can use **bold**, "
                                        "*italics*, lists and links."))
    photo = FileField(_l("Photo (optional)"),
                      description=_l("Only add a photo you are happy for every club member "
                                     "to see. We remove location and camera details."))


class CommentForm(FlaskForm):
    body = TextAreaField(_l("Your comment"), validators=[InputRequired(),
                                                         Length(max=COMMENT_MAX)])


class ReportForm(FlaskForm):
    reason = StringField(_l("What is wrong with it?"),
                         validators=[InputRequired(), Length(max=REASON_MAX)])
