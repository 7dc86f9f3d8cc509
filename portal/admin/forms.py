"""Forms of the sync administration (CSRF-protected buttons)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField


class ReplayForm(FlaskForm):
    """Send a dead or conflicting message again; optionally over the CRM's newer value."""

    force = BooleanField(_l("Overwrite the value the CRM has now"))


class DiscardForm(FlaskForm):
    """Keep the CRM's values and drop the portal's edit."""
