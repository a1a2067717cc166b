"""The shipping address a redemption is sent to."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import InputRequired, Length, Optional

from rewards.catalogue import Address


class AddressForm(FlaskForm):
    recipient = StringField(_l("Recipient's name"), validators=[InputRequired(),
                                                                 Length(max=40)])
    phone = StringField(_l("Mobile phone"), validators=[InputRequired(), Length(max=20)],
                        description=_l("Only for the courier."))
    province = StringField(_l("Province"), validators=[InputRequired(), Length(max=40)])
    city = StringField(_l("City"), validators=[InputRequired(), Length(max=40)])
    address = StringField(_l("Street, building and flat"),
                          validators=[InputRequired(), Length(min=4, max=200)])
    postcode = StringField(_l("Postcode (optional)"), validators=[Optional(), Length(max=10)])
    #: Made when the form is first shown: the confirm step redeems once with it.
    request_key = HiddenField()

    def to_address(self) -> Address:
        return Address(recipient=self.recipient.data or "", phone=self.phone.data or "",
                       province=self.province.data or "", city=self.city.data or "",
                       address=self.address.data or "", postcode=self.postcode.data or "")
