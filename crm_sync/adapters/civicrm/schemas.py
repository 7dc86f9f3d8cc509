"""marshmallow schemas for the CiviCRM records we read; a record that fails is skipped and reported.

A full pull validates 400,000 contacts of 25 fields each, and marshmallow's generic path costs about
2 µs per value. The fields here therefore accept a value that is plainly valid (the right type, within
its limits) at once and hand everything else to marshmallow's own field, which converts it or raises
the usual error: the rules and messages are marshmallow's, only the common case is quicker.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, missing, validate

CIVI_DATETIME = "%Y-%m-%d %H:%M:%S"


class _Plain:
    """Mixin for a marshmallow field: null reads as missing (the field's default), a plainly valid
    value is taken as it is, anything else goes through the field's full deserialisation."""

    required: bool
    load_default: Any

    def deserialize(self, value: Any, attr: str | None = None, data: Any = None, **kwargs: Any) -> Any:
        if value is None:
            value = missing
        if value is missing:
            if not self.required:
                default = self.load_default
                return default() if callable(default) else default
        else:
            plain = self._plain(value)
            if plain is not missing:
                return plain
        return super().deserialize(value, attr, data, **kwargs)  # type: ignore[misc]

    def _plain(self, value: Any) -> Any:
        """`value` converted when it is plainly valid, else `missing`."""
        return missing


class _String(_Plain, fields.String):
    def __init__(
        self, *, max_length: int, min_length: int = 0, pattern: str | None = None, **kwargs: Any
    ) -> None:
        checks: list[validate.Validator] = [validate.Length(min=min_length or None, max=max_length)]
        if pattern is not None:
            checks.append(validate.Regexp(pattern))
        super().__init__(validate=checks, **kwargs)
        self.min_length, self.max_length = min_length, max_length
        self.pattern = re.compile(pattern) if pattern is not None else None

    def _plain(self, value: Any) -> Any:
        if (
            type(value) is str
            and self.min_length <= len(value) <= self.max_length
            and (self.pattern is None or self.pattern.match(value))
        ):
            return value
        return missing


class _Integer(_Plain, fields.Integer):
    def _plain(self, value: Any) -> Any:
        return value if type(value) is int else missing


class _Boolean(_Plain, fields.Boolean):
    def _plain(self, value: Any) -> Any:
        return value if value is True or value is False else missing


class _Date(_Plain, fields.Date):
    def _plain(self, value: Any) -> Any:
        if type(value) is str and len(value) == 10 and value[4] == "-" and value[7] == "-":
            try:
                return date.fromisoformat(value)
            except ValueError:
                return missing
        return missing


class _CiviDateTime(_Plain, fields.DateTime):
    """'YYYY-MM-DD HH:MM:SS' (CiviCRM's site time), naive."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format=CIVI_DATETIME, **kwargs)

    def _plain(self, value: Any) -> Any:
        if type(value) is str and len(value) == 19 and value[10] == " " and value[13] == value[16] == ":":
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                return missing
        return missing


class _Strings(_Plain, fields.List):
    """A list of texts, each at most `max_length` long (None: any length)."""

    def __init__(self, *, max_length: int | None = None, **kwargs: Any) -> None:
        item = fields.String(validate=validate.Length(max=max_length)) if max_length else fields.String()
        super().__init__(item, load_default=list, **kwargs)
        self.max_length = max_length

    def _plain(self, value: Any) -> Any:
        limit = self.max_length
        if type(value) is list and all(
            type(item) is str and (limit is None or len(item) <= limit) for item in value
        ):
            return list(value)
        return missing


class _Email(_Plain, fields.Email):
    """Every non-empty address goes through marshmallow's e-mail validator."""


def _text(key: str | None = None, length: int = 255) -> fields.Field:
    return _String(data_key=key, load_default="", max_length=length)


def _flag(key: str | None = None) -> fields.Field:
    return _Boolean(data_key=key, load_default=False)


def _date() -> fields.Field:
    return _Date(load_default=None)


class _Lenient(Schema):
    """Unknown keys are ignored; nulls become the field's default (required fields: an error)."""

    class Meta:
        unknown = EXCLUDE


class IndividualSchema(_Lenient):
    """An Individual contact with its primary e-mail, phone and address and the party's custom fields."""

    id = _Integer(required=True, strict=False)
    member_number = _String(
        data_key="external_identifier", required=True, max_length=32, pattern=r"^[0-9A-Za-z-]{1,32}$"
    )
    first_name = _text(length=120)
    middle_name = _text(length=40)
    last_name = _String(required=True, min_length=1, max_length=160)
    birth_date = _date()
    do_not_phone = _flag()
    do_not_email = _flag()
    is_opt_out = _flag()
    is_deleted = _flag()
    is_deceased = _flag()
    modified_date = _CiviDateTime(load_default=None)
    email = _Email(data_key="email_primary.email", load_default="")
    phone = _text("phone_primary.phone", 40)
    phone_type = _text("phone_primary.phone_type_id:name", 20)
    street_name = _text("address_primary.street_name", 200)
    street_number = _Integer(data_key="address_primary.street_number", load_default=None)
    street_number_suffix = _text("address_primary.street_number_suffix", 16)
    postal_code = _text("address_primary.postal_code", 16)
    city = _text("address_primary.city", 120)
    country = _text("address_primary.country_id:abbr", 2)
    branch_id = _Integer(data_key="Party_Member.branch_id", load_default=None)
    directory_consent = _flag("Party_Member.directory_consent")
    interests = _Strings(data_key="Party_Member.interests", max_length=80)
    competences = _Strings(data_key="Party_Member.competences", max_length=80)


class MembershipSchema(_Lenient):
    """A membership row: the status and the dates the mapping reads."""

    id = _Integer(required=True)
    contact_id = _Integer(required=True)
    status = _String(data_key="status_id:name", required=True, max_length=64)
    join_date = _date()
    end_date = _date()


class OrganizationSchema(_Lenient):
    """An Organization contact that is an org unit of the party."""

    id = _Integer(required=True)
    organization_name = _String(required=True, min_length=1, max_length=200)
    contact_sub_type = _Strings()
    parent_id = _Integer(data_key="Party_Unit.parent_id", load_default=None)
    level = _text("Party_Unit.level", 16)
    code = _text("Party_Unit.code", 32)
    municipality = _text("Party_Unit.municipality", 120)
    province = _text("Party_Unit.province", 120)
    is_deleted = _flag()


class RelationshipSchema(_Lenient):
    """A relationship between a person and an org unit: a position."""

    id = _Integer(required=True)
    contact_id_a = _Integer(required=True)
    contact_id_b = _Integer(required=True)
    relationship_type = _String(data_key="relationship_type_id:name", required=True, max_length=64)
    start_date = _date()
    end_date = _date()
    is_active = _Boolean(load_default=True)
    is_public = _Boolean(data_key="Party_Position.is_public", load_default=True)
    modified_date = _CiviDateTime(load_default=None)


def load_each(
    schema: Schema, rows: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[tuple[str, dict]]]:
    """Validate rows (one `load(many=True)`): the good ones loaded, the bad ones as (id, errors).

    A bad row never reaches the good ones, not even partly: marshmallow reports errors per index.
    """
    try:
        return schema.load(rows, many=True), []
    except ValidationError as error:
        loaded = error.valid_data if isinstance(error.valid_data, list) else []
        messages = error.messages if isinstance(error.messages, dict) else {}
        if len(loaded) != len(rows) or not all(isinstance(index, int) for index in messages):
            return _load_one_by_one(schema, rows)  # not a list of per-row errors: be plain about it
        good = [values for index, values in enumerate(loaded) if index not in messages]
        bad = [(str(_row_id(rows[index])), _as_dict(found)) for index, found in messages.items()]
        return good, bad


def _row_id(row: Any) -> object:
    return row.get("id", "?") if isinstance(row, dict) else "?"


def _as_dict(messages: Any) -> dict:
    return messages if isinstance(messages, dict) else {"_": messages}


def _load_one_by_one(
    schema: Schema, rows: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[tuple[str, dict]]]:
    good: list[dict[str, Any]] = []
    bad: list[tuple[str, dict]] = []
    for row in rows:
        try:
            good.append(schema.load(row))
        except ValidationError as error:
            bad.append((str(_row_id(row)), _as_dict(error.messages)))
    return good, bad
