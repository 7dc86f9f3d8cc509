"""Declarative forms, conditions, submissions and relay contact (not built yet)."""
