"""The mail port and its SMTP adapter (a local catcher in the demo and tests, any relay in production)."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol


class MailHeaderError(ValueError):
    """A header value would have split into several headers (CR/LF injection)."""


@dataclass(frozen=True)
class OutgoingMail:
    """One message to send: plain text, optionally with an HTML alternative."""

    to: tuple[str, ...]
    subject: str
    text: str
    html: str = ""
    reply_to: str = ""
    headers: dict[str, str] = field(default_factory=dict)


class Mailer(Protocol):
    """Anything that can send an `OutgoingMail`."""

    def send(self, mail: OutgoingMail) -> None:
        """Deliver the message or raise."""


def _clean_header(value: str) -> str:
    if "\r" in value or "\n" in value:
        raise MailHeaderError("header values may not contain line breaks")
    return value


def build_message(mail: OutgoingMail, *, sender: str) -> EmailMessage:
    """A standards-conforming MIME message, refusing header injection."""
    message = EmailMessage()
    message["From"] = _clean_header(sender)
    message["To"] = ", ".join(_clean_header(address) for address in mail.to)
    message["Subject"] = _clean_header(mail.subject)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=Address(addr_spec=_address_only(sender)).domain or None)
    if mail.reply_to:
        message["Reply-To"] = _clean_header(mail.reply_to)
    for name, value in mail.headers.items():
        message[_clean_header(name)] = _clean_header(value)
    message.set_content(mail.text)
    if mail.html:
        message.add_alternative(mail.html, subtype="html")
    return message


def _address_only(sender: str) -> str:
    if "<" in sender and sender.endswith(">"):
        return sender[sender.rindex("<") + 1 : -1]
    return sender


class SmtpMailer:
    """Sends over SMTP, with STARTTLS and login when configured."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str = "",
        password: str = "",
        starttls: bool = False,
        timeout: float = 10.0,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password, self.starttls, self.timeout = username, password, starttls, timeout

    def send(self, mail: OutgoingMail) -> None:
        """Open a connection, send one message, close."""
        message = build_message(mail, sender=self.sender)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(message)
