"""A real local SMTP server that keeps what it receives: for `make demo` and the tests' `mail` fixture."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from portal.core.clock import utcnow


@dataclass(frozen=True)
class CaughtMail:
    """One received message with its envelope."""

    sender: str
    recipients: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        """The decoded subject."""
        return str(self.message["Subject"] or "")

    @property
    def text(self) -> str:
        """The plain-text body."""
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""


class _Handler:
    def __init__(self, catcher: MailCatcher) -> None:
        self.catcher = catcher

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        self.catcher.store(
            CaughtMail(str(envelope.mail_from), tuple(str(r) for r in envelope.rcpt_tos), message),
            raw,
        )
        return "250 Message accepted"


class MailCatcher:
    """Starts aiosmtpd on loopback in a thread; keeps messages in memory and, if asked, as .eml files."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, folder: Path | None = None) -> None:
        self.folder = folder
        self.messages: list[CaughtMail] = []
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._controller = Controller(_Handler(self), hostname=host, port=port or _free_port(host))
        self.host, self.port = host, self._controller.port

    def store(self, mail: CaughtMail, raw: bytes) -> None:
        """Keep one received message."""
        with self._arrived:
            self.messages.append(mail)
            if self.folder is not None:
                self.folder.mkdir(parents=True, exist_ok=True)
                stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
                (self.folder / f"{stamp}-{len(self.messages):05d}.eml").write_bytes(raw)
            self._arrived.notify_all()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[CaughtMail]:
        """Block until at least `count` messages arrived (SMTP delivery is asynchronous)."""
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.messages) >= count, timeout=timeout)
            return list(self.messages)

    def start(self) -> MailCatcher:
        """Start listening."""
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        self._controller.stop()

    def __enter__(self) -> MailCatcher:
        return self.start()

    def __exit__(self, *_exc: Any) -> None:
        self.stop()


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def serve_forever(*, host: str, port: int, folder: Path) -> None:
    """Run a catcher until interrupted (the demo's mail server)."""
    catcher = MailCatcher(host=host, port=port, folder=folder).start()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        catcher.stop()
