"""A real SMTP server for tests (aiosmtpd on 127.0.0.1): it keeps every message it accepts, with its Message-ID.

It can refuse chosen recipients with any reply (``refuse``), and hold after storing a
message (``hold``) so that a test can kill the client that sent it before the client
hears the server's acceptance.
"""

from __future__ import annotations

import asyncio
import email
import socket
import threading
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage

from procs import start_or_fail


class SmtpServerError(RuntimeError):
    """Raised when the test SMTP server cannot be started."""


@dataclass(frozen=True)
class Received:
    """One message as the server accepted it."""

    message_id: str
    mail_from: str
    rcpt_to: tuple[str, ...]
    message: EmailMessage
    at: float

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        return part.get_content() if part is not None else ""

    def pdf(self) -> bytes:
        for part in self.message.iter_attachments():
            if part.get_content_type() == "application/pdf":
                return part.get_content()
        return b""


class Archive:
    """The aiosmtpd handler: stores each accepted message; refuses or holds on request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.messages: list[Received] = []
        self.refuse: dict[str, str] = {}  # lower-case address -> SMTP reply, e.g. "550 5.1.1 no such mailbox"
        self.hold = threading.Event()  # while set, the server stores a message and then waits for ``release``
        self.release = threading.Event()
        self.held = threading.Event()  # set once a message is stored and being held

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.refuse.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        received = Received(message_id=str(message["Message-ID"]), mail_from=envelope.mail_from,
                            rcpt_to=tuple(envelope.rcpt_tos), message=message, at=time.monotonic())
        with self._lock:
            self.messages.append(received)
        if self.hold.is_set():
            self.held.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)
        return "250 Message accepted for delivery"

    # -- reading ----------------------------------------------------------------

    def all(self) -> list[Received]:
        with self._lock:
            return list(self.messages)

    def count(self) -> int:
        with self._lock:
            return len(self.messages)

    def ids(self) -> Counter:
        with self._lock:
            return Counter(m.message_id for m in self.messages)

    def to(self, address: str) -> list[Received]:
        return [m for m in self.all() if address.lower() in (r.lower() for r in m.rcpt_to)]

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpServer:
    """aiosmtpd's threaded ``Controller`` on a free loopback port."""

    def __init__(self, *, auth: tuple[str, str] | None = None) -> None:
        self.host = "127.0.0.1"
        self.port = 0
        self.archive = Archive()
        self.auth = auth
        self._controller = None

    def start(self) -> SmtpServer:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        kwargs: dict = {}
        if self.auth is not None:
            user, password = self.auth

            def authenticator(server, session, envelope, mechanism, auth_data):
                ok = (getattr(auth_data, "login", b"") == user.encode()
                      and getattr(auth_data, "password", b"") == password.encode())
                return AuthResult(success=ok, handled=False)

            # PLAIN only: smtplib's LOGIN with an initial response stalls aiosmtpd until the timeout.
            kwargs = {"authenticator": authenticator, "auth_require_tls": False, "auth_required": True,
                      "auth_exclude_mechanism": ["LOGIN"]}
        last: Exception | None = None
        for _ in range(5):  # a port found free may be taken before we bind it
            self.port = free_port()
            controller = Controller(self.archive, hostname=self.host, port=self.port, ready_timeout=10, **kwargs)
            try:
                with warnings.catch_warnings():  # AUTH without TLS, on loopback, on purpose
                    warnings.simplefilter("ignore")
                    controller.start()
            except Exception as exc:  # noqa: BLE001 - tried again on another port, reported below
                last = exc
                continue
            self._controller = controller
            return self
        raise SmtpServerError(f"aiosmtpd could not listen on {self.host}: {last!r}")

    def stop(self) -> None:
        if self._controller is not None:
            self.archive.release.set()
            self._controller.stop()
            self._controller = None

    def env(self) -> dict[str, str]:
        """Settings for ``ogp-lifecycle`` processes that send through this server."""
        return {"OGP_SMTP_HOST": self.host, "OGP_SMTP_PORT": str(self.port), "OGP_SMTP_STARTTLS": "false",
                "OGP_SMTP_TIMEOUT_S": "10"}


def start_smtp_server(**kw) -> SmtpServer:
    server = SmtpServer(**kw)
    return start_or_fail(server, stop=server.stop, failure=(
        "The test SMTP server (aiosmtpd on 127.0.0.1) could not be started, and the letter tests need it.\n"
        "{reason}\nInstall the test extras with `pip install -e .[test]` (aiosmtpd)."))
