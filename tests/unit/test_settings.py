"""Settings are read from PORTAL_* variables, validated, and refuse an unsafe production start."""

from pathlib import Path

import pytest

from config import SettingsError, load_settings


def test_development_defaults_use_sqlite_in_the_instance_folder(tmp_path: Path) -> None:
    settings = load_settings({"PORTAL_INSTANCE_PATH": str(tmp_path)})
    assert settings.environment == "development"
    assert settings.database_url == f"sqlite:///{tmp_path / 'portal.sqlite3'}"
    assert settings.default_locale == "nl"
    assert len(settings.secret_key) >= 32
    # the generated key is kept, so sessions survive a restart
    assert load_settings({"PORTAL_INSTANCE_PATH": str(tmp_path)}).secret_key == settings.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_production_without_secret_key_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="PORTAL_SECRET_KEY"):
        load_settings({"PORTAL_ENV": "production", "PORTAL_INSTANCE_PATH": str(tmp_path)})
    assert not (tmp_path / "secret_key").exists()


def test_production_rejects_a_short_secret_key(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="at least 32"):
        load_settings(
            {"PORTAL_ENV": "production", "PORTAL_SECRET_KEY": "short", "PORTAL_INSTANCE_PATH": str(tmp_path)}
        )


def test_production_needs_a_database_and_a_crm_key(tmp_path: Path) -> None:
    base = {"PORTAL_ENV": "production", "PORTAL_SECRET_KEY": "x" * 40, "PORTAL_INSTANCE_PATH": str(tmp_path)}
    with pytest.raises(SettingsError, match="PORTAL_DATABASE_URL"):
        load_settings(base)
    with pytest.raises(SettingsError, match="PORTAL_CRM_API_KEY"):
        load_settings(base | {"PORTAL_DATABASE_URL": "postgresql://db/portal"})
    settings = load_settings(
        base | {"PORTAL_DATABASE_URL": "postgresql://db/portal", "PORTAL_CRM_API_KEY": "k"}
    )
    assert settings.is_production
    assert settings.database_url == "postgresql://db/portal"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("PORTAL_ENV", "staging", "PORTAL_ENV must be one of"),
        ("PORTAL_SMTP_PORT", "twenty-five", "PORTAL_SMTP_PORT must be a whole number"),
        ("PORTAL_CRM_TIMEOUT_SECONDS", "soon", "PORTAL_CRM_TIMEOUT_SECONDS must be a number"),
        ("PORTAL_SMTP_STARTTLS", "maybe", "PORTAL_SMTP_STARTTLS must be true or false"),
        ("PORTAL_PULL_MAX_REMOVED_SHARE", "1.5", "between 0 and 1"),
        ("PORTAL_PULL_PAGE_SIZE", "0", "between 1 and 10000"),
        ("PORTAL_CRM_ADAPTER", "salesforce", "PORTAL_CRM_ADAPTER must be one of"),
        ("PORTAL_DEFAULT_LOCALE", "fr", "is not in PORTAL_LOCALES"),
    ],
)
def test_bad_values_are_refused_with_the_variable_name(
    tmp_path: Path, variable: str, value: str, message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings({"PORTAL_INSTANCE_PATH": str(tmp_path), variable: value})


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = load_settings({"PORTAL_INSTANCE_PATH": str(tmp_path)})
    with pytest.raises(AttributeError):
        settings.secret_key = "other"  # type: ignore[misc]
    assert settings.replace(smtp_port=2525).smtp_port == 2525


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../../etc/passwd", ""])
def test_an_unknown_time_zone_is_refused_at_start(tmp_path: Path, zone: str) -> None:
    with pytest.raises(SettingsError, match="PORTAL_TIMEZONE"):
        load_settings({"PORTAL_INSTANCE_PATH": str(tmp_path), "PORTAL_TIMEZONE": zone})
    assert load_settings(
        {"PORTAL_INSTANCE_PATH": str(tmp_path), "PORTAL_TIMEZONE": "Europe/Oslo"}
    ).timezone == ("Europe/Oslo")
