"""A stateful fake of the Mailgun HTTP API for the tests.

:class:`FakeMailgunServer` runs a stdlib ``ThreadingHTTPServer`` on
127.0.0.1 in a thread and answers the endpoints the core uses, with the
shapes of the real API:

* ``GET|POST /v3|v4/domains``, ``GET|DELETE /v3|v4/domains/<name>``,
  ``PUT /v3|v4/domains/<name>/verify``;
* ``GET|POST /v3/domains/<name>/credentials``,
  ``PUT|DELETE /v3/domains/<name>/credentials/<login>``;
* ``POST /v3/<name>/messages`` (form-encoded or multipart).

Requests need basic auth ``api:<api_key>``, else 401
``{"message": "Invalid private key"}``.  Tests read the state (``domains``,
``credentials``, ``messages``, ``request_log``), make a domain verifiable with
:meth:`set_domain_active`, and provoke failures with :meth:`inject_fault` and
:meth:`inject_delay`.

Where the fake is stricter than Mailgun's documentation, on purpose:

* **Sending from a domain that is not active** is refused with the 403 that
  Mailgun's older notices show, ``Domain <name> is not allowed to send: The
  domain is unverified ...`` (Mailgun's reference also documents a limited
  quota instead; ``unverified_sending = "allow"`` plays that).
* **Creating credentials that exist** answers a 400 whose wording says
  nothing about why: Mailgun documents only "400 with a message" for
  ``POST .../credentials``, so no client may read the wording.  The
  documented way to set the password of existing credentials is ``PUT
  .../credentials/<login>`` (404 when there are none).

**DNS.**  The fake resolves no real DNS.  :meth:`publish_dns_from` links it
to a fake Kubernetes API server: the fake then plays external-dns and DNS
together, and a record counts as published when a ``DNSEndpoint``
(``externaldns.k8s.io/v1alpha1``) on that fake cluster holds it, as
external-dns with ``--source=crd`` would publish it in the zone.  ``PUT
.../verify`` marks each such record valid and the domain ``active`` once
every sending record is valid.  :meth:`set_domain_active` still makes a
domain verify without any record (DNS published by hand).

The ``mailgun_api`` fixture hands out one server per test session, reset
before every test.
"""

import atexit
import base64
import email.parser
import email.policy
import hashlib
import itertools
import json
import re
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from tests.fakes.threaded import ThreadedHttpFake

_DOMAIN_NAME = re.compile(
    r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
)
_DEFAULT_FAULT_BODIES = {
    400: {"message": "Bad request (injected fault)"},
    401: {"message": "Invalid private key"},
    403: {"message": "Forbidden"},
    404: {"message": "Not found (injected fault)"},
    429: {"message": "Too many requests", "retry-seconds": 3},
    500: {"message": "Internal server error"},
    # The real 502/503 pages come from the load balancer, not as JSON.
    502: "<html><body><h1>502 Bad Gateway</h1></body></html>",
    503: "<html><body><h1>503 Service Unavailable</h1></body></html>",
}
_ROUTES = [
    (re.compile(r"^/v[34]/domains$"), "domains"),
    (re.compile(r"^/v[34]/domains/(?P<name>[^/]+)$"), "domain"),
    (re.compile(r"^/v[34]/domains/(?P<name>[^/]+)/verify$"), "verify"),
    (re.compile(r"^/v3/domains/(?P<name>[^/]+)/credentials$"), "credentials"),
    (
        re.compile(r"^/v3/domains/(?P<name>[^/]+)/credentials/(?P<login>[^/]+)$"),
        "credential",
    ),
    (re.compile(r"^/v3/(?P<name>[^/]+)/messages$"), "messages"),
]


class FakeMailgunServer(ThreadedHttpFake):
    """Fake Mailgun API on ``http://127.0.0.1:<port>`` (see the module doc)."""

    thread_name = "fake-mailgun"

    def __init__(self, api_key="key-test", host="127.0.0.1", port=0):
        super().__init__(host, port)
        self.api_key = api_key
        self._initial_api_key = api_key
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self.reset()

    def reset(self):
        """Forget every domain, credential, message, logged request and fault."""
        with self._lock:
            self.api_key = self._initial_api_key
            self.domains = {}
            self.credentials = {}
            self.messages = []
            self.request_log = []
            self._faults = []
            self._verifiable = set()
            self._dns_sources = []
            self.unverified_sending = "refuse"

    # --- test hooks ----------------------------------------------------------

    def inject_fault(
        self, status, times=1, path_contains=None, method=None, body=None, headers=None
    ):
        """Answer the next ``times`` matching requests with ``status``.

        A request matches when its path contains ``path_contains`` and its
        method is ``method`` (each when given).  ``body`` defaults to a
        realistic one per status (JSON, or an HTML page for 502/503); a 429
        carries ``Retry-After`` unless ``headers`` is given.
        """
        if body is None:
            body = _DEFAULT_FAULT_BODIES.get(
                status, {"message": f"HTTP {status} (injected fault)"}
            )
        if headers is None:
            headers = {"Retry-After": "3"} if status == 429 else {}
        self._add_fault(
            status=status,
            times=times,
            path_contains=path_contains,
            method=method,
            body=body,
            headers=headers,
            delay=0,
        )

    def inject_delay(self, seconds, times=1, path_contains=None, method=None):
        """Sleep ``seconds`` before answering the next ``times`` matching requests."""
        self._add_fault(
            status=None,
            times=times,
            path_contains=path_contains,
            method=method,
            body=None,
            headers={},
            delay=seconds,
        )

    def _add_fault(self, **fault):
        with self._lock:
            self._faults.append(fault)

    def set_domain_active(self, name):
        """Pretend the DNS records of ``name`` are published: verify will succeed."""
        with self._lock:
            self._verifiable.add(name.lower())

    def publish_dns_from(self, kube):
        """Resolve DNS from the ``DNSEndpoint`` objects of fake cluster ``kube``.

        ``kube`` is a :class:`tests.fakes.kube_api.FakeKubeServer` (anything
        with its ``list_objects``).  Several clusters may be linked; reset()
        unlinks them.
        """
        with self._lock:
            self._dns_sources.append(kube)

    def unpublish_dns(self):
        """Forget the linked clusters: DNS shows nothing (not propagated yet)."""
        with self._lock:
            self._dns_sources = []

    def published_records(self):
        """``{(type, name, value)}`` of every linked cluster's DNSEndpoints.

        An MX value is ``"<priority> <host>"``; names and CNAME/MX hosts are
        lower-cased without a trailing dot.
        """
        with self._lock:
            sources = list(self._dns_sources)
        found = set()
        for kube in sources:
            for obj in kube.list_objects(
                api_version="externaldns.k8s.io/v1alpha1", kind="DNSEndpoint"
            ):
                for endpoint in (obj.get("spec") or {}).get("endpoints") or []:
                    record_type = str(endpoint.get("recordType") or "").upper()
                    name = _dns_name(endpoint.get("dnsName"))
                    for target in endpoint.get("targets") or []:
                        found.add((record_type, name, _dns_value(record_type, target)))
        return found

    def add_domain(self, name, smtp_password=None, state="unverified"):
        """Create a domain directly (as if made earlier in the Mailgun UI)."""
        name = name.lower()
        with self._lock:
            body = self.domains[name] = _domain_body(name, state=state)
            if smtp_password:
                self.credentials.setdefault(name, {})[f"postmaster@{name}"] = (
                    smtp_password
                )
            return body

    def _take_fault(self, method, path):
        with self._lock:
            for fault in self._faults:
                if fault["method"] not in (None, method):
                    continue
                if fault["path_contains"] is None or fault["path_contains"] in path:
                    fault["times"] -= 1
                    if fault["times"] <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    # --- request handling (called from the handler threads) ------------------

    def handle(self, method, raw_path, headers, body):
        """Return ``(status, body, extra_headers)`` for one request."""
        split = urlsplit(raw_path)
        path = split.path
        query = {k: v for k, v in parse_qs(split.query).items()}
        form, files = _parse_form(headers.get("Content-Type", ""), body)
        authorized = _basic_auth_ok(headers.get("Authorization"), self.api_key)
        with self._lock:
            self.request_log.append(
                {
                    "method": method,
                    "path": path,
                    "query": query,
                    "form": form,
                    "files": files,
                    "authorized": authorized,
                }
            )
        fault = self._take_fault(method, path)
        if fault and fault["delay"]:
            time.sleep(fault["delay"])
        if fault and fault["status"] is not None:
            return fault["status"], fault["body"], fault["headers"]
        if not authorized:
            return 401, {"message": "Invalid private key"}, {}
        for pattern, route in _ROUTES:
            match = pattern.match(path)
            if match:
                params = {k: unquote(v) for k, v in match.groupdict().items()}
                handler = getattr(self, f"_{route}_{method.lower()}", None)
                if handler is None:
                    return 405, {"message": "Method not allowed"}, {}
                with self._lock:
                    return handler(query=query, form=form, files=files, **params) + (
                        {},
                    )
        return 404, {"message": "Not Found"}, {}

    # domains

    def _domains_get(self, query, **_):
        items = [body["domain"] for body in self.domains.values()]
        if "state" in query:
            items = [d for d in items if d["state"] == query["state"][0]]
        skip = int(query.get("skip", ["0"])[0])
        limit = int(query.get("limit", ["100"])[0])
        return 200, {"items": items[skip : skip + limit], "total_count": len(items)}

    def _domains_post(self, form, **_):
        name = _first(form, "name").lower()
        if not name:
            return 400, {"message": "Missing parameter 'name'"}
        if not _DOMAIN_NAME.match(name):
            return 400, {"message": f"'{name}' is not a valid domain name"}
        if name in self.domains:
            return 400, {"message": "This domain name is already taken"}
        password = _first(form, "smtp_password")
        if password and not 5 <= len(password) <= 32:
            return 400, {
                "message": "Password length must be between 5 and 32 characters"
            }
        body = _domain_body(
            name,
            spam_action=_first(form, "spam_action") or "disabled",
            wildcard=_first(form, "wildcard") == "true",
            web_scheme=_first(form, "web_scheme") or "http",
        )
        self.domains[name] = body
        if password:
            self.credentials.setdefault(name, {})[f"postmaster@{name}"] = password
        return 200, dict(body, message="Domain has been created")

    def _domain_get(self, name, **_):
        body = self.domains.get(name.lower())
        if body is None:
            return 404, {"message": "Domain not found"}
        return 200, body

    def _domain_delete(self, name, **_):
        if self.domains.pop(name.lower(), None) is None:
            return 404, {"message": "Domain not found"}
        self.credentials.pop(name.lower(), None)
        return 200, {"message": "Domain has been deleted"}

    def _verify_put(self, name, **_):
        body = self.domains.get(name.lower())
        if body is None:
            return 404, {"message": "Domain not found"}
        by_hand = name.lower() in self._verifiable
        published = self.published_records() if self._dns_sources else set()
        for record in body["sending_dns_records"] + body["receiving_dns_records"]:
            ok = by_hand or _record_key(record, name.lower()) in published
            record["valid"] = "valid" if ok else "invalid"
        if all(r["valid"] == "valid" for r in body["sending_dns_records"]):
            body["domain"]["state"] = "active"
        return 200, dict(body, message="Domain DNS records have been updated")

    # credentials

    def _credentials_get(self, name, **_):
        if name.lower() not in self.domains:
            return 404, {"message": "Domain not found"}
        logins = sorted(self.credentials.get(name.lower(), {}))
        items = [
            {
                "login": login,
                "mailbox": login,
                "size_bytes": 0,
                "created_at": formatdate(usegmt=True),
            }
            for login in logins
        ]
        return 200, {"items": items, "total_count": len(items)}

    def _credentials_post(self, name, form, **_):
        name = name.lower()
        if name not in self.domains:
            return 404, {"message": "Domain not found"}
        login, password = _first(form, "login").lower(), _first(form, "password")
        if not login or not password:
            return 400, {"message": "Missing parameter 'login' or 'password'"}
        if "@" not in login:
            login = f"{login}@{name}"
        if login.rpartition("@")[2] != name:
            return 400, {"message": f"Login must belong to domain {name}"}
        if not 5 <= len(password) <= 32:
            return 400, {
                "message": "Password length must be between 5 and 32 characters"
            }
        if login in self.credentials.get(name, {}):
            # Undocumented wording on purpose: see the module doc.
            return 400, {"message": "Bad request"}
        self.credentials.setdefault(name, {})[login] = password
        return 200, {"message": "Created 1 credentials pair(s)"}

    def _credential_put(self, name, login, form, **_):
        creds = self.credentials.get(name.lower(), {})
        if login.lower() not in creds:
            return 404, {"message": "Credentials not found"}
        password = _first(form, "password")
        if not 5 <= len(password) <= 32:
            return 400, {
                "message": "Password length must be between 5 and 32 characters"
            }
        creds[login.lower()] = password
        return 200, {"message": "Password changed"}

    def _credential_delete(self, name, login, **_):
        if self.credentials.get(name.lower(), {}).pop(login.lower(), None) is None:
            return 404, {"message": "Credentials not found"}
        return 200, {"message": "Credentials have been deleted", "spec": login.lower()}

    # messages

    def _messages_post(self, name, form, files, **_):
        name = name.lower()
        if name not in self.domains:
            return 404, {"message": f"Domain not found: {name}"}
        state = self.domains[name]["domain"]["state"]
        if state != "active" and self.unverified_sending != "allow":
            return 403, {
                "message": f"Domain {name} is not allowed to send: The domain is "
                "unverified and requires DNS configuration. Log in to your "
                "control panel to view required DNS records."
            }
        if not _first(form, "from"):
            return 400, {"message": "'from' parameter is missing"}
        to = [
            addr.strip()
            for value in form.get("to", [])
            for addr in value.split(",")
            if addr.strip()
        ]
        if not to:
            return 400, {"message": "'to' parameter is missing"}
        if not (_first(form, "text") or _first(form, "html")):
            return 400, {
                "message": "Need at least one of 'text' or 'html' parameters specified"
            }
        message_id = f"<{time.strftime('%Y%m%d%H%M%S')}.{next(self._ids)}@{name}>"
        self.messages.append(
            {
                "id": message_id,
                "domain": name,
                "from": _first(form, "from"),
                "to": to,
                "subject": _first(form, "subject"),
                "text": form.get("text", [None])[0],
                "html": form.get("html", [None])[0],
                "headers": {k[2:]: v[0] for k, v in form.items() if k.startswith("h:")},
                "attachments": files,
            }
        )
        return 200, {"id": message_id, "message": "Queued. Thank you."}


class _Handler(BaseHTTPRequestHandler):
    """Route every method to ``fake.handle`` and write its answer."""

    fake = None  # set on the per-server subclass

    def handle(self):
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, payload, headers = self.fake.handle(
            self.command, self.path, self.headers, body
        )
        if isinstance(payload, (dict, list)):
            data, ctype = json.dumps(payload).encode(), "application/json"
        else:
            data, ctype = str(payload).encode(), "text/html"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def log_message(self, *args):
        pass


def _domain_body(
    name, state="unverified", spam_action="disabled", wildcard=False, web_scheme="http"
):
    """A domain as ``GET /v4/domains/<name>`` returns it, records not checked yet."""

    def record(record_type, record_name, value, **extra):
        return dict(
            {
                "cached": [],
                "is_active": True,
                "name": record_name,
                "record_type": record_type,
                "valid": "unknown",
                "value": value,
            },
            **extra,
        )

    return {
        "domain": {
            "created_at": formatdate(usegmt=True),
            "id": hashlib.md5(name.encode()).hexdigest()[:24],
            "is_disabled": False,
            "name": name,
            "require_tls": False,
            "skip_verification": False,
            "smtp_login": f"postmaster@{name}",
            "spam_action": spam_action,
            "state": state,
            "type": "custom",
            "web_prefix": "email",
            "web_scheme": web_scheme,
            "wildcard": wildcard,
        },
        "receiving_dns_records": [
            record("MX", name, "mxa.mailgun.org", priority="10"),
            record("MX", name, "mxb.mailgun.org", priority="10"),
        ],
        "sending_dns_records": [
            record("TXT", name, "v=spf1 include:mailgun.org ~all"),
            record(
                "TXT",
                f"pic._domainkey.{name}",
                "k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDfake"
                + name.replace(".", ""),
            ),
            record("CNAME", f"email.{name}", "mailgun.org"),
        ],
    }


def _dns_name(value):
    return str(value or "").strip().rstrip(".").lower()


def _dns_value(record_type, value):
    """A record's value as DNS holds it: MX ``"<prio> <host>"``, hosts lower-cased."""
    value = str(value or "").strip()
    if record_type == "MX":
        priority, _, host = value.partition(" ")
        return f"{priority.strip()} {_dns_name(host)}"
    if record_type == "CNAME":
        return _dns_name(value)
    return value


def _record_key(record, domain):
    """``(type, name, value)`` of one record of a domain body."""
    record_type = record["record_type"].upper()
    value = record["value"]
    if record_type == "MX":
        value = f"{record.get('priority') or 10} {value}"
    return (
        record_type,
        _dns_name(record.get("name") or domain),
        _dns_value(record_type, value),
    )


def _parse_form(content_type, body):
    """Return ``(fields, files)`` of a form-encoded or multipart body.

    ``fields`` maps each name to its list of values, ``files`` lists
    ``(field, filename, bytes)`` of the uploaded files.
    """
    if content_type.startswith("application/x-www-form-urlencoded"):
        return parse_qs(body.decode(), keep_blank_values=True), []
    if not content_type.startswith("multipart/form-data"):
        return {}, []
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields, files = {}, []
    for part in message.iter_parts():
        field = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if part.get_filename():
            files.append((field, part.get_filename(), payload))
        else:
            text = payload.decode(part.get_content_charset() or "utf-8")
            fields.setdefault(field, []).append(text)
    return fields, files


def _basic_auth_ok(header, api_key):
    if not header or not header.startswith("Basic "):
        return False
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return False
    return user == "api" and password == api_key


def _first(form, key):
    return (form.get(key) or [""])[0]


_shared = None


def _stop_shared():
    if _shared is not None:
        _shared.stop()


atexit.register(_stop_shared)


@pytest.fixture
def mailgun_api():
    """A running :class:`FakeMailgunServer`, shared by the session, reset per test."""
    global _shared
    if _shared is None:
        _shared = FakeMailgunServer()
    _shared.start()  # no-op when running; restarts after a test stopped it
    _shared.reset()
    yield _shared


FakeMailgunServer.handler_class = _Handler
