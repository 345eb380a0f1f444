"""How a rendered letter leaves the service: SMTP, or .eml and PDF files in the outbox folder (embedded default)."""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
import tempfile
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Protocol

from config.settings import Settings


class DeliveryError(Exception):
    """Base class of the errors raised when a letter cannot be handed over."""


class TemporaryDeliveryError(DeliveryError):
    """Raised when a later attempt may succeed: a 4xx reply, a refused or dropped connection, a timeout."""


class PermanentDeliveryError(DeliveryError):
    """Raised when no attempt will succeed until someone fixes something: a 5xx reply for the letter."""


class NoRecipient(PermanentDeliveryError):
    """Raised when a letter has no address to go to."""


@dataclass(frozen=True)
class Outgoing:
    """One letter ready to leave: the MIME message, its envelope, and its PDF (also attached to the message)."""

    message: EmailMessage
    sender: str
    recipients: tuple[str, ...]
    name: str  # stable file name stem: the hash of the idempotency key, as in the Message-ID
    pdf: bytes = b""


@dataclass
class Handed:
    """What the transport reports once the letter is out: recipients the server refused while accepting others."""

    refused: dict[str, str] = field(default_factory=dict)


class Transport(Protocol):
    def send(self, letter: Outgoing) -> Handed:
        """Hand the letter over, or raise a ``DeliveryError``."""
        ...


def make_transport(settings: Settings) -> Transport:
    """SMTP when a host is configured, otherwise the outbox folder."""
    if settings.smtp_host:
        return SmtpTransport(settings)
    return FolderTransport(settings.outbox_dir)


class SmtpTransport:
    """One SMTP session per letter: STARTTLS when set, login when credentials are set, a timeout throughout."""

    def __init__(self, settings: Settings) -> None:
        if not settings.smtp_host:
            raise ValueError("SmtpTransport needs settings.smtp_host")
        self.host = settings.smtp_host
        self.port = settings.smtp_port
        self.starttls = settings.smtp_starttls
        self.username = settings.smtp_username
        self.password = settings.smtp_password
        self.timeout = settings.smtp_timeout_s

    def __repr__(self) -> str:
        return f"SmtpTransport({self.host}:{self.port})"

    def send(self, letter: Outgoing) -> Handed:
        if not letter.recipients:
            raise NoRecipient("the letter has no recipient")
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.ehlo()
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if self.username:
                    smtp.login(self.username, self.password or "")
                refused = smtp.send_message(letter.message, from_addr=letter.sender,
                                            to_addrs=list(letter.recipients))
        except smtplib.SMTPRecipientsRefused as exc:  # every recipient refused
            replies = {addr: _reply(code, text) for addr, (code, text) in exc.recipients.items()}
            detail = "; ".join(f"{addr}: {reply}" for addr, reply in replies.items())
            if all(400 <= code < 500 for code, _ in exc.recipients.values()):
                raise TemporaryDeliveryError(f"every recipient deferred by {self.host}: {detail}") from exc
            raise PermanentDeliveryError(f"every recipient refused by {self.host}: {detail}") from exc
        except (smtplib.SMTPAuthenticationError, smtplib.SMTPNotSupportedError, ssl.SSLError) as exc:
            # The server's configuration or ours, not this letter: it goes out once that is fixed.
            raise TemporaryDeliveryError(f"cannot open an SMTP session with {self.host}:{self.port}: {exc}") from exc
        except smtplib.SMTPResponseException as exc:
            reply = _reply(exc.smtp_code, exc.smtp_error)
            if 500 <= exc.smtp_code < 600:
                raise PermanentDeliveryError(f"{self.host} refused the letter: {reply}") from exc
            raise TemporaryDeliveryError(f"{self.host} deferred the letter: {reply}") from exc
        except (smtplib.SMTPException, OSError, socket.timeout) as exc:
            # Refused connections, resets, timeouts, name resolution and disconnects all pass with time.
            raise TemporaryDeliveryError(f"SMTP to {self.host}:{self.port} failed: "
                                         f"{type(exc).__name__}: {exc}") from exc
        return Handed(refused={addr: _reply(code, text) for addr, (code, text) in refused.items()})


class FolderTransport:
    """Writes ``<name>.eml`` and ``<name>.pdf`` into a folder; writing the same letter again replaces it."""

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)

    def __repr__(self) -> str:
        return f"FolderTransport({self.folder})"

    def send(self, letter: Outgoing) -> Handed:
        if not letter.recipients:
            raise NoRecipient("the letter has no recipient")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if letter.pdf:
                _write_atomically(self.folder / f"{letter.name}.pdf", letter.pdf)
            # The .eml last: its presence says the letter is complete.
            _write_atomically(self.folder / f"{letter.name}.eml", letter.message.as_bytes())
        except OSError as exc:  # a full disk or a missing mount may pass
            raise TemporaryDeliveryError(f"cannot write the letter to {self.folder}: {exc}") from exc
        return Handed()

    def eml_path(self, name: str) -> Path:
        return self.folder / f"{name}.eml"

    def pdf_path(self, name: str) -> Path:
        return self.folder / f"{name}.pdf"


def envelope_sender(mail_from: str) -> str:
    """The bare address of a ``Name <address>`` From header."""
    return parseaddr(mail_from)[1] or mail_from


def _reply(code: int, text: bytes | str) -> str:
    text = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    return f"{code} {text}".strip()


def _write_atomically(path: Path, data: bytes) -> None:
    # A crash mid-write leaves a temporary file, never a truncated letter under its final name.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
