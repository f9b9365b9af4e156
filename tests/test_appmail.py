"""Mail settings of an app sending through Mailgun (mintcloud.appmail)."""

import pytest

from mintcloud.appmail import (
    AppMailError,
    app_url,
    base_url,
    check_local_part,
    sender_address,
    smtp_host,
    smtp_login,
    smtp_variables,
)
from mintcloud.appvars import check_line_name
from mintcloud.errors import PermanentError
from mintcloud.mailgun import EU_BASE_URL, US_BASE_URL


def test_region_picks_api_url_and_smtp_host():
    assert base_url("us") == US_BASE_URL
    assert base_url("EU") == EU_BASE_URL
    assert base_url(None) == US_BASE_URL
    assert smtp_host("us") == "smtp.mailgun.org"
    assert smtp_host("eu") == "smtp.eu.mailgun.org"


def test_override_url_wins_over_the_region():
    assert base_url("eu", override="http://127.0.0.1:8025/") == "http://127.0.0.1:8025"


def test_unknown_region_is_a_permanent_error():
    with pytest.raises(AppMailError, match="Unknown Mailgun region 'asia'"):
        base_url("asia")
    assert issubclass(AppMailError, PermanentError)


def test_smtp_variables_mark_only_the_passwords_secret():
    login = smtp_login("acme.mint-cloud.ch")
    assert login == "postmaster@acme.mint-cloud.ch"
    rows = smtp_variables(login, "s3cret", "smtp.mailgun.org")
    assert {name: (value, secret) for name, value, secret in rows} == {
        "mailgun_smtp_login": (login, False),
        "mailgun_smtp_password": ("s3cret", True),
        "smtp_host": ("smtp.mailgun.org", False),
        "smtp_port": ("587", False),
        "smtp_user": (login, False),
        "smtp_password": ("s3cret", True),
    }
    for name, _value, _secret in rows:
        assert check_line_name(name) == name


@pytest.mark.parametrize("local", ["noreply", "no-reply", "hello.world", "a_b+c"])
def test_valid_local_parts(local):
    assert check_local_part(f" {local} ") == local
    assert sender_address(local, "acme.mint-cloud.ch") == f"{local}@acme.mint-cloud.ch"


@pytest.mark.parametrize(
    "local", ["", "no reply", "a@b", ".x", "x.", "a..b", "ä", "x" * 65, None]
)
def test_invalid_local_parts_are_refused(local):
    with pytest.raises(AppMailError, match="not a valid sender name"):
        check_local_part(local)


def test_sender_defaults_to_noreply_and_needs_a_hostname():
    assert sender_address(None, "acme.mint-cloud.ch") == "noreply@acme.mint-cloud.ch"
    with pytest.raises(AppMailError, match="no hostname"):
        sender_address("noreply", "")


def test_app_url():
    assert app_url("acme.mint-cloud.ch") == "https://acme.mint-cloud.ch"
