"""Typed, frozen settings and the policy files; imports nothing of ours."""

from config.settings import Settings, SettingsError, load_settings

__all__ = ["Settings", "SettingsError", "load_settings"]
