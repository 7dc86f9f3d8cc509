"""Forms of my page, the who's-who and the member search (WTForms; rules in `contact_details`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional, ValidationError
from wtforms.widgets import HiddenInput

from portal.members import contact_details
from portal.members.models import Member, MembershipStatus, OrgLevel, OrgUnitKind, PositionFunction
from portal.members.records import FIELD_ORDER

COUNTRIES = [SelectChoice(code, label) for code, label in [
    ("NL", "Nederland"), ("BE", "België"), ("DE", "Deutschland"), ("FR", "France"), ("GB", "United Kingdom"),
    ("ES", "España"), ("OTHER", _l("Other country"))]]  # fmt: skip


def _rule(check: Callable[[str], Any]) -> Callable[[Any, Any], None]:
    """A WTForms validator from a `contact_details` rule; the rule's msgid becomes the field error."""

    def validate(_form: Any, field: Any) -> None:
        try:
            check(field.data or "")
        except contact_details.InvalidValue as error:
            raise ValidationError(_l(str(error))) from None

    return validate


def _postcode(form: Any, field: Any) -> None:
    country = form.country.data if "country" in form else "NL"
    _rule(lambda value: contact_details.postcode(value, country=country) if value.strip() else "")(
        form, field
    )


def _house_number(_form: Any, field: Any) -> None:
    if (field.data or "").strip():
        _rule(contact_details.house_number)(_form, field)


class MemberDetailsForm(FlaskForm):
    """Everything a member (or an officer allowed to) may change; views drop the fields not allowed."""

    given_name = StringField(
        _l("Given name"),
        validators=[Length(max=120), _rule(lambda v: contact_details.plain_text(v, max_length=120))],
    )
    infix = StringField(
        _l("Infix (tussenvoegsel)"),
        validators=[Length(max=40), _rule(lambda v: contact_details.plain_text(v, max_length=40))],
    )
    family_name = StringField(
        _l("Family name"),
        validators=[Length(max=160), _rule(lambda v: contact_details.plain_text(v, max_length=160))],
    )
    birth_date = DateField(_l("Date of birth"), validators=[Optional()])
    email = StringField(
        _l("E-mail address"), validators=[Length(max=320), _rule(contact_details.email_address)]
    )
    mobile = StringField(_l("Mobile phone"), validators=[Length(max=40), _rule(contact_details.mobile_e164)])
    phone = StringField(_l("Other phone"), validators=[Length(max=40), _rule(contact_details.phone_e164)])
    street = StringField(
        _l("Street"),
        validators=[Length(max=200), _rule(lambda v: contact_details.plain_text(v, max_length=200))],
    )
    house_number = StringField(_l("House number"), validators=[Length(max=6), _house_number])
    house_number_suffix = StringField(
        _l("Addition"), validators=[Length(max=16), _rule(contact_details.house_number_suffix)]
    )
    postcode = StringField(_l("Postcode"), validators=[Length(max=16), _postcode])
    city = StringField(
        _l("Place"),
        validators=[Length(max=120), _rule(lambda v: contact_details.plain_text(v, max_length=120))],
    )
    country = SelectField(_l("Country"), choices=COUNTRIES, default="NL")
    interests = TextAreaField(_l("Interests"), validators=[Length(max=2000), _rule(contact_details.tags)])
    competences = TextAreaField(_l("Competences"), validators=[Length(max=2000), _rule(contact_details.tags)])
    directory_consent = BooleanField(_l("Show my e-mail address, mobile number and place in the who's-who"))
    do_not_call = BooleanField(_l("Do not call me"))
    do_not_email = BooleanField(_l("Do not e-mail me"))
    version = IntegerField(
        validators=[Optional()], widget=HiddenInput()
    )  # the version the form was built from

    def keep_only(self, names: frozenset[str]) -> None:
        """Remove every field the viewer may not change (they are then neither shown nor read)."""
        for name in list(self._fields):
            if name not in names and name not in {"csrf_token", "version"}:
                delattr(self, name)

    def changes(self) -> dict[str, Any]:
        """The submitted values in the form `update_member` takes (normalised by the rules)."""
        country = self.country.data if "country" in self else "NL"
        values: dict[str, Any] = {}
        for name in self._fields:
            if name in {"csrf_token", "version"}:
                continue
            raw = self[name].data
            if name in {"email"}:
                values[name] = contact_details.email_address(raw or "")
            elif name == "mobile":
                values[name] = contact_details.mobile_e164(raw or "")
            elif name == "phone":
                values[name] = contact_details.phone_e164(raw or "")
            elif name == "postcode":
                values[name] = contact_details.postcode(raw, country=country) if (raw or "").strip() else ""
            elif name == "house_number":
                values[name] = contact_details.house_number(raw) if (raw or "").strip() else None
            elif name == "house_number_suffix":
                values[name] = contact_details.house_number_suffix(raw or "")
            elif name in {"interests", "competences"}:
                values[name] = contact_details.tags(raw or "")
            elif name in {"directory_consent", "do_not_call", "do_not_email"}:
                values[name] = bool(raw)
            elif name == "birth_date":
                values[name] = raw
            elif name == "country":
                values[name] = "" if raw == "OTHER" else raw
            else:
                values[name] = contact_details.plain_text(raw or "", max_length=200)
        return values


class MemberFormData:
    """A member's stored values in the shape `MemberDetailsForm` shows them."""

    def __init__(self, member: Member) -> None:
        for name in FIELD_ORDER:
            if name != "positions":
                setattr(self, name, getattr(member, name))
        self.house_number = "" if member.house_number is None else str(member.house_number)
        self.interests = "\n".join(member.interests or [])
        self.competences = "\n".join(member.competences or [])
        self.country = member.country or "OTHER"
        self.version = member.version


class DirectorySearchForm(FlaskForm):
    """The who's-who search (sent by POST so names never land in access logs or Referer headers)."""

    q = StringField(_l("Name"), validators=[Optional(), Length(max=100)])
    level = SelectField(_l("Level"), choices=[], validators=[Optional()])
    region = SelectField(_l("Region"), choices=[], validators=[Optional()])
    branch = SelectField(_l("Branch"), choices=[], validators=[Optional()])
    kind = SelectField(_l("Kind of body"), choices=[], validators=[Optional()])
    role = SelectField(_l("Role"), choices=[], validators=[Optional()])
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=1000)], default=1)


class MemberSearchForm(FlaskForm):
    """The officer's member search; filters on fields the officer may not see are removed by the view."""

    name = StringField(_l("Name"), validators=[Optional(), Length(max=100)])
    member_number = StringField(_l("Member number"), validators=[Optional(), Length(max=32)])
    postcode_from = StringField(_l("Postcode from (4 digits)"), validators=[Optional(), Length(max=4)])
    postcode_to = StringField(_l("Postcode to (4 digits)"), validators=[Optional(), Length(max=4)])
    statuses = SelectMultipleField(_l("Membership status"), choices=[], validators=[Optional()])
    member_since_from = DateField(_l("Member since, from"), validators=[Optional()])
    member_since_to = DateField(_l("Member since, until"), validators=[Optional()])
    age_min = IntegerField(_l("Age from"), validators=[Optional(), NumberRange(min=0, max=130)])
    age_max = IntegerField(_l("Age to"), validators=[Optional(), NumberRange(min=0, max=130)])
    functions = SelectMultipleField(_l("Position"), choices=[], validators=[Optional()])
    interests = StringField(_l("Interest"), validators=[Optional(), Length(max=60)])
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=1000)], default=1)
    export_format = SelectField(
        choices=[SelectChoice("csv", "CSV"), SelectChoice("xlsx", "XLSX")], validators=[Optional()]
    )

    def keep_only(self, names: frozenset[str]) -> None:
        """Remove the filters the officer may not use."""
        for name in list(self._fields):
            if name not in names and name not in {"csrf_token", "page", "export_format"}:
                delattr(self, name)


STATUS_CHOICES = [status.value for status in MembershipStatus]
LEVEL_CHOICES = [level.value for level in OrgLevel]
KIND_CHOICES = [kind.value for kind in OrgUnitKind]
FUNCTION_CHOICES = [function.value for function in PositionFunction]
