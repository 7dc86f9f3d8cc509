"""Labels the member pages show for statuses, levels, unit kinds and fields (translated lazily)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

STATUS_LABELS = {
    "new": _l("new"), "current": _l("current"), "grace": _l("grace period"), "lapsed": _l("lapsed"),
    "cancelled": _l("cancelled"), "deceased": _l("deceased"),
}  # fmt: skip
LEVEL_LABELS = {"national": _l("national"), "regional": _l("regional"), "local": _l("local")}
KIND_LABELS = {
    "national": _l("national party"), "region": _l("region"), "branch": _l("branch"),
    "faction": _l("faction"),
    "knowledge_group": _l("knowledge group"), "committee": _l("committee"),
    "youth_organisation": _l("youth organisation"),
}  # fmt: skip
FIELD_LABELS = {
    "member_number": _l("Member number"), "given_name": _l("Given name"), "infix": _l("Infix"),
    "family_name": _l("Family name"), "email": _l("E-mail address"), "mobile": _l("Mobile phone"),
    "phone": _l("Other phone"), "street": _l("Street"), "house_number": _l("House number"),
    "house_number_suffix": _l("Addition"), "postcode": _l("Postcode"), "city": _l("Place"),
    "country": _l("Country"), "birth_date": _l("Date of birth"), "branch_id": _l("Branch"),
    "status": _l("Membership status"), "member_since": _l("Member since"), "member_until": _l("Member until"),
    "dues_paid_through": _l("Dues paid through"), "positions": _l("Positions"), "interests": _l("Interests"),
    "competences": _l("Competences"), "directory_consent": _l("In the who's-who"),
    "do_not_call": _l("Do not call"), "do_not_email": _l("Do not e-mail"),
}  # fmt: skip
