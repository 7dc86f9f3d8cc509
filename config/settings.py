"""Typed, frozen settings read once from the environment (`PORTAL_` prefix)."""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Environment = Literal["development", "test", "production"]
CrmAdapterName = Literal["civicrm", "tryton"]

PREFIX = "PORTAL_"


class SettingsError(ValueError):
    """The environment does not describe a portal that can start; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Everything the portal reads from its environment, validated at start."""

    environment: Environment = "development"
    secret_key: str = ""
    instance_path: Path = field(default_factory=lambda: Path("instance").resolve())
    database_url: str = ""
    base_url: str = "http://127.0.0.1:5000"
    default_locale: str = "nl"
    locales: tuple[str, ...] = ("nl", "en")
    timezone: str = "Europe/Amsterdam"
    trusted_proxy_count: int = 0

    crm_adapter: CrmAdapterName = "civicrm"
    crm_url: str = "http://127.0.0.1:8765"
    crm_api_key: str = ""
    crm_site_key: str = ""
    crm_database: str = ""
    crm_username: str = ""
    crm_password: str = ""
    crm_timeout_seconds: float = 10.0
    crm_push_timeout_seconds: float = 2.0
    pull_page_size: int = 1000
    pull_overlap_minutes: int = 10
    pull_max_removed_share: float = 0.02

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "Ledenportaal <noreply@ledenportaal.invalid>"

    ratelimit_storage_url: str = "memory://"
    email_code_allowed: bool = True
    run_scheduler_in_process: bool = False

    @property
    def is_production(self) -> bool:
        """True when the portal serves real members."""
        return self.environment == "production"

    @property
    def sqlite_path(self) -> Path:
        """Where the embedded default keeps its database."""
        return self.instance_path / "portal.sqlite3"

    def replace(self, **changes: object) -> Settings:
        """A copy with some fields changed (tests and commands use this)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


def _text(environ: Mapping[str, str], name: str, default: str) -> str:
    return environ.get(PREFIX + name, default).strip()


def _integer(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(PREFIX + name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{PREFIX}{name} must be a whole number, got {raw!r}") from None


def _number(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(PREFIX + name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{PREFIX}{name} must be a number, got {raw!r}") from None


def _flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(PREFIX + name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{PREFIX}{name} must be true or false, got {raw!r}")


def _choice(environ: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = _text(environ, name, default)
    if value not in allowed:
        raise SettingsError(f"{PREFIX}{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _secret_key(environ: Mapping[str, str], environment: str, instance_path: Path) -> str:
    key = _text(environ, "SECRET_KEY", "")
    if key:
        if environment == "production" and len(key) < 32:
            raise SettingsError(f"{PREFIX}SECRET_KEY must be at least 32 characters in production")
        return key
    if environment == "production":
        raise SettingsError(f"{PREFIX}SECRET_KEY is not set: production needs a secret key")
    # Development and test keep a random key in the instance folder so sessions survive a restart.
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build validated settings from `environ` (default: the process environment)."""
    environ = os.environ if environ is None else environ
    environment = _choice(environ, "ENV", "development", ("development", "test", "production"))
    instance_path = Path(_text(environ, "INSTANCE_PATH", "instance")).resolve()
    secret_key = _secret_key(environ, environment, instance_path)
    database_url = _text(environ, "DATABASE_URL", "")
    if not database_url:
        if environment == "production":
            raise SettingsError(f"{PREFIX}DATABASE_URL is not set: production needs a database")
        database_url = f"sqlite:///{instance_path / 'portal.sqlite3'}"
    crm_adapter = _choice(environ, "CRM_ADAPTER", "civicrm", ("civicrm", "tryton"))
    crm_api_key = _text(environ, "CRM_API_KEY", "")
    if environment == "production" and crm_adapter == "civicrm" and not crm_api_key:
        raise SettingsError(f"{PREFIX}CRM_API_KEY is not set: the CiviCRM adapter needs an API key")
    removed_share = _number(environ, "PULL_MAX_REMOVED_SHARE", 0.02)
    if not 0 <= removed_share <= 1:
        raise SettingsError(f"{PREFIX}PULL_MAX_REMOVED_SHARE must lie between 0 and 1, got {removed_share}")
    page_size = _integer(environ, "PULL_PAGE_SIZE", 1000)
    if not 1 <= page_size <= 10000:
        raise SettingsError(f"{PREFIX}PULL_PAGE_SIZE must lie between 1 and 10000, got {page_size}")
    locales = tuple(part.strip() for part in _text(environ, "LOCALES", "nl,en").split(",") if part.strip())
    default_locale = _text(environ, "DEFAULT_LOCALE", "nl")
    if default_locale not in locales:
        raise SettingsError(f"{PREFIX}DEFAULT_LOCALE {default_locale!r} is not in {PREFIX}LOCALES")
    timezone = _text(environ, "TIMEZONE", "Europe/Amsterdam")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"{PREFIX}TIMEZONE must be an IANA zone such as Europe/Oslo, got {timezone!r}"
        ) from None
    return Settings(
        environment=environment,  # type: ignore[arg-type]
        secret_key=secret_key,
        instance_path=instance_path,
        database_url=database_url,
        base_url=_text(environ, "BASE_URL", "http://127.0.0.1:5000"),
        default_locale=default_locale,
        locales=locales,
        timezone=timezone,
        trusted_proxy_count=_integer(environ, "TRUSTED_PROXY_COUNT", 0),
        crm_adapter=crm_adapter,  # type: ignore[arg-type]
        crm_url=_text(environ, "CRM_URL", "http://127.0.0.1:8765").rstrip("/"),
        crm_api_key=crm_api_key,
        crm_site_key=_text(environ, "CRM_SITE_KEY", ""),
        crm_database=_text(environ, "CRM_DATABASE", ""),
        crm_username=_text(environ, "CRM_USERNAME", ""),
        crm_password=_text(environ, "CRM_PASSWORD", ""),
        crm_timeout_seconds=_number(environ, "CRM_TIMEOUT_SECONDS", 10.0),
        crm_push_timeout_seconds=_number(environ, "CRM_PUSH_TIMEOUT_SECONDS", 2.0),
        pull_page_size=page_size,
        pull_overlap_minutes=_integer(environ, "PULL_OVERLAP_MINUTES", 10),
        pull_max_removed_share=removed_share,
        smtp_host=_text(environ, "SMTP_HOST", "127.0.0.1"),
        smtp_port=_integer(environ, "SMTP_PORT", 8025),
        smtp_username=_text(environ, "SMTP_USERNAME", ""),
        smtp_password=_text(environ, "SMTP_PASSWORD", ""),
        smtp_starttls=_flag(environ, "SMTP_STARTTLS", False),
        mail_from=_text(environ, "MAIL_FROM", "Ledenportaal <noreply@ledenportaal.invalid>"),
        ratelimit_storage_url=_text(environ, "RATELIMIT_STORAGE_URL", "memory://"),
        email_code_allowed=_flag(environ, "EMAIL_CODE_ALLOWED", True),
        run_scheduler_in_process=_flag(environ, "RUN_SCHEDULER_IN_PROCESS", False),
    )
