"""An SMTP server on 127.0.0.1 that keeps every message it receives.

:class:`SmtpSink` wraps an ``aiosmtpd`` :class:`~aiosmtpd.controller.Controller`.
Each received message is parsed into an :class:`email.message.EmailMessage`
with the SMTP envelope attached as attributes: ``mail_from`` (str),
``rcpt_tos`` (list of str), ``auth_login`` (the AUTH login, or None) and
``raw`` (the bytes as received; the parsed message has LF line ends).

AUTH PLAIN/LOGIN is offered without TLS and is optional.  With
``credentials={"login": "password"}`` only those pairs are accepted;
without, any login is accepted (and recorded).

The ``smtp_sink`` fixture hands out one sink per test session, reset before
every test.
"""

import atexit
import errno
import socket
import threading
import time
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

_START_ATTEMPTS = 5


class SmtpSink:
    """Collects messages sent to ``host:port`` (see the module doc)."""

    def __init__(self, host="127.0.0.1", credentials=None, ready_timeout=3):
        self.host = host
        self.ready_timeout = ready_timeout
        self.port = None
        self.credentials = credentials
        self.messages = []
        self._controller = None
        self._received = threading.Condition()

    # --- lifecycle -----------------------------------------------------------

    @property
    def running(self):
        return self._controller is not None

    def start(self):
        """Start on a free port, retrying when another process grabs it first."""
        if self._controller is not None:
            return self
        for attempt in range(_START_ATTEMPTS):
            port = _free_port(self.host)
            controller = Controller(
                _Handler(self),
                hostname=self.host,
                port=port,
                # hostname also skips socket.getfqdn(), which can hang without DNS.
                server_hostname="smtp-sink.test",
                ready_timeout=self.ready_timeout,
                authenticator=self._authenticate,
                auth_require_tls=False,
            )
            try:
                controller.start()
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE or attempt == _START_ATTEMPTS - 1:
                    raise
                controller.loop.close()
                continue
            self._controller, self.port = controller, port
            return self

    def stop(self):
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def reset(self):
        with self._received:
            self.messages.clear()

    def wait_for(self, count, timeout=5):
        """Block until ``count`` messages arrived; return them (AssertionError on timeout)."""
        deadline = time.monotonic() + timeout
        with self._received:
            while len(self.messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"SMTP sink got {len(self.messages)} message(s), expected {count}"
                    )
                self._received.wait(remaining)
            return list(self.messages)

    # --- aiosmtpd callbacks (run in the controller's thread) -----------------

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        if self.credentials is not None and self.credentials.get(login) != password:
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=auth_data)

    def _store(self, session, envelope):
        raw = envelope.original_content or envelope.content
        # Line ends are CRLF on the wire; tests compare with "\n".
        message = message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=default_policy)
        message.raw = raw
        message.mail_from = envelope.mail_from
        message.rcpt_tos = list(envelope.rcpt_tos)
        auth = session.auth_data
        message.auth_login = (
            auth.login.decode() if isinstance(auth, LoginPassword) else None
        )
        with self._received:
            self.messages.append(message)
            self._received.notify_all()


class _Handler:
    def __init__(self, sink):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):
        self.sink._store(session, envelope)
        return "250 Message accepted for delivery"


def _free_port(host):
    """A port that was free a moment ago (aiosmtpd cannot bind port 0 itself)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


_shared = None


def _stop_shared():
    if _shared is not None:
        _shared.stop()


atexit.register(_stop_shared)


@pytest.fixture
def smtp_sink():
    """A running :class:`SmtpSink`, shared by the session, emptied per test."""
    global _shared
    if _shared is None:
        _shared = SmtpSink()
    _shared.start()  # no-op when running; restarts after a test stopped it
    _shared.credentials = None
    _shared.reset()
    yield _shared
