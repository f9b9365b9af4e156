"""The fake Mailgun API itself, driven with plain ``requests``."""

import importlib

import pytest
import requests

from tests.fakes.mailgun_api import FakeMailgunServer

DOMAIN = "mg.example.com"


@pytest.fixture
def api(mailgun_api):
    """``api(method, path, **kwargs)`` -> response, authenticated with the fake's key."""

    def call(method, path, auth=("api", mailgun_api.api_key), **kwargs):
        return requests.request(
            method, mailgun_api.url + path, auth=auth, timeout=5, **kwargs
        )

    return call


@pytest.mark.parametrize("version", ["v3", "v4"])
def test_domain_lifecycle_on_both_versions(api, mailgun_api, version):
    response = api(
        "POST",
        f"/{version}/domains",
        data={"name": DOMAIN, "smtp_password": "pw-12345"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Domain has been created"
    assert body["domain"]["state"] == "unverified"
    assert body["domain"]["smtp_login"] == f"postmaster@{DOMAIN}"
    assert (
        len(body["sending_dns_records"]) == 3
        and len(body["receiving_dns_records"]) == 2
    )
    assert mailgun_api.credentials == {DOMAIN: {f"postmaster@{DOMAIN}": "pw-12345"}}

    listing = api("GET", f"/{version}/domains").json()
    assert listing["total_count"] == 1 and listing["items"][0]["name"] == DOMAIN
    assert api("GET", f"/{version}/domains/{DOMAIN}").json()["domain"]["name"] == DOMAIN

    assert (
        api("PUT", f"/{version}/domains/{DOMAIN}/verify").json()["domain"]["state"]
        == "unverified"
    )
    mailgun_api.set_domain_active(DOMAIN)
    assert (
        api("PUT", f"/{version}/domains/{DOMAIN}/verify").json()["domain"]["state"]
        == "active"
    )

    assert api("DELETE", f"/{version}/domains/{DOMAIN}").json() == {
        "message": "Domain has been deleted"
    }
    assert api("GET", f"/{version}/domains/{DOMAIN}").status_code == 404
    assert api("DELETE", f"/{version}/domains/{DOMAIN}").status_code == 404
    assert api("PUT", f"/{version}/domains/{DOMAIN}/verify").status_code == 404
    assert mailgun_api.domains == {} and mailgun_api.credentials == {}


def test_domain_list_paging_and_state_filter(api, mailgun_api):
    for name in ("a.example.com", "b.example.com", "c.example.com"):
        mailgun_api.add_domain(name)
    mailgun_api.add_domain("d.example.com", state="active")
    page = api("GET", "/v4/domains", params={"limit": 2, "skip": 1}).json()
    assert page["total_count"] == 4
    assert [d["name"] for d in page["items"]] == ["b.example.com", "c.example.com"]
    active = api("GET", "/v4/domains", params={"state": "active"}).json()
    assert [d["name"] for d in active["items"]] == ["d.example.com"]


@pytest.mark.parametrize(
    "form, message",
    [
        ({}, "Missing parameter 'name'"),
        ({"name": "not a domain"}, "is not a valid domain name"),
        ({"name": DOMAIN, "smtp_password": "abc"}, "between 5 and 32"),
    ],
)
def test_create_domain_validation(api, mailgun_api, form, message):
    response = api("POST", "/v4/domains", data=form)
    assert response.status_code == 400
    assert message in response.json()["message"]
    assert mailgun_api.domains == {}


def test_create_existing_domain_is_400(api, mailgun_api):
    mailgun_api.add_domain(DOMAIN)
    response = api("POST", "/v4/domains", data={"name": DOMAIN.upper()})
    assert response.status_code == 400
    assert response.json() == {"message": "This domain name is already taken"}


@pytest.mark.parametrize("auth", [None, ("api", "key-wrong"), ("user", "key-test")])
def test_bad_auth_is_401(api, mailgun_api, auth):
    response = api("GET", "/v4/domains", auth=auth)
    assert response.status_code == 401
    assert response.json() == {"message": "Invalid private key"}
    assert mailgun_api.request_log[-1]["authorized"] is False


def test_garbage_auth_header_is_401(mailgun_api):
    response = requests.get(
        mailgun_api.url + "/v4/domains",
        headers={"Authorization": "Basic !!!"},
        timeout=5,
    )
    assert response.status_code == 401


def test_unknown_route_and_method(api):
    assert api("GET", "/v5/whatever").status_code == 404
    assert api("DELETE", "/v4/domains").status_code == 405


def test_credentials_endpoints(api, mailgun_api):
    mailgun_api.add_domain(DOMAIN)
    path = f"/v3/domains/{DOMAIN}/credentials"
    assert (
        api("POST", path, data={"login": "alice", "password": "pw-12345"}).status_code
        == 200
    )
    assert (
        api(
            "POST", path, data={"login": f"bob@{DOMAIN}", "password": "pw-67890"}
        ).status_code
        == 200
    )
    duplicate = api("POST", path, data={"login": "alice", "password": "pw-67890"})
    # Documented: "400 with a message"; the wording says nothing on purpose.
    assert duplicate.status_code == 400
    assert duplicate.json() == {"message": "Bad request"}
    assert mailgun_api.credentials[DOMAIN][f"alice@{DOMAIN}"] == "pw-12345"
    assert (
        api(
            "POST", path, data={"login": "eve@other.org", "password": "pw-12345"}
        ).status_code
        == 400
    )
    assert api("POST", path, data={"login": "eve"}).status_code == 400
    assert api("POST", path, data={"login": "eve", "password": "pw"}).status_code == 400
    listing = api("GET", path).json()
    assert [c["login"] for c in listing["items"]] == [
        f"alice@{DOMAIN}",
        f"bob@{DOMAIN}",
    ]

    assert api(
        "PUT", f"{path}/alice@{DOMAIN}", data={"password": "pw-new-1"}
    ).json() == {"message": "Password changed"}
    assert mailgun_api.credentials[DOMAIN][f"alice@{DOMAIN}"] == "pw-new-1"
    assert (
        api("PUT", f"{path}/alice@{DOMAIN}", data={"password": "pw"}).status_code == 400
    )
    assert (
        api("PUT", f"{path}/zed@{DOMAIN}", data={"password": "pw-new-1"}).status_code
        == 404
    )
    deleted = api("DELETE", f"{path}/bob@{DOMAIN}").json()
    assert deleted == {
        "message": "Credentials have been deleted",
        "spec": f"bob@{DOMAIN}",
    }
    assert api("DELETE", f"{path}/bob@{DOMAIN}").status_code == 404
    assert api("GET", "/v3/domains/nope.example.com/credentials").status_code == 404
    assert (
        api(
            "POST",
            "/v3/domains/nope.example.com/credentials",
            data={"login": "a", "password": "pw-12345"},
        ).status_code
        == 404
    )


def test_message_form_encoded(api, mailgun_api):
    mailgun_api.add_domain(DOMAIN, state="active")
    response = api(
        "POST",
        f"/v3/{DOMAIN}/messages",
        data={
            "from": f"noreply@{DOMAIN}",
            "to": ["a@x.org, b@x.org", "c@x.org"],
            "subject": "Hi",
            "text": "Hello",
            "h:X-Tag": "welcome",
        },
    )
    assert response.status_code == 200
    assert response.json()["message"] == "Queued. Thank you."
    [message] = mailgun_api.messages
    assert message["to"] == ["a@x.org", "b@x.org", "c@x.org"]
    assert message["headers"] == {"X-Tag": "welcome"}
    assert message["id"] == response.json()["id"]


def test_message_multipart_with_attachment(api, mailgun_api):
    mailgun_api.add_domain(DOMAIN, state="active")
    response = api(
        "POST",
        f"/v3/{DOMAIN}/messages",
        data={
            "from": f"noreply@{DOMAIN}",
            "to": "a@x.org",
            "subject": "Zoë",
            "html": "<p>Hé</p>",
        },
        files=[("attachment", ("report.txt", b"numbers"))],
    )
    assert response.status_code == 200
    [message] = mailgun_api.messages
    assert (message["subject"], message["html"], message["text"]) == (
        "Zoë",
        "<p>Hé</p>",
        None,
    )
    assert message["attachments"] == [("attachment", "report.txt", b"numbers")]


@pytest.mark.parametrize(
    "form, message",
    [
        ({"to": "a@x.org", "text": "x"}, "'from' parameter is missing"),
        ({"from": "a@mg.example.com", "text": "x"}, "'to' parameter is missing"),
        (
            {"from": "a@mg.example.com", "to": "a@x.org"},
            "Need at least one of 'text' or 'html' parameters specified",
        ),
    ],
)
def test_message_validation(api, mailgun_api, form, message):
    mailgun_api.add_domain(DOMAIN, state="active")
    response = api("POST", f"/v3/{DOMAIN}/messages", data=form)
    assert response.status_code == 400
    assert response.json()["message"] == message
    assert mailgun_api.messages == []


def _send(api):
    return api(
        "POST",
        f"/v3/{DOMAIN}/messages",
        data={"from": f"noreply@{DOMAIN}", "to": "a@x.org", "text": "x"},
    )


def test_message_from_an_unverified_domain_is_refused(api, mailgun_api):
    mailgun_api.add_domain(DOMAIN)
    response = _send(api)
    assert response.status_code == 403
    assert response.json()["message"].startswith(
        f"Domain {DOMAIN} is not allowed to send: The domain is unverified"
    )
    assert mailgun_api.messages == []
    mailgun_api.set_domain_active(DOMAIN)
    api("PUT", f"/v4/domains/{DOMAIN}/verify")
    assert _send(api).status_code == 200
    assert len(mailgun_api.messages) == 1


def test_unverified_sending_can_be_allowed(api, mailgun_api):
    # Mailgun's reference documents a daily quota instead of the 403.
    mailgun_api.add_domain(DOMAIN)
    mailgun_api.unverified_sending = "allow"
    assert _send(api).status_code == 200
    mailgun_api.reset()
    assert mailgun_api.unverified_sending == "refuse"


class _Cluster:
    """Stands in for FakeKubeServer: DNSEndpoints as list_objects returns them."""

    def __init__(self, *endpoints):
        self.objects = [
            {
                "apiVersion": "externaldns.k8s.io/v1alpha1",
                "kind": "DNSEndpoint",
                "metadata": {"name": "x", "namespace": "acme"},
                "spec": {"endpoints": list(endpoints)},
            }
        ]

    def list_objects(self, api_version=None, kind=None, **_):
        assert (api_version, kind) == ("externaldns.k8s.io/v1alpha1", "DNSEndpoint")
        return self.objects


def test_verify_reads_dns_from_the_linked_clusters(api, mailgun_api):
    mailgun_api.add_domain(DOMAIN)
    body = mailgun_api.domains[DOMAIN]
    dkim = body["sending_dns_records"][1]
    everything = [
        {
            "dnsName": DOMAIN,
            "recordType": "TXT",
            "targets": ["v=spf1 include:mailgun.org ~all"],
        },
        {
            "dnsName": dkim["name"].upper() + ".",
            "recordType": "TXT",
            "targets": [dkim["value"]],
        },
        {
            "dnsName": f"email.{DOMAIN}",
            "recordType": "CNAME",
            "targets": ["MAILGUN.ORG."],
        },
        {
            "dnsName": DOMAIN,
            "recordType": "MX",
            "targets": ["10 mxa.mailgun.org.", "10 mxb.mailgun.org"],
        },
    ]
    mailgun_api.publish_dns_from(_Cluster(*everything[:3]))
    verified = api("PUT", f"/v4/domains/{DOMAIN}/verify").json()
    assert verified["domain"]["state"] == "active", "MX records are not required"
    assert [r["valid"] for r in verified["receiving_dns_records"]] == ["invalid"] * 2
    mailgun_api.publish_dns_from(_Cluster(everything[3]))
    verified = api("PUT", f"/v4/domains/{DOMAIN}/verify").json()
    assert {r["valid"] for r in verified["receiving_dns_records"]} == {"valid"}
    assert ("MX", DOMAIN, "10 mxa.mailgun.org") in mailgun_api.published_records()
    mailgun_api.unpublish_dns()
    assert mailgun_api.published_records() == set()


def test_verify_needs_every_sending_record(api, mailgun_api):
    mailgun_api.add_domain(DOMAIN)
    mailgun_api.publish_dns_from(
        _Cluster(
            {"dnsName": DOMAIN, "recordType": "TXT", "targets": ["v=spf1 -all"]},
            {"dnsName": f"email.{DOMAIN}", "recordType": "CNAME", "targets": ["x.org"]},
        )
    )
    verified = api("PUT", f"/v4/domains/{DOMAIN}/verify").json()
    assert verified["domain"]["state"] == "unverified"
    assert {r["valid"] for r in verified["sending_dns_records"]} == {"invalid"}


def test_message_to_unknown_domain_is_404(api):
    response = api(
        "POST",
        "/v3/nope.example.com/messages",
        data={"from": "a@b.c", "to": "d@e.f", "text": "x"},
    )
    assert response.status_code == 404
    assert response.json() == {"message": "Domain not found: nope.example.com"}


def test_message_with_other_body_type_is_rejected(api, mailgun_api):
    mailgun_api.add_domain(DOMAIN, state="active")
    response = api("POST", f"/v3/{DOMAIN}/messages", json={"from": "a@b.c"})
    assert response.status_code == 400


def test_inject_fault_counts_paths_and_methods(api, mailgun_api):
    mailgun_api.add_domain(DOMAIN)
    mailgun_api.inject_fault(500, times=2, path_contains="/verify")
    mailgun_api.inject_fault(404, method="DELETE")
    assert api("GET", f"/v4/domains/{DOMAIN}").status_code == 200  # path does not match
    assert api("PUT", f"/v4/domains/{DOMAIN}/verify").status_code == 500
    assert api("PUT", f"/v4/domains/{DOMAIN}/verify").json() == {
        "message": "Internal server error"
    }
    assert api("PUT", f"/v4/domains/{DOMAIN}/verify").status_code == 200  # used up
    assert api("DELETE", f"/v3/domains/{DOMAIN}").status_code == 404
    assert DOMAIN in mailgun_api.domains
    assert api("DELETE", f"/v3/domains/{DOMAIN}").status_code == 200


@pytest.mark.parametrize("status", [400, 401, 404, 429, 500, 503])
def test_inject_fault_default_bodies(api, mailgun_api, status):
    mailgun_api.inject_fault(status)
    response = api("GET", "/v4/domains")
    assert response.status_code == status
    if status == 503:
        assert response.headers["Content-Type"] == "text/html"
        assert "Service Unavailable" in response.text
    else:
        assert "message" in response.json()
    assert ("Retry-After" in response.headers) == (status == 429)
    assert api("GET", "/v4/domains").status_code == 200


def test_inject_fault_takes_precedence_over_auth(api, mailgun_api):
    mailgun_api.inject_fault(503)
    assert api("GET", "/v4/domains", auth=None).status_code == 503


def test_inject_delay_slows_the_answer(api, mailgun_api):
    mailgun_api.inject_delay(0.5)
    with pytest.raises(requests.Timeout):
        requests.get(
            mailgun_api.url + "/v4/domains", auth=("api", "key-test"), timeout=0.1
        )
    assert api("GET", "/v4/domains").status_code == 200


def test_request_log_and_reset(api, mailgun_api):
    mailgun_api.add_domain(DOMAIN, state="active")
    api(
        "POST",
        f"/v3/{DOMAIN}/messages",
        data={"from": "a@b.c", "to": "d@e.f", "text": "x"},
    )
    mailgun_api.api_key = "key-changed"
    mailgun_api.inject_fault(500)
    mailgun_api.set_domain_active(DOMAIN)
    assert mailgun_api.request_log[0]["method"] == "POST"
    assert mailgun_api.request_log[0]["form"]["to"] == ["d@e.f"]
    mailgun_api.reset()
    assert (mailgun_api.domains, mailgun_api.messages, mailgun_api.request_log) == (
        {},
        [],
        [],
    )
    assert mailgun_api.api_key == "key-test"
    mailgun_api.add_domain(DOMAIN)
    assert api("GET", "/v4/domains").status_code == 200  # fault gone
    body = api("PUT", f"/v4/domains/{DOMAIN}/verify").json()
    assert body["domain"]["state"] == "unverified"  # active hook gone


def test_lifecycle_context_manager_and_restart():
    fake = FakeMailgunServer(api_key="key-x")
    with pytest.raises(RuntimeError):
        _ = fake.url
    assert fake.port is None and not fake.running
    with fake:
        assert fake.start() is fake  # already running: no-op
        url = fake.url
        assert url.startswith("http://127.0.0.1:")
        assert (
            requests.get(
                url + "/v4/domains", auth=("api", "key-x"), timeout=5
            ).status_code
            == 200
        )
    assert not fake.running
    fake.stop()  # stopping twice is harmless
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/v4/domains", timeout=5)
    fake.start()
    try:
        assert requests.get(
            fake.url + "/v4/domains", auth=("api", "key-x"), timeout=5
        ).ok
    finally:
        fake.stop()


def test_fixture_is_shared_and_reset(mailgun_api):
    module = importlib.import_module("tests.fakes.mailgun_api")

    assert module._shared is mailgun_api
    assert mailgun_api.request_log == [] and mailgun_api.running
