"""Forms of the administration pages: the sync page's CSRF-protected buttons and the log's filter."""

from __future__ import annotations

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, ValidationError
from wtforms.validators import Length, NumberRange, Optional


class ReplayForm(FlaskForm):
    """Send a dead or conflicting message again; optionally over the CRM's newer value."""

    force = BooleanField(_l("Overwrite the value the CRM has now"))


class DiscardForm(FlaskForm):
    """Keep the CRM's values and drop the portal's edit."""


CURSOR_MAX = 2**31 - 1  # the sequence numbers and ids are 32-bit integers on PostgreSQL
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)  # local midnight ± the zone stays a datetime
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _printable(_form: FlaskForm, field: StringField) -> None:
    """No control characters (PostgreSQL refuses NUL in text; none belongs in a number or a name)."""
    if field.data and _CONTROL.search(field.data):
        raise ValidationError(_l("Remove the control characters from this field."))


def _in_range(_form: FlaskForm, field: DateField) -> None:
    if field.data and not FIRST_DAY <= field.data <= LAST_DAY:
        raise ValidationError(_l("Give a date between 1900 and 9998."))


class LogFilterForm(FlaskForm):
    """Narrow the mutation log (GET: reading changes nothing). The action's choices are the log's own."""

    class Meta:
        csrf = False

    action = SelectField(_l("Action"), validate_choice=True, default="")
    member = StringField(_l("About member (member number)"), [Optional(), Length(max=32), _printable])
    actor = StringField(_l("Done by (member number)"), [Optional(), Length(max=32), _printable])
    target_type = StringField(_l("Record type"), [Optional(), Length(max=80), _printable])
    target_id = StringField(_l("Record number"), [Optional(), Length(max=64), _printable])
    since = DateField(_l("From (date)"), [Optional(), _in_range])
    until = DateField(_l("Up to and including (date)"), [Optional(), _in_range])
    # The pages' cursors, carried by the links (no input on the page): labelled for the error summary.
    before = IntegerField(_l("Page of entries"), [Optional(), NumberRange(min=1, max=CURSOR_MAX)])
    reads_before = IntegerField(_l("Page of look-ups"), [Optional(), NumberRange(min=1, max=CURSOR_MAX)])

    def validate_until(self, until: DateField) -> None:
        if until.data and self.since.data and until.data < self.since.data:
            raise ValidationError(_l("The end date lies before the start date."))
