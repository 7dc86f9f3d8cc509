"""Forms of the administration pages: the sync page's CSRF-protected buttons and the log's filter."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, ValidationError
from wtforms.validators import Length, NumberRange, Optional


class ReplayForm(FlaskForm):
    """Send a dead or conflicting message again; optionally over the CRM's newer value."""

    force = BooleanField(_l("Overwrite the value the CRM has now"))


class DiscardForm(FlaskForm):
    """Keep the CRM's values and drop the portal's edit."""


class LogFilterForm(FlaskForm):
    """Narrow the mutation log (GET: reading changes nothing). The action's choices are the log's own."""

    class Meta:
        csrf = False

    action = SelectField(_l("Action"), validate_choice=True, default="")
    member = StringField(_l("About member (member number)"), [Optional(), Length(max=32)])
    actor = StringField(_l("Done by (member number)"), [Optional(), Length(max=32)])
    target_type = StringField(_l("Record type"), [Optional(), Length(max=80)])
    target_id = StringField(_l("Record number"), [Optional(), Length(max=64)])
    since = DateField(_l("From (date)"), [Optional()])
    until = DateField(_l("Up to and including (date)"), [Optional()])
    before = IntegerField(validators=[Optional(), NumberRange(min=1)])
    reads_before = IntegerField(validators=[Optional(), NumberRange(min=1)])

    def validate_until(self, until: DateField) -> None:
        if until.data and self.since.data and until.data < self.since.data:
            raise ValidationError(_l("The end date lies before the start date."))
