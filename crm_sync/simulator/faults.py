"""Injected faults (latency, errors, throttling, maintenance) and the log of writes received."""

import random
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

Outcome = Literal["ok", "down", "rate_limited", "error"]


@dataclass
class FaultSettings:
    """The faults in force; every API call consults them before it is handled."""

    latency_ms: int = 0
    error_rate: float = 0.0
    rate_limit_retry_after: int | None = None
    down: bool = False


class Faults:
    """Thread-safe fault state with a seeded RNG, so error-rate runs are reproducible."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._seed = seed
        self._rng = random.Random(f"{seed}:faults")
        self.settings = FaultSettings()
        self.fail_after_write = 0

    def update(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Apply a /_sim/faults body: absent keys keep their value, {"reset": true} resets."""
        unknown = set(changes) - {*asdict(self.settings), "reset", "seed", "fail_after_write"}
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        with self._lock:
            if changes.get("reset"):
                self.settings = FaultSettings()
                self._rng = random.Random(f"{self._seed}:faults")
            if "seed" in changes:
                self._rng = random.Random(f"{_int(changes['seed'], 'seed')}:faults")
            current = self.settings
            if "latency_ms" in changes:
                current.latency_ms = _int(changes["latency_ms"], "latency_ms")
            if "error_rate" in changes:
                rate = changes["error_rate"]
                if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
                    raise ValueError("error_rate must be a number from 0 to 1")
                current.error_rate = float(rate)
            if "rate_limit_retry_after" in changes:
                retry = changes["rate_limit_retry_after"]
                current.rate_limit_retry_after = (
                    None if retry is None else _int(retry, "rate_limit_retry_after")
                )
            if changes.get("reset"):
                self.fail_after_write = 0
            if "fail_after_write" in changes:
                # The next N writes are applied, then answered with the generic 500.
                self.fail_after_write = _int(changes["fail_after_write"], "fail_after_write")
            if "down" in changes:
                if not isinstance(changes["down"], bool):
                    raise ValueError("down must be true or false")
                current.down = changes["down"]
            return asdict(current)

    def snapshot(self) -> dict[str, Any]:
        """Return the current settings as a plain dict."""
        with self._lock:
            return asdict(self.settings)

    def take_fail_after_write(self) -> bool:
        """Whether this applied write must be answered with an error (counts the budget down)."""
        with self._lock:
            if self.fail_after_write <= 0:
                return False
            self.fail_after_write -= 1
            return True

    def decide(self) -> tuple[Outcome, int | None]:
        """Sleep for the latency, then say how this call ends (and Retry-After if throttled)."""
        with self._lock:
            current = FaultSettings(**asdict(self.settings))
            unlucky = current.error_rate > 0 and self._rng.random() < current.error_rate
        if current.latency_ms:
            time.sleep(current.latency_ms / 1000)
        if current.down:
            return "down", None
        if current.rate_limit_retry_after is not None:
            return "rate_limited", current.rate_limit_retry_after
        if unlucky:
            return "error", None
        return "ok", None


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer")
    return value


class RequestLog:
    """Ring buffer of the last write requests that reached the API, newest last."""

    def __init__(self, size: int = 10_000) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=size)

    def record(self, entity: str, action: str, params: Any, status: int) -> None:
        """Remember one write request and how it was answered."""
        entry = {
            "entity": entity,
            "action": action,
            "params": params,
            "status": status,
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
        }
        with self._lock:
            self._entries.append(entry)

    def entries(self, entity: str | None = None, action: str | None = None) -> list[dict[str, Any]]:
        """Return the recorded writes, optionally filtered, oldest first."""
        with self._lock:
            return [
                entry
                for entry in self._entries
                if (entity is None or entry["entity"] == entity)
                and (action is None or entry["action"] == action)
            ]

    def clear(self) -> None:
        """Forget every recorded write."""
        with self._lock:
            self._entries.clear()
