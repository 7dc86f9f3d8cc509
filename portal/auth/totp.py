"""TOTP (RFC 6238) with a ±1 step window where each step is accepted only once (pure)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

import pyotp

STEP_SECONDS = 30
DIGITS = 6
WINDOW = 1  # accept T-1, T and T+1: "at most one time step" for network delay (RFC 6238 §5.2)
ISSUER = "Ledenportaal"


@dataclass(frozen=True)
class StepMatch:
    """The outcome of checking a code: the matched step, or that the code was an old one replayed."""

    step: int | None
    replayed: bool = False

    @property
    def accepted(self) -> bool:
        """A fresh, matching code."""
        return self.step is not None and not self.replayed


def new_seed() -> str:
    """A 160-bit base32 seed from the operating system's CSPRNG."""
    return pyotp.random_base32(length=32)


def step_at(moment: datetime) -> int:
    """The time step a moment falls in (server time, never the client's)."""
    return int(moment.timestamp()) // STEP_SECONDS


def code_for_step(seed: str, step: int) -> str:
    """The six-digit code of one step."""
    return pyotp.TOTP(seed, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)


def match_code(seed: str, code: str, *, now: datetime, last_step: int | None) -> StepMatch:
    """Find the step in the window whose code is `code`; one not after `last_step` is a replay."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return StepMatch(None)
    current = step_at(now)
    for step in range(current - WINDOW, current + WINDOW + 1):
        if hmac.compare_digest(code_for_step(seed, step), code):
            if last_step is not None and step <= last_step:
                return StepMatch(step, replayed=True)
            return StepMatch(step)
    return StepMatch(None)


def provisioning_uri(seed: str, *, account_name: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(seed, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account_name, issuer_name=ISSUER
    )
