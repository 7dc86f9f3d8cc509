"""Who did something: an account, or the system itself (the nightly pull, a job)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """The acting party passed into every service that changes something."""

    kind: str  # "account" or "system"
    id: int | None
    label: str

    @classmethod
    def system(cls, name: str) -> Actor:
        """A process acting on its own, e.g. `Actor.system("crm-pull")`."""
        return cls(kind="system", id=None, label=name)

    @classmethod
    def account(cls, account_id: int, label: str) -> Actor:
        """A signed-in person acting through their account."""
        return cls(kind="account", id=account_id, label=label)

    def __str__(self) -> str:
        return f"{self.kind}:{self.id if self.id is not None else self.label}"
