"""Mail settings of an app that sends through Mailgun under its own hostname.

Small pure helpers used by the ``mailgun_domain`` addon: the API base URL and
SMTP host of a Mailgun region, the SMTP login of an app's domain, the
variables that hand the SMTP credentials to the app's manifests, and the
sender address of the invitation mail.  No I/O.
"""

import re

from mintcloud.errors import PermanentError
from mintcloud.mailgun import EU_BASE_URL, US_BASE_URL

#: region -> (API base URL, SMTP host)
REGIONS = {
    "us": (US_BASE_URL, "smtp.mailgun.org"),
    "eu": (EU_BASE_URL, "smtp.eu.mailgun.org"),
}
DEFAULT_REGION = "us"
SMTP_PORT = 587
SMTP_LOCAL_PART = "postmaster"
#: Mailgun accepts SMTP passwords of 5 to 32 characters.
SMTP_PASSWORD_LENGTH = 24
DEFAULT_SENDER_LOCAL_PART = "noreply"

# A conservative dot-atom: letters, digits and ._+- ; no leading, trailing
# or double dot.
_LOCAL_PART = re.compile(r"^[A-Za-z0-9_+-]+(\.[A-Za-z0-9_+-]+)*$")


class AppMailError(PermanentError):
    """A mail setting (region, sender local part) is not usable."""


def _region(region):
    key = (region or DEFAULT_REGION).lower()
    if key not in REGIONS:
        raise AppMailError(
            f"Unknown Mailgun region {region!r}; use one of {', '.join(REGIONS)}"
        )
    return REGIONS[key]


def base_url(region=None, override=None):
    """The API base URL of ``region`` (``us``/``eu``); ``override`` wins when set."""
    if override:
        return override.rstrip("/")
    return _region(region)[0]


def smtp_host(region=None):
    """The SMTP host of ``region``: ``smtp.mailgun.org`` or ``smtp.eu.mailgun.org``."""
    return _region(region)[1]


def smtp_login(hostname, local_part=SMTP_LOCAL_PART):
    """The SMTP login of a domain: ``postmaster@<hostname>``."""
    return f"{local_part}@{hostname}"


def smtp_variables(login, password, host, port=SMTP_PORT):
    """``[(name, value, secret), ...]`` that give an app its SMTP credentials.

    ``mailgun_smtp_*`` name the Mailgun credentials explicitly; ``smtp_host``,
    ``smtp_port``, ``smtp_user`` and ``smtp_password`` are the names the
    manifest templates read for Odoo's outgoing mail server.  Only the
    passwords are secret.
    """
    return [
        ("mailgun_smtp_login", login, False),
        ("mailgun_smtp_password", password, True),
        ("smtp_host", host, False),
        ("smtp_port", str(port), False),
        ("smtp_user", login, False),
        ("smtp_password", password, True),
    ]


def check_local_part(local_part):
    """Return ``local_part`` stripped, or raise :class:`AppMailError`."""
    text = (local_part or "").strip()
    if not _LOCAL_PART.match(text) or len(text) > 64:
        raise AppMailError(
            f"{local_part!r} is not a valid sender name: use letters, digits "
            "and . _ + - only, e.g. noreply"
        )
    return text


def sender_address(local_part, hostname):
    """The invitation sender ``<local part>@<hostname>``."""
    local = check_local_part(local_part or DEFAULT_SENDER_LOCAL_PART)
    if not hostname:
        raise AppMailError("The app has no hostname to send from")
    return f"{local}@{hostname}"


def app_url(hostname):
    """The public URL of an app: ``https://<hostname>``."""
    return f"https://{hostname}"
