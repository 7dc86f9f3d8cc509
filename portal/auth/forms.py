"""The auth forms (Flask-WTF: CSRF on every one). Labels are English msgids; Dutch in the fragment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

_REQUIRED = _l("This field is required.")


class SignInForm(FlaskForm):
    """First step: e-mail address or member number, and password."""

    identifier = StringField(
        _l("E-mail address or member number"), [DataRequired(_REQUIRED), Length(max=320)]
    )
    password = PasswordField(_l("Password"), [InputRequired(_REQUIRED), Length(max=1024)])


class CodeForm(FlaskForm):
    """A six-digit code from the authenticator app or from the mail."""

    code = StringField(_l("Code"), [DataRequired(_REQUIRED), Length(max=20)])


class RecoveryCodeForm(FlaskForm):
    """One of the ten recovery codes."""

    code = StringField(_l("Recovery code"), [DataRequired(_REQUIRED), Length(max=40)])


class LinkRequestForm(FlaskForm):
    """Ask for an activation or password link."""

    identifier = StringField(
        _l("E-mail address or member number"), [DataRequired(_REQUIRED), Length(max=320)]
    )


class NewPasswordForm(FlaskForm):
    """Choose a password."""

    password = PasswordField(_l("New password"), [InputRequired(_REQUIRED), Length(max=1024)])


class ChangePasswordForm(FlaskForm):
    """Change the password: the current one is needed."""

    current_password = PasswordField(_l("Current password"), [InputRequired(_REQUIRED), Length(max=1024)])
    password = PasswordField(_l("New password"), [InputRequired(_REQUIRED), Length(max=1024)])


class ConfirmIdentityForm(FlaskForm):
    """Password and a fresh code again, before a sensitive change."""

    password = PasswordField(_l("Password"), [InputRequired(_REQUIRED), Length(max=1024)])
    code = StringField(_l("Code"), [DataRequired(_REQUIRED), Length(max=20)])


class ActionForm(FlaskForm):
    """A button that changes something (CSRF only)."""


class AcceptTermsForm(FlaskForm):
    """Accept the current terms."""

    version_id = HiddenField()
    language = HiddenField()  # of the text shown, which the acceptance records
    accept = BooleanField(
        _l("I have read these terms and accept them"), [DataRequired(_l("Tick the box to accept the terms."))]
    )


class PublishTermsForm(FlaskForm):
    """Publish a new version of the terms; `publish_terms_form` adds a title and text per translation."""

    version = StringField(_l("Version"), [DataRequired(_REQUIRED), Length(max=40)])
    title = StringField(_l("Title"), [DataRequired(_REQUIRED), Length(max=200)])
    body_markdown = TextAreaField(_l("Text (Markdown)"), [DataRequired(_REQUIRED), Length(max=100_000)])
    requires_reacceptance = BooleanField(_l("Every officer must accept this version again"), default=True)

    translation_languages: tuple[str, ...] = ()

    def translations(self) -> dict[str, tuple[str, str]]:
        """Each translation language's (title, text) as typed, empty when left blank."""
        return {
            language: (self[f"title_{language}"].data or "", self[f"body_markdown_{language}"].data or "")
            for language in self.translation_languages
        }


def publish_terms_form(original: str, languages: Sequence[str], names: Mapping[str, str]) -> PublishTermsForm:
    """The publishing form with an optional title and text for each of the portal's other languages,
    labelled with the language's name (`names`), so an error names the translation it is about."""

    class WithTranslations(PublishTermsForm):
        translation_languages = tuple(language for language in languages if language != original)

    for language in WithTranslations.translation_languages:
        name = names.get(language, language)
        setattr(
            WithTranslations,
            f"title_{language}",
            StringField(_l("Title (%(language)s)", language=name), [Length(max=200)]),
        )
        setattr(
            WithTranslations,
            f"body_markdown_{language}",
            TextAreaField(_l("Text (%(language)s, Markdown)", language=name), [Length(max=100_000)]),
        )
    return WithTranslations()


class GrantForm(FlaskForm):
    """An explicit role grant: always with an end date and a reason."""

    member_number = StringField(_l("Member number"), [DataRequired(_REQUIRED), Length(max=32)])
    role = SelectField(_l("Role"), choices=[])
    scope_unit_id = SelectField(_l("Org unit"), choices=[], validators=[Optional()])
    ends_on = DateField(_l("End date"), [DataRequired(_l("Enter a date as dd-mm-yyyy."))])
    reason = TextAreaField(_l("Reason"), [DataRequired(_REQUIRED), Length(max=2000)])


class ReasonForm(FlaskForm):
    """A change that needs a reason (end a grant, disable an account)."""

    reason = TextAreaField(_l("Reason"), [DataRequired(_REQUIRED), Length(max=2000)])


class ProofingForm(FlaskForm):
    """Reset a member's second factor after checking who they are."""

    proofing = TextAreaField(
        _l("How did you check the member's identity?"), [DataRequired(_REQUIRED), Length(min=10, max=2000)]
    )


class AccountLookupForm(FlaskForm):
    """Find an account by member number (a form post keeps the number out of URLs and logs)."""

    member_number = StringField(_l("Member number"), [DataRequired(_REQUIRED), Length(max=32)])
