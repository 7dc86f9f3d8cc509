"""marshmallow schemas for the CiviCRM records we read; a record that fails is skipped and reported."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate

CIVI_DATETIME = "%Y-%m-%d %H:%M:%S"


class _Lenient(Schema):
    """Unknown keys are ignored; nulls become the field's default."""

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def drop_nulls(self, data: Any, **_kw: Any) -> Any:
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value is not None}
        return data


def _text(key: str | None = None, length: int = 255) -> fields.String:
    return fields.String(data_key=key, load_default="", validate=validate.Length(max=length))


def _flag(key: str | None = None) -> fields.Boolean:
    return fields.Boolean(data_key=key, load_default=False)


class IndividualSchema(_Lenient):
    """An Individual contact with its primary e-mail, phone and address and the party's custom fields."""

    id = fields.Integer(required=True, strict=False)
    member_number = fields.String(
        data_key="external_identifier", required=True, validate=validate.Regexp(r"^[0-9A-Za-z-]{1,32}$")
    )
    first_name = _text(length=120)
    middle_name = _text(length=40)
    last_name = fields.String(required=True, validate=validate.Length(min=1, max=160))
    birth_date = fields.Date(load_default=None)
    do_not_phone = _flag()
    do_not_email = _flag()
    is_opt_out = _flag()
    is_deleted = _flag()
    is_deceased = _flag()
    modified_date = fields.DateTime(format=CIVI_DATETIME, load_default=None)
    email = fields.Email(data_key="email_primary.email", load_default="")
    phone = _text("phone_primary.phone", 40)
    phone_type = _text("phone_primary.phone_type_id:name", 20)
    street_name = _text("address_primary.street_name", 200)
    street_number = fields.Integer(data_key="address_primary.street_number", load_default=None)
    street_number_suffix = _text("address_primary.street_number_suffix", 16)
    postal_code = _text("address_primary.postal_code", 16)
    city = _text("address_primary.city", 120)
    country = _text("address_primary.country_id:abbr", 2)
    branch_id = fields.Integer(data_key="Party_Member.branch_id", load_default=None)
    directory_consent = _flag("Party_Member.directory_consent")
    interests = fields.List(
        fields.String(validate=validate.Length(max=80)), data_key="Party_Member.interests", load_default=list
    )
    competences = fields.List(
        fields.String(validate=validate.Length(max=80)),
        data_key="Party_Member.competences",
        load_default=list,
    )


class MembershipSchema(_Lenient):
    """A membership row: status and dates."""

    id = fields.Integer(required=True)
    contact_id = fields.Integer(required=True)
    membership_type = _text("membership_type_id:name", 64)
    status = fields.String(data_key="status_id:name", required=True)
    join_date = fields.Date(load_default=None)
    start_date = fields.Date(load_default=None)
    end_date = fields.Date(load_default=None)


class OrganizationSchema(_Lenient):
    """An Organization contact that is an org unit of the party."""

    id = fields.Integer(required=True)
    organization_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    contact_sub_type = fields.List(fields.String(), load_default=list)
    parent_id = fields.Integer(data_key="Party_Unit.parent_id", load_default=None)
    level = _text("Party_Unit.level", 16)
    code = _text("Party_Unit.code", 32)
    municipality = _text("Party_Unit.municipality", 120)
    province = _text("Party_Unit.province", 120)
    is_deleted = _flag()


class RelationshipSchema(_Lenient):
    """A relationship between a person and an org unit: a position."""

    id = fields.Integer(required=True)
    contact_id_a = fields.Integer(required=True)
    contact_id_b = fields.Integer(required=True)
    relationship_type = fields.String(data_key="relationship_type_id:name", required=True)
    start_date = fields.Date(load_default=None)
    end_date = fields.Date(load_default=None)
    is_active = fields.Boolean(load_default=True)
    is_public = fields.Boolean(data_key="Party_Position.is_public", load_default=True)
    modified_date = fields.DateTime(format=CIVI_DATETIME, load_default=None)


def load_each(
    schema: Schema, rows: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[tuple[str, dict]]]:
    """Validate rows one by one: the good ones loaded, the bad ones as (id, errors)."""
    good: list[dict[str, Any]] = []
    bad: list[tuple[str, dict]] = []
    for row in rows:
        try:
            good.append(schema.load(row))
        except ValidationError as error:
            messages = error.messages if isinstance(error.messages, dict) else {"_": error.messages}
            bad.append((str(row.get("id", "?")), messages))
    return good, bad
