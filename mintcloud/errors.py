"""Exception types of the core package.

Every failure that leaves the core is a :class:`MintCloudError`.  Callers
decide what to do from the class alone: a :class:`TransientError` is worth a
retry with backoff (connection refused, timeout, 429, 5xx), a
:class:`PermanentError` is not (400, 401, 403, 404 on an unknown kind, 409,
422, bad input).  The Odoo addons map the first to ``RetryableJobError`` and
the second to a failed deployment with the message shown to the user.

Messages never contain secret values: they name the URL, the manifest, the
object or the variable, not its value.
"""


class MintCloudError(Exception):
    """Base class of every error raised by the core package."""

    transient = False

    def __init__(self, message, **details):
        super().__init__(message)
        self.message = message
        self.details = details

    def __str__(self):
        return self.message


class TransientError(MintCloudError):
    """A fault that may go away by itself: retry later."""

    transient = True


class PermanentError(MintCloudError):
    """A fault that a retry cannot fix: report it."""


# --- fetch -----------------------------------------------------------------


class FetchError(MintCloudError):
    """A manifest could not be downloaded or is not usable YAML."""

    def __init__(self, url, reason, **details):
        super().__init__(f"Cannot fetch manifest {url}: {reason}", **details)
        self.url = url
        self.reason = reason


class TransientFetchError(FetchError, TransientError):
    """DNS failure, timeout, connection error, 429 or 5xx while fetching."""


class PermanentFetchError(FetchError, PermanentError):
    """404, not http(s), too large, not YAML: fetching again will not help."""


# --- render / validate -------------------------------------------------------


class RenderError(PermanentError):
    """A template could not be rendered.

    ``manifest`` names the template, ``line`` is the 1-based template line
    (or None), ``variable`` the undefined variable (or None).
    """

    def __init__(self, message, manifest=None, line=None, variable=None):
        where = manifest or "<template>"
        if line:
            where = f"{where}, line {line}"
        super().__init__(f"{where}: {message}")
        self.manifest = manifest
        self.line = line
        self.variable = variable


class ValidationError(PermanentError):
    """Rendered documents do not pass the offline checks.

    ``errors`` holds one human-readable string per problem; all problems are
    reported, not only the first.
    """

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__(
            f"{len(self.errors)} validation error(s):\n" + "\n".join(self.errors)
        )


# --- Kubernetes API --------------------------------------------------------


class KubeApiError(MintCloudError):
    """The Kubernetes API answered with an error or could not be reached.

    ``status`` is the HTTP status (None when no answer came), ``reason`` the
    ``Status.reason`` of the API (``Conflict``, ``Invalid`` …).
    """

    def __init__(self, message, status=None, reason=None, **details):
        super().__init__(message, **details)
        self.status = status
        self.reason = reason


class KubeTransientError(KubeApiError, TransientError):
    pass


class KubePermanentError(KubeApiError, PermanentError):
    pass


# --- Mailgun ---------------------------------------------------------------


class MailgunError(MintCloudError):
    def __init__(self, message, status=None, **details):
        super().__init__(message, **details)
        self.status = status


class MailgunTransientError(MailgunError, TransientError):
    pass


class MailgunPermanentError(MailgunError, PermanentError):
    pass


class MailgunAuthError(MailgunPermanentError):
    """401/403: the API key or region is wrong; a configuration error."""


def is_transient_status(status):
    """True for HTTP statuses worth a retry: 408, 429 and every 5xx."""
    return status in (408, 429) or (status is not None and 500 <= status <= 599)
