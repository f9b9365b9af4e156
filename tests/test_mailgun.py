"""MailgunClient against the fake Mailgun API, and the pure helpers."""

import copy
import json

import pytest
import requests

from mintcloud import mailgun
from mintcloud.errors import (
    MailgunAuthError,
    MailgunError,
    MailgunPermanentError,
    MailgunTransientError,
    PermanentError,
    TransientError,
)
from mintcloud.mailgun import (
    MailgunClient,
    MailgunNotAllowedError,
    dns_records,
    domain_state,
)
from tests.fakes.mailgun_api import FakeMailgunServer

DOMAIN = "mail.example.com"


@pytest.fixture
def client(mailgun_api):
    return MailgunClient(mailgun_api.api_key, base_url=mailgun_api.url, timeout=2)


def posts(fake, path_part):
    return [
        r for r in fake.request_log if r["method"] == "POST" and path_part in r["path"]
    ]


# --- construction and the seam ------------------------------------------------


def test_region_constants_and_defaults():
    assert mailgun.US_BASE_URL == "https://api.mailgun.net"
    assert mailgun.EU_BASE_URL == "https://api.eu.mailgun.net"
    client = MailgunClient("key-secret-123")
    assert client.base_url == mailgun.US_BASE_URL
    assert client.timeout == 10
    assert isinstance(client.session, requests.Session)
    assert "key-secret-123" not in repr(client)


def test_base_url_trailing_slash_is_dropped():
    assert (
        MailgunClient("k", base_url=mailgun.EU_BASE_URL + "/").base_url
        == mailgun.EU_BASE_URL
    )


def test_missing_api_key_is_an_auth_error():
    with pytest.raises(MailgunAuthError):
        MailgunClient("")


class _StubSession:
    """Records the calls of the seam and answers with one canned response."""

    def __init__(self, status, body):
        self.calls = []
        self.status, self.body = status, body

    def request(self, method, url, **kwargs):
        self.calls.append((method, url, kwargs))
        response = requests.Response()
        response.status_code = self.status
        response._content = body_bytes(self.body)
        return response


def body_bytes(body):
    return json.dumps(body).encode()


def test_injected_session_receives_auth_timeout_and_form():
    session = _StubSession(200, {"id": "<1@x>", "message": "Queued. Thank you."})
    client = MailgunClient(
        "key-abc", base_url="https://mg.invalid", timeout=4, session=session
    )
    assert client.send_message("x.test", "a@x.test", "b@y.test", "Hi", text="Body") == {
        "id": "<1@x>",
        "message": "Queued. Thank you.",
    }
    [(method, url, kwargs)] = session.calls
    assert (method, url) == ("POST", "https://mg.invalid/v3/x.test/messages")
    assert kwargs["auth"] == ("api", "key-abc")
    assert kwargs["timeout"] == 4
    assert kwargs["data"]["to"] == ["b@y.test"]


def test_path_segments_are_quoted():
    session = _StubSession(404, {"message": "Domain not found"})
    client = MailgunClient("k", base_url="https://mg.invalid", session=session)
    assert client.get_domain("../v3/evil") is None
    assert session.calls[0][1] == "https://mg.invalid/v4/domains/..%2Fv3%2Fevil"


# --- domains ------------------------------------------------------------------


def test_create_domain_returns_body_with_records(client, mailgun_api):
    body = client.create_domain(DOMAIN, smtp_password="s3cret-pass")
    assert body["domain"]["name"] == DOMAIN
    assert body["domain"]["state"] == "unverified"
    assert {r["record_type"] for r in body["sending_dns_records"]} == {"TXT", "CNAME"}
    assert [r["value"] for r in body["receiving_dns_records"]] == [
        "mxa.mailgun.org",
        "mxb.mailgun.org",
    ]
    [request] = posts(mailgun_api, "/v4/domains")
    assert request["form"] == {
        "name": [DOMAIN],
        "spam_action": ["disabled"],
        "wildcard": ["false"],
        "web_scheme": ["https"],
        "smtp_password": ["s3cret-pass"],
    }
    assert mailgun_api.credentials[DOMAIN] == {f"postmaster@{DOMAIN}": "s3cret-pass"}


def test_create_domain_options_and_no_password(client, mailgun_api):
    body = client.create_domain(
        DOMAIN, spam_action="tag", wildcard=True, web_scheme="http"
    )
    assert body["domain"]["spam_action"] == "tag"
    assert body["domain"]["wildcard"] is True
    assert "smtp_password" not in posts(mailgun_api, "/v4/domains")[0]["form"]


def test_create_existing_domain_is_permanent_with_mailgun_message(client, mailgun_api):
    mailgun_api.add_domain(DOMAIN)
    with pytest.raises(MailgunPermanentError) as err:
        client.create_domain(DOMAIN)
    assert err.value.status == 400
    assert "This domain name is already taken" in str(err.value)
    assert not isinstance(err.value, TransientError)


def test_get_domain_found_and_missing(client, mailgun_api):
    mailgun_api.add_domain(DOMAIN)
    assert client.get_domain(DOMAIN)["domain"]["name"] == DOMAIN
    assert client.get_domain("nope.example.com") is None


def test_ensure_domain_creates_then_adopts(client, mailgun_api):
    body, created = client.ensure_domain(DOMAIN, "s3cret-pass")
    assert created is True and body["domain"]["name"] == DOMAIN
    body, created = client.ensure_domain(DOMAIN, "s3cret-pass")
    assert created is False and body["domain"]["name"] == DOMAIN
    assert len(posts(mailgun_api, "/v4/domains")) == 1
    assert list(mailgun_api.domains) == [DOMAIN]


def test_ensure_domain_adopts_when_create_races(client, mailgun_api):
    # Our GET sees no domain, somebody creates it, our POST answers 400.
    mailgun_api.add_domain(DOMAIN)
    mailgun_api.inject_fault(404, times=1, path_contains=f"/v4/domains/{DOMAIN}")
    body, created = client.ensure_domain(DOMAIN, "s3cret-pass")
    assert created is False
    assert body["domain"]["name"] == DOMAIN
    assert [r["method"] for r in mailgun_api.request_log] == ["GET", "POST", "GET"]


@pytest.mark.parametrize("status", [400, 409])
def test_ensure_domain_race_is_decided_by_get_not_by_the_wording(
    client, mailgun_api, status
):
    # The create fails with a message that says nothing: the GET decides.
    mailgun_api.add_domain(DOMAIN)
    mailgun_api.inject_fault(404, times=1, path_contains=f"/v4/domains/{DOMAIN}")
    mailgun_api.inject_fault(status, method="POST", body={"message": "Nope"})
    body, created = client.ensure_domain(DOMAIN, "s3cret-pass")
    assert created is False and body["domain"]["name"] == DOMAIN


def test_ensure_domain_transient_create_failure_is_not_adoption(client, mailgun_api):
    mailgun_api.inject_fault(503, method="POST")
    with pytest.raises(MailgunTransientError):
        client.ensure_domain(DOMAIN, "s3cret-pass")
    assert [r["method"] for r in mailgun_api.request_log] == ["GET", "POST"]


def test_ensure_domain_taken_by_another_account_raises(client, mailgun_api):
    # Mailgun says "taken" but our key cannot see the domain: not ours to adopt.
    mailgun_api.inject_fault(
        400, method="POST", body={"message": "This domain name is already taken"}
    )
    with pytest.raises(MailgunPermanentError, match="already taken"):
        client.ensure_domain(DOMAIN, "s3cret-pass")
    assert DOMAIN not in mailgun_api.domains


def test_ensure_domain_other_error_is_raised(client, mailgun_api):
    with pytest.raises(MailgunPermanentError, match="not a valid domain name"):
        client.ensure_domain("bad_name", "s3cret-pass")


def test_verify_domain_stays_unverified_until_dns_is_set(client, mailgun_api):
    client.create_domain(DOMAIN)
    body = client.verify_domain(DOMAIN)
    assert body["message"] == "Domain DNS records have been updated"
    assert domain_state(body) == "unverified"
    assert {r["valid"] for r in dns_records(body)} == {"invalid"}
    mailgun_api.set_domain_active(DOMAIN)
    body = client.verify_domain(DOMAIN)
    assert domain_state(body) == "active"
    assert {r["valid"] for r in dns_records(body)} == {"valid"}
    assert domain_state(client.get_domain(DOMAIN)) == "active"


def test_verify_unknown_domain_is_permanent(client):
    with pytest.raises(MailgunPermanentError) as err:
        client.verify_domain("nope.example.com")
    assert err.value.status == 404
    assert "Domain not found" in str(err.value)


def test_delete_domain_true_then_false(client, mailgun_api):
    mailgun_api.add_domain(DOMAIN)
    assert client.delete_domain(DOMAIN) is True
    assert DOMAIN not in mailgun_api.domains
    assert client.delete_domain(DOMAIN) is False
    assert [r["path"] for r in mailgun_api.request_log] == [f"/v3/domains/{DOMAIN}"] * 2


# --- SMTP credentials -------------------------------------------------------------


def test_set_smtp_credential_creates_missing_credentials(client, mailgun_api):
    mailgun_api.add_domain(DOMAIN)
    body = client.set_smtp_credential(DOMAIN, "app", "pass-12345")
    assert body == {"message": "Created 1 credentials pair(s)"}
    assert mailgun_api.credentials[DOMAIN] == {f"app@{DOMAIN}": "pass-12345"}
    assert [(r["method"], r["path"]) for r in mailgun_api.request_log] == [
        ("PUT", f"/v3/domains/{DOMAIN}/credentials/app@{DOMAIN}"),
        ("POST", f"/v3/domains/{DOMAIN}/credentials"),
    ]
    assert posts(mailgun_api, "/credentials")[0]["form"]["login"] == [f"app@{DOMAIN}"]


def test_set_smtp_credential_resets_existing_with_put_only(client, mailgun_api):
    mailgun_api.add_domain(DOMAIN, smtp_password="old-pass-1")
    body = client.set_smtp_credential(DOMAIN, f"postmaster@{DOMAIN}", "new-pass-2")
    assert body == {"message": "Password changed"}
    assert mailgun_api.credentials[DOMAIN][f"postmaster@{DOMAIN}"] == "new-pass-2"
    assert [r["method"] for r in mailgun_api.request_log] == ["PUT"]
    assert posts(mailgun_api, "/credentials") == [], "never POSTs existing credentials"


def test_set_smtp_credential_errors(client, mailgun_api):
    with pytest.raises(MailgunPermanentError) as err:
        client.set_smtp_credential(DOMAIN, "app", "pass-12345")
    assert err.value.status == 404
    mailgun_api.add_domain(DOMAIN)
    with pytest.raises(MailgunPermanentError) as err:
        client.set_smtp_credential(DOMAIN, "app", "pw1")
    assert err.value.status == 400
    assert "between 5 and 32" in str(err.value)
    assert "pw1" not in str(err.value)


# --- messages -------------------------------------------------------------------


def test_send_message_text_and_headers(client, mailgun_api):
    mailgun_api.add_domain(DOMAIN, state="active")
    result = client.send_message(
        DOMAIN,
        f"Mint Cloud <noreply@{DOMAIN}>",
        "alice@example.org",
        "Welcome",
        text="Hello Alice",
        headers={"Reply-To": "support@example.org"},
    )
    assert result["message"] == "Queued. Thank you."
    assert result["id"].endswith(f"@{DOMAIN}>")
    [message] = mailgun_api.messages
    assert message["id"] == result["id"]
    assert message["from"] == f"Mint Cloud <noreply@{DOMAIN}>"
    assert message["to"] == ["alice@example.org"]
    assert (message["subject"], message["text"], message["html"]) == (
        "Welcome",
        "Hello Alice",
        None,
    )
    assert message["headers"] == {"Reply-To": "support@example.org"}


def test_send_message_html_to_many(client, mailgun_api):
    mailgun_api.add_domain(DOMAIN, state="active")
    client.send_message(
        DOMAIN, f"noreply@{DOMAIN}", ("a@x.org", "b@x.org"), "Hi", html="<p>Hi</p>"
    )
    [message] = mailgun_api.messages
    assert message["to"] == ["a@x.org", "b@x.org"]
    assert message["html"] == "<p>Hi</p>" and message["text"] is None


def test_send_message_without_body_is_permanent(client, mailgun_api):
    mailgun_api.add_domain(DOMAIN, state="active")
    with pytest.raises(
        MailgunPermanentError, match="Need at least one of 'text' or 'html'"
    ):
        client.send_message(DOMAIN, f"noreply@{DOMAIN}", "a@x.org", "Hi")
    assert mailgun_api.messages == []


def test_send_from_an_unverified_domain_is_not_allowed_yet(client, mailgun_api):
    mailgun_api.add_domain(DOMAIN)
    with pytest.raises(MailgunNotAllowedError) as err:
        client.send_message(DOMAIN, f"noreply@{DOMAIN}", "a@x.org", "Hi", text="x")
    assert isinstance(err.value, MailgunTransientError)
    assert not isinstance(err.value, MailgunAuthError)
    assert err.value.status == 403
    assert "is not allowed to send" in str(err.value)
    assert mailgun_api.messages == []


@pytest.mark.parametrize(
    "message, transient",
    [
        ("Domain x.org is not allowed to send: Please activate your account", True),
        ("Domain x.org is NOT ALLOWED TO SEND", True),
        ("The domain is unverified and requires DNS configuration", True),
        ("Domain not verified yet", True),
        ("Forbidden", False),
        ("Invalid private key", False),
        ("Sandbox subdomains are for test purposes only", False),
        ("", False),
    ],
)
def test_403_is_read_from_mailguns_message(client, mailgun_api, message, transient):
    mailgun_api.add_domain(DOMAIN, state="active")
    mailgun_api.inject_fault(403, body={"message": message} if message else "")
    with pytest.raises(MailgunError) as err:
        client.send_message(DOMAIN, f"noreply@{DOMAIN}", "a@x.org", "Hi", text="x")
    assert isinstance(err.value, MailgunNotAllowedError) is transient
    assert isinstance(err.value, MailgunAuthError) is not transient
    assert err.value.transient is transient
    assert err.value.status == 403


def test_401_is_always_a_configuration_error(client, mailgun_api):
    mailgun_api.inject_fault(401, body={"message": "not allowed to send"})
    with pytest.raises(MailgunAuthError):
        client.check_auth()


def test_send_message_unknown_domain_is_permanent(client):
    with pytest.raises(MailgunPermanentError) as err:
        client.send_message(
            "nope.example.com", "a@nope.example.com", "b@x.org", "Hi", text="x"
        )
    assert err.value.status == 404


# --- auth ---------------------------------------------------------------------------


def test_check_auth_ok(client, mailgun_api):
    assert client.check_auth() is True
    assert mailgun_api.request_log[-1]["query"] == {"limit": ["1"]}


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failures(mailgun_api, status):
    if status == 401:
        client = MailgunClient("key-wrong-value", base_url=mailgun_api.url)
    else:
        client = MailgunClient(mailgun_api.api_key, base_url=mailgun_api.url)
        mailgun_api.inject_fault(403)
    with pytest.raises(MailgunAuthError) as err:
        client.check_auth()
    assert err.value.status == status
    assert "API key or the region" in str(err.value)
    assert mailgun_api.url in str(err.value)
    assert isinstance(err.value, PermanentError)


# --- transient failures ------------------------------------------------------------


def test_429_keeps_retry_after_header(client, mailgun_api):
    mailgun_api.inject_fault(429, headers={"Retry-After": "7"})
    with pytest.raises(MailgunTransientError) as err:
        client.get_domain(DOMAIN)
    assert err.value.status == 429
    assert err.value.details == {"retry_after": 7}
    assert err.value.transient is True


def test_429_retry_seconds_from_body(client, mailgun_api):
    mailgun_api.inject_fault(429, headers={}, body={"retry-seconds": 60})
    with pytest.raises(MailgunTransientError) as err:
        client.check_auth()
    assert err.value.details["retry_after"] == 60


def test_429_without_hint_has_no_retry_after(client, mailgun_api):
    mailgun_api.inject_fault(429, headers={}, body={"message": "slow down"})
    with pytest.raises(MailgunTransientError, match="slow down") as err:
        client.check_auth()
    assert "retry_after" not in err.value.details


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_transient(client, mailgun_api, status):
    mailgun_api.inject_fault(status)
    with pytest.raises(MailgunTransientError) as err:
        client.verify_domain(DOMAIN)
    assert err.value.status == status
    assert f"HTTP {status}" in str(err.value)


def test_503_html_page_is_quoted_in_message(client, mailgun_api):
    mailgun_api.inject_fault(503)
    with pytest.raises(MailgunTransientError, match="503 Service Unavailable"):
        client.get_domain(DOMAIN)


def test_transient_fault_then_success(client, mailgun_api):
    mailgun_api.add_domain(DOMAIN)
    mailgun_api.inject_fault(500, times=2)
    for _ in range(2):
        with pytest.raises(MailgunTransientError):
            client.get_domain(DOMAIN)
    assert client.get_domain(DOMAIN)["domain"]["name"] == DOMAIN


def test_connection_refused_is_transient():
    with FakeMailgunServer() as fake:
        url = fake.url
    client = MailgunClient("key-test", base_url=url, timeout=2)
    with pytest.raises(MailgunTransientError, match="unreachable") as err:
        client.check_auth()
    assert err.value.status is None


def test_timeout_is_transient(mailgun_api):
    mailgun_api.inject_delay(0.5)
    client = MailgunClient(mailgun_api.api_key, base_url=mailgun_api.url, timeout=0.1)
    with pytest.raises(MailgunTransientError, match="timed out after 0.1s"):
        client.check_auth()


# --- other permanent failures ----------------------------------------------------------


def test_invalid_base_url_is_permanent():
    with pytest.raises(MailgunPermanentError, match="not a valid http"):
        MailgunClient("k", base_url="api.mailgun.net").check_auth()


def test_success_without_json_is_permanent(client, mailgun_api):
    mailgun_api.inject_fault(200, body="<html>login page</html>")
    with pytest.raises(MailgunPermanentError, match="not a JSON object"):
        client.check_auth()


def test_unexpected_4xx_is_permanent(client, mailgun_api):
    mailgun_api.inject_fault(413, body={"message": "Message too large"})
    with pytest.raises(MailgunPermanentError, match="Message too large") as err:
        client.check_auth()
    assert err.value.status == 413


def test_error_without_body_uses_reason(client, mailgun_api):
    mailgun_api.inject_fault(400, body="")
    with pytest.raises(MailgunPermanentError, match="HTTP 400: Bad Request"):
        client.check_auth()


# --- the key never leaks --------------------------------------------------------------

SECRET = "key-0123456789abcdef-SECRET"


def _provoke(scenario, fake):
    """Run one failing call; return the exception."""
    client = MailgunClient(SECRET, base_url=fake.url, timeout=0.2)
    if scenario == "wrong-key":
        fake.api_key = "key-other"
    elif scenario == "echo":
        fake.inject_fault(400, body={"message": f"bad key {SECRET}"})
    elif scenario == "timeout":
        fake.inject_delay(0.6)
    elif scenario == "refused":
        with FakeMailgunServer() as closed:
            client.base_url = closed.url  # stopped on leaving the block
    else:
        fake.inject_fault(int(scenario))
    with pytest.raises(MailgunError) as err:
        client.verify_domain(DOMAIN)
    return err.value


@pytest.mark.parametrize(
    "scenario",
    [
        "wrong-key",
        "echo",
        "timeout",
        "refused",
        "400",
        "403",
        "404",
        "429",
        "500",
        "503",
    ],
)
def test_api_key_never_in_exception(mailgun_api, scenario):
    mailgun_api.api_key = SECRET
    exc = _provoke(scenario, mailgun_api)
    texts = [
        str(exc),
        repr(exc),
        repr(exc.args),
        repr(exc.details),
        repr(exc.__cause__),
    ]
    for text in texts:
        assert SECRET not in text
    if scenario == "echo":
        assert "bad key ***" in str(exc)


# --- pure helpers ------------------------------------------------------------------------

DOC_BODY = {  # GET /v4/domains/<name> as documented by Mailgun
    "domain": {
        "created_at": "Tue, 14 Jul 2015 19:13:04 GMT",
        "id": "55a55f40803267158aa113e8",
        "is_disabled": False,
        "name": "samples.mailgun.org",
        "require_tls": False,
        "skip_verification": False,
        "smtp_login": "postmaster@samples.mailgun.org",
        "spam_action": "disabled",
        "state": "active",
        "type": "custom",
        "web_prefix": "email",
        "web_scheme": "https",
        "wildcard": False,
    },
    "receiving_dns_records": [
        {
            "cached": [],
            "priority": "10",
            "record_type": "MX",
            "valid": "valid",
            "value": "mxa.mailgun.org",
        },
        {
            "cached": [],
            "priority": "20",
            "record_type": "mx",
            "valid": "valid",
            "value": "mxb.mailgun.org",
        },
    ],
    "sending_dns_records": [
        {
            "cached": [],
            "name": "samples.mailgun.org",
            "record_type": "TXT",
            "valid": "valid",
            "value": "v=spf1 include:mailgun.org ~all",
        },
        {
            "cached": [],
            "name": "k1._domainkey.samples.mailgun.org",
            "record_type": "TXT",
            "valid": "VALID",
            "value": "k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4G",
        },
        {
            "cached": [],
            "name": "email.samples.mailgun.org",
            "record_type": "CNAME",
            "valid": "unknown",
            "value": "mailgun.org",
        },
    ],
}


def test_dns_records_normalises_sending_and_receiving():
    records = dns_records(DOC_BODY)
    assert records[0] == {
        "record_type": "TXT",
        "name": "samples.mailgun.org",
        "value": "v=spf1 include:mailgun.org ~all",
        "priority": None,
        "valid": "valid",
        "purpose": "sending",
    }
    assert records[1]["valid"] == "valid"  # "VALID" lower-cased
    assert records[2]["valid"] == "unknown"
    assert records[3:] == [
        {
            "record_type": "MX",
            "name": "samples.mailgun.org",
            "value": "mxa.mailgun.org",
            "priority": 10,
            "valid": "valid",
            "purpose": "receiving",
        },
        {
            "record_type": "MX",
            "name": "samples.mailgun.org",
            "value": "mxb.mailgun.org",
            "priority": 20,
            "valid": "valid",
            "purpose": "receiving",
        },
    ]


def test_dns_records_of_empty_or_odd_bodies():
    assert dns_records({}) == []
    odd = {
        "sending_dns_records": [
            {"record_type": "TXT", "valid": "weird", "priority": "x"}
        ]
    }
    assert dns_records(odd) == [
        {
            "record_type": "TXT",
            "name": "",
            "value": "",
            "priority": None,
            "valid": "unknown",
            "purpose": "sending",
        }
    ]


def _with(body, **domain):
    body = copy.deepcopy(body)
    body["domain"].update(domain)
    return body


@pytest.mark.parametrize(
    "domain, expected",
    [
        ({"state": "active"}, "active"),
        ({"state": "ACTIVE"}, "active"),
        ({"state": "unverified"}, "unverified"),
        ({"state": "disabled"}, "failed"),
        ({"state": "active", "is_disabled": True}, "failed"),
    ],
)
def test_domain_state_follows_mailgun_state(domain, expected):
    assert domain_state(_with(DOC_BODY, **domain)) == expected


def test_domain_state_without_state_reads_sending_records():
    body = _with(DOC_BODY, state=None)
    assert domain_state(body) == "unverified"  # the CNAME is still "unknown"
    body["sending_dns_records"][2]["valid"] = "valid"
    assert domain_state(body) == "active"
    assert domain_state({}) == "unverified"


def test_domain_state_with_invalid_records_stays_unverified():
    body = _with(DOC_BODY, state="unverified")
    for record in body["sending_dns_records"]:
        record["valid"] = "invalid"
    assert domain_state(body) == "unverified"
