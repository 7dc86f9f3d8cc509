"""Meeting forms (Flask-WTF, CSRF on every POST). Labels are English msgids; Dutch in the fragment."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.meetings import texts
from portal.meetings.eligibility import UnitScope
from portal.meetings.quorum import QuorumKind

_REQUIRED = _l("This field is required.")
_WHOLE = _l("Enter a whole number.")
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


class MeetingForm(FlaskForm):
    """A meeting with its voting-rights rule and quorum rule."""

    org_unit_id = SelectField(_l("Org unit"), coerce=int, validators=[InputRequired(_REQUIRED)])
    title = StringField(_l("Title"), [DataRequired(_REQUIRED), Length(max=200)])
    place = StringField(_l("Place"), [Optional(), Length(max=200)])
    starts_at = DateTimeLocalField(_l("Starts at"), [InputRequired(_REQUIRED)], format=LOCAL_FORMAT)
    ends_at = DateTimeLocalField(_l("Ends at"), [InputRequired(_REQUIRED)], format=LOCAL_FORMAT)
    cutoff_date = DateField(_l("Cut-off date"), [InputRequired(_REQUIRED)])
    rule_unit_scope = RadioField(
        _l("Who belongs to the meeting"),
        choices=[SelectChoice(scope.value, label) for scope, label in texts.UNIT_SCOPES.items()],
        default=UnitScope.SUBTREE.value,
        validators=[InputRequired(_REQUIRED)],
    )
    rule_current_at_cutoff = BooleanField(_l("Membership current on the cut-off date"), default=True)
    rule_dues_paid = BooleanField(_l("Dues paid through the meeting date"))
    rule_exclude_suspended = BooleanField(_l("No suspended voting right"), default=True)
    rule_min_membership_days = IntegerField(
        _l("Minimum membership age in days"),
        [Optional(), NumberRange(min=0, max=36500, message=_WHOLE)],
        default=0,
    )
    quorum_kind = RadioField(
        _l("Quorum"),
        choices=[SelectChoice(kind.value, label) for kind, label in texts.QUORUM_KINDS.items()],
        default=QuorumKind.NONE.value,
        validators=[InputRequired(_REQUIRED)],
    )
    quorum_numerator = IntegerField(
        _l("Number, or numerator of the share"),
        [Optional(), NumberRange(min=0, max=1_000_000, message=_WHOLE)],
    )
    quorum_denominator = IntegerField(
        _l("Denominator of the share"), [Optional(), NumberRange(min=1, max=1_000_000, message=_WHOLE)]
    )
    retention_days = IntegerField(
        _l("Keep attendance for (days)"),
        [InputRequired(_REQUIRED), NumberRange(min=1, max=3650, message=_WHOLE)],
    )


class StewardForm(FlaskForm):
    """Assign a steward by member number."""

    member_number = StringField(_l("Member number"), [DataRequired(_REQUIRED), Length(max=32)])


class SnapshotForm(FlaskForm):
    """Freeze who is present now."""

    label = StringField(_l("What is this list for?"), [DataRequired(_REQUIRED), Length(max=200)])


class ConfirmForm(FlaskForm):
    """A button that only needs CSRF protection."""


class DecisionForm(FlaskForm):
    """Apply or dismiss a roll difference."""

    decision = HiddenField(validators=[DataRequired(_REQUIRED)])


class CheckInForm(FlaskForm):
    """The door's main form: a member number (or a scanned card) and the client nonce."""

    member_number = StringField(_l("Member number"), [Optional(), Length(max=64)])
    card = HiddenField(validators=[Optional(), Length(max=200)])
    method = HiddenField(default="number", validators=[Optional(), Length(max=16)])
    nonce = HiddenField(validators=[DataRequired(_REQUIRED), Length(max=64)])


class CheckOutForm(FlaskForm):
    """Check out by member number, or a listed presence by its id."""

    member_number = StringField(_l("Member number"), [Optional(), Length(max=64)])
    attendance_id = IntegerField(validators=[Optional()])
    nonce = HiddenField(validators=[DataRequired(_REQUIRED), Length(max=64)])


class OverrideForm(FlaskForm):
    """Give a voting right against the roll, with a reason the chair will read."""

    member_number = HiddenField(validators=[DataRequired(_REQUIRED), Length(max=64)])
    reason = TextAreaField(_l("Reason for the override"), [DataRequired(_REQUIRED), Length(max=500)])
    nonce = HiddenField(validators=[DataRequired(_REQUIRED), Length(max=64)])


class CardForm(FlaskForm):
    """Record the number of the voting card handed out."""

    attendance_id = HiddenField(validators=[DataRequired(_REQUIRED), Length(max=12)])
    card_number = StringField(_l("Voting card number"), [DataRequired(_REQUIRED), Length(max=32)])


class GuestForm(FlaskForm):
    """A guest without a voting right."""

    name = StringField(_l("Name of the guest"), [DataRequired(_REQUIRED), Length(max=200)])
    note = StringField(_l("Organisation or role"), [Optional(), Length(max=200)])
    nonce = HiddenField(validators=[DataRequired(_REQUIRED), Length(max=64)])


class SearchForm(FlaskForm):
    """Search by name; postcode and birth year only narrow, they are never shown."""

    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField(_l("Name"), [DataRequired(_REQUIRED), Length(max=100)])
    postcode = StringField(_l("Postcode"), [Optional(), Length(max=16)])
    birth_year = IntegerField(
        _l("Year of birth"), [Optional(), NumberRange(min=1900, max=2100, message=_WHOLE)]
    )
