"""A small client for the Mailgun HTTP API, written over ``requests``.

Every call goes through :meth:`MailgunClient._request`, the one seam that
talks to the network and turns HTTP statuses into the exception types of
:mod:`mintcloud.errors`:

* 401, and 403 unless Mailgun's message says the domain may not send yet
  -> :class:`MailgunAuthError` (the API key or the region is wrong);
* 403 whose message says the domain "is not allowed to send" or is
  unverified -> :class:`MailgunNotAllowedError`, a transient error: the
  domain's DNS records are not verified yet, wait and retry;
* 404 -> ``None`` for get-like calls (a 404 is data), else
  :class:`MailgunPermanentError`;
* 408, 429, 5xx, timeouts, connection errors -> :class:`MailgunTransientError`
  (``details["retry_after"]`` holds the seconds Mailgun asked us to wait);
* any other 4xx -> :class:`MailgunPermanentError` with Mailgun's ``message``.

The API key is sent as HTTP basic auth (user ``api``) and never appears in an
exception message.  Tests inject a ``requests.Session`` or point ``base_url``
at the local fake server.

Adopting an existing domain uses the documented endpoints only: ``GET`` the
domain before creating it, and set the SMTP password with ``PUT
.../credentials/<login>`` (documented answers 200 and 404), creating the
credentials on a 404.  The wording of an error is never parsed to decide a
flow, except for the 403 on sending (above), whose message is all Mailgun
gives to tell an unverified domain from a refused key.

The pure helpers :func:`dns_records` and :func:`domain_state` read the domain
bodies returned by ``GET /v4/domains/<name>``, ``POST /v4/domains`` and
``PUT /v4/domains/<name>/verify``.
"""

import re
from urllib.parse import quote

import requests

from mintcloud.errors import (
    MailgunAuthError,
    MailgunPermanentError,
    MailgunTransientError,
    is_transient_status,
)

US_BASE_URL = "https://api.mailgun.net"
EU_BASE_URL = "https://api.eu.mailgun.net"
DEFAULT_TIMEOUT = 10

#: What Mailgun says when a domain may not send yet (a 403 on sending):
#: "Domain x is not allowed to send: ...", "... the domain is unverified ...".
_NOT_ALLOWED_TO_SEND = re.compile(
    r"not\s+allowed\s+to\s+send|\bunverified\b|\bnot\s+(yet\s+)?verified\b",
    re.IGNORECASE,
)


class MailgunNotAllowedError(MailgunTransientError):
    """403 "not allowed to send": the domain is not verified yet; retry later."""


class MailgunClient:
    """Mailgun HTTP API client (domains, SMTP credentials, messages)."""

    def __init__(
        self, api_key, base_url=US_BASE_URL, timeout=DEFAULT_TIMEOUT, session=None
    ):
        if not api_key:
            raise MailgunAuthError("No Mailgun API key is configured")
        self._api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()

    def __repr__(self):
        return f"MailgunClient(base_url={self.base_url!r})"

    # --- the seam ------------------------------------------------------------

    def _request(self, method, path, *, params=None, data=None, missing_ok=False):
        """Send one request and return the parsed JSON body.

        Returns None for a 404 when ``missing_ok`` is set; raises a Mailgun
        error for every other failure.
        """
        url = self.base_url + path
        where = f"{method} {path}"
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                data=data,
                auth=("api", self._api_key),
                timeout=self.timeout,
            )
        except requests.Timeout as exc:
            raise MailgunTransientError(
                f"Mailgun API at {self.base_url} timed out after {self.timeout}s ({where})"
            ) from exc
        except (
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema,
            requests.exceptions.InvalidURL,
        ) as exc:
            raise MailgunPermanentError(
                f"Mailgun base URL {self.base_url!r} is not a valid http(s) URL"
            ) from exc
        except requests.RequestException as exc:
            raise MailgunTransientError(
                f"Mailgun API at {self.base_url} is unreachable ({where}): "
                f"{type(exc).__name__}"
            ) from exc

        status = response.status_code
        if status == 404 and missing_ok:
            return None
        if 200 <= status < 300:
            body = _json_or_none(response)
            if not isinstance(body, dict):
                raise MailgunPermanentError(
                    f"Mailgun answered {where} with a body that is not a JSON object "
                    f"(HTTP {status}); is {self.base_url} the Mailgun API?",
                    status=status,
                )
            return body
        raise self._error(response, where)

    def _error(self, response, where):
        """Build the exception for a failed response (never shows the key)."""
        status = response.status_code
        body = _json_or_none(response)
        detail = self._scrub(_message_of(body, response))
        if status == 403 and _NOT_ALLOWED_TO_SEND.search(detail):
            return MailgunNotAllowedError(
                f"Mailgun does not let the domain send yet ({where}, HTTP 403): "
                f"{detail}",
                status=status,
            )
        if status in (401, 403):
            return MailgunAuthError(
                f"Mailgun refused {where} (HTTP {status}): the API key or the "
                f"region ({self.base_url}) is wrong",
                status=status,
            )
        message = f"Mailgun answered {where} with HTTP {status}: {detail}"
        if is_transient_status(status):
            retry_after = _retry_after(response, body)
            details = {"retry_after": retry_after} if retry_after is not None else {}
            return MailgunTransientError(message, status=status, **details)
        return MailgunPermanentError(message, status=status)

    def _scrub(self, text):
        """Hide the API key should a server ever echo it back."""
        return text.replace(self._api_key, "***")

    # --- domains -------------------------------------------------------------

    def create_domain(
        self,
        name,
        smtp_password=None,
        spam_action="disabled",
        wildcard=False,
        web_scheme="https",
    ):
        """Create a sending domain; return Mailgun's body with its DNS records."""
        data = {
            "name": name,
            "spam_action": spam_action,
            "wildcard": "true" if wildcard else "false",
            "web_scheme": web_scheme,
        }
        if smtp_password:
            data["smtp_password"] = smtp_password
        return self._request("POST", "/v4/domains", data=data)

    def get_domain(self, name):
        """Return the domain body (domain + DNS records), or None when unknown."""
        return self._request("GET", f"/v4/domains/{_seg(name)}", missing_ok=True)

    def ensure_domain(self, name, smtp_password):
        """Return ``(body, created)``; an existing domain is adopted, not duplicated.

        ``GET`` first; a domain our key can read is adopted.  When the create
        fails with a 400 or 409 (another worker may have created it since our
        GET), ``GET`` decides again: still unknown to our key (the name is
        taken by another account, or the request is invalid) keeps the error.
        """
        body = self.get_domain(name)
        if body is not None:
            return body, False
        try:
            return self.create_domain(name, smtp_password=smtp_password), True
        except MailgunPermanentError as exc:
            if exc.status not in (400, 409):
                raise
            body = self.get_domain(name)
            if body is None:
                raise
            return body, False

    def verify_domain(self, name):
        """Ask Mailgun to check the DNS records now; return the domain body."""
        return self._request("PUT", f"/v4/domains/{_seg(name)}/verify")

    def delete_domain(self, name):
        """Delete the domain; False when it was already gone."""
        return (
            self._request("DELETE", f"/v3/domains/{_seg(name)}", missing_ok=True)
            is not None
        )

    def check_auth(self):
        """True when the key works for this region, else MailgunAuthError."""
        self._request("GET", "/v4/domains", params={"limit": 1})
        return True

    # --- SMTP credentials ----------------------------------------------------

    def set_smtp_credential(self, domain, login, password):
        """Set the password of SMTP credentials ``login@domain``; create them if missing.

        ``login`` is the local part (``postmaster``) or the full address.
        ``PUT .../credentials/<login>`` first (documented: 200, or 404 when
        there are no such credentials), then ``POST .../credentials`` on a
        404.  Returns Mailgun's body (``{"message": ...}``).
        """
        if "@" not in login:
            login = f"{login}@{domain}"
        path = f"/v3/domains/{_seg(domain)}/credentials"
        body = self._request(
            "PUT", f"{path}/{_seg(login)}", data={"password": password}, missing_ok=True
        )
        if body is not None:
            return body
        return self._request("POST", path, data={"login": login, "password": password})

    # --- messages ------------------------------------------------------------

    def send_message(
        self, domain, sender, to, subject, text=None, html=None, headers=None
    ):
        """Send one message through ``domain``; return ``{"id": ..., "message": ...}``.

        ``to`` is an address or a list of addresses; ``headers`` a dict of extra
        MIME headers (sent as ``h:Name`` fields).
        """
        data = {
            "from": sender,
            "to": [to] if isinstance(to, str) else list(to),
            "subject": subject,
        }
        if text is not None:
            data["text"] = text
        if html is not None:
            data["html"] = html
        for key, value in (headers or {}).items():
            data[f"h:{key}"] = value
        return self._request("POST", f"/v3/{_seg(domain)}/messages", data=data)


# --- pure helpers ----------------------------------------------------------------


def dns_records(domain_body):
    """Flatten the sending and receiving records of a domain body.

    Each record becomes ``{record_type, name, value, priority, valid, purpose}``
    where ``priority`` is an int or None, ``valid`` is ``"valid"``,
    ``"invalid"`` or ``"unknown"`` and ``purpose`` is ``"sending"`` or
    ``"receiving"``.  Receiving (MX) records without a name get the domain's.
    """
    domain_name = (domain_body.get("domain") or {}).get("name", "")
    records = []
    for purpose in ("sending", "receiving"):
        for raw in domain_body.get(f"{purpose}_dns_records") or []:
            records.append(
                {
                    "record_type": (raw.get("record_type") or "").upper(),
                    "name": raw.get("name") or domain_name,
                    "value": raw.get("value", ""),
                    "priority": _int_or_none(raw.get("priority")),
                    "valid": _validity(raw.get("valid")),
                    "purpose": purpose,
                }
            )
    return records


def domain_state(domain_body):
    """Return ``"active"``, ``"unverified"`` or ``"failed"`` for a domain body.

    Mailgun's own ``state`` wins: ``active`` is active, ``disabled`` (or
    ``is_disabled``) is failed.  Invalid DNS records leave the domain
    ``unverified``: DNS may still be propagating, a later verify can succeed.
    Without a ``state`` the sending records decide (all valid -> active).
    """
    domain = domain_body.get("domain") or {}
    state = (domain.get("state") or "").lower()
    if domain.get("is_disabled") or state == "disabled":
        return "failed"
    if state == "active":
        return "active"
    if not state:
        sending = [r for r in dns_records(domain_body) if r["purpose"] == "sending"]
        if sending and all(r["valid"] == "valid" for r in sending):
            return "active"
    return "unverified"


def _seg(value):
    """Quote one path segment (a domain name or a login)."""
    return quote(str(value), safe="@")


def _json_or_none(response):
    try:
        return response.json()
    except ValueError:
        return None


def _message_of(body, response):
    """Mailgun's ``message`` field, else the start of the raw body."""
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    text = (response.text or "").strip()
    return text[:200] if text else response.reason or "no details"


def _retry_after(response, body):
    """Seconds to wait from the Retry-After header or the ``retry-seconds`` field."""
    candidates = [response.headers.get("Retry-After")]
    if isinstance(body, dict):
        candidates.append(body.get("retry-seconds"))
    for value in candidates:
        seconds = _int_or_none(value)
        if seconds is not None:
            return seconds
    return None


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _validity(value):
    value = (value or "").lower()
    return value if value in ("valid", "invalid") else "unknown"
