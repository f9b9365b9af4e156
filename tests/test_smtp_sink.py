"""The SMTP sink: send with smtplib, read the message back."""

import smtplib
import socket
from email.message import EmailMessage

import pytest

from tests.fakes import smtp_sink as sink_module
from tests.fakes.smtp_sink import SmtpSink


def _message(subject="Welcome", to="alice@example.org"):
    message = EmailMessage()
    message["From"] = "Mint Cloud <noreply@mg.example.com>"
    message["To"] = to
    message["Subject"] = subject
    message["Reply-To"] = "support@example.org"
    message.set_content("Hello Alice,\nyour app is ready.\n")
    return message


def test_send_and_read_back(smtp_sink):
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=5) as smtp:
        smtp.send_message(_message(), to_addrs=["alice@example.org", "ops@example.org"])
    [received] = smtp_sink.wait_for(1)
    assert isinstance(received, EmailMessage)
    assert received["Subject"] == "Welcome"
    assert received["Reply-To"] == "support@example.org"
    assert received.get_content() == "Hello Alice,\nyour app is ready.\n"
    assert received.mail_from == "noreply@mg.example.com"
    assert received.rcpt_tos == ["alice@example.org", "ops@example.org"]
    assert received.auth_login is None
    assert b"Subject: Welcome\r\n" in received.raw


def test_html_and_unicode_survive(smtp_sink):
    message = _message(subject="Zoë's app")
    message.add_alternative("<p>Héllo</p>", subtype="html")
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=5) as smtp:
        smtp.send_message(message)
    [received] = smtp_sink.wait_for(1)
    assert received["Subject"] == "Zoë's app"
    assert received.get_body(("html",)).get_content().strip() == "<p>Héllo</p>"


def test_login_is_recorded_and_checked(smtp_sink):
    smtp_sink.credentials = {"postmaster@mg.example.com": "pw-12345"}
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=5) as smtp:
        with pytest.raises(smtplib.SMTPAuthenticationError):
            smtp.login("postmaster@mg.example.com", "wrong")
        smtp.login("postmaster@mg.example.com", "pw-12345")
        smtp.send_message(_message())
    [received] = smtp_sink.wait_for(1)
    assert received.auth_login == "postmaster@mg.example.com"


def test_any_login_accepted_without_credentials(smtp_sink):
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=5) as smtp:
        smtp.login("anyone", "anything")
        smtp.sendmail("a@x.org", ["b@x.org"], b"Subject: raw\r\n\r\nbody\r\n")
    [received] = smtp_sink.wait_for(1)
    assert (received.auth_login, received["Subject"], received.mail_from) == (
        "anyone",
        "raw",
        "a@x.org",
    )


def test_non_password_mechanism_is_refused(smtp_sink):
    sink = smtp_sink
    result = sink._authenticate(None, None, None, "CRAM-MD5", object())
    assert result.success is False


def test_wait_for_counts_and_times_out(smtp_sink):
    with pytest.raises(AssertionError, match="got 0 message"):
        smtp_sink.wait_for(1, timeout=0.1)
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=5) as smtp:
        for n in range(3):
            smtp.send_message(_message(subject=f"m{n}"))
    assert [m["Subject"] for m in smtp_sink.wait_for(3)] == ["m0", "m1", "m2"]
    smtp_sink.reset()
    assert smtp_sink.messages == []


def test_fixture_is_shared_and_reset(smtp_sink):
    assert sink_module._shared is smtp_sink
    assert (
        smtp_sink.running and smtp_sink.messages == [] and smtp_sink.credentials is None
    )


def test_own_sink_context_manager_releases_port():
    with SmtpSink() as sink:
        assert sink.start() is sink  # already running: no-op
        port = sink.port
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
            assert smtp.noop()[0] == 250
    assert not sink.running
    sink.stop()  # stopping twice is harmless
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_start_retries_when_port_is_taken(monkeypatch):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    ports = iter([taken.getsockname()[1]])
    real_free_port = sink_module._free_port
    monkeypatch.setattr(
        sink_module,
        "_free_port",
        lambda host: next(ports, None) or real_free_port(host),
    )
    try:
        with SmtpSink(ready_timeout=0.5) as sink:
            assert sink.port != taken.getsockname()[1]
            with smtplib.SMTP("127.0.0.1", sink.port, timeout=5) as smtp:
                assert smtp.noop()[0] == 250
    finally:
        taken.close()


def test_start_gives_up_after_attempts(monkeypatch):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    monkeypatch.setattr(sink_module, "_free_port", lambda host: taken.getsockname()[1])
    monkeypatch.setattr(sink_module, "_START_ATTEMPTS", 2)
    try:
        with pytest.raises(OSError):
            SmtpSink(ready_timeout=0.2).start()
    finally:
        taken.close()
