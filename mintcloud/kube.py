"""The one seam between the core package and the Kubernetes API.

Everything that talks to a cluster gets its client from :func:`api_client`
and :func:`dynamic_client`, and turns every failure into a
:class:`~mintcloud.errors.KubeTransientError` (worth a retry) or a
:class:`~mintcloud.errors.KubePermanentError` (report it) with
:func:`classify`.  Error messages name the object and the API's reason; they
never contain the token or the kubeconfig.
"""

import ast
import atexit
import hashlib
import json
import os
import shutil
import tempfile
import threading

import urllib3
import yaml
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException
from kubernetes.config.config_exception import ConfigException
from kubernetes.config.incluster_config import (
    SERVICE_CERT_FILENAME,
    SERVICE_TOKEN_FILENAME,
    InClusterConfigLoader,
)
from kubernetes.config.kube_config import KubeConfigLoader
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import ResourceNotFoundError, ResourceNotUniqueError

from mintcloud.errors import (
    KubeApiError,
    KubePermanentError,
    KubeTransientError,
    is_transient_status,
)

DEFAULT_TIMEOUT = 30  # seconds, for every request unless a call says otherwise

# Where the in-cluster loader finds the service account; tests patch these.
TOKEN_FILE = SERVICE_TOKEN_FILENAME
CA_FILE = SERVICE_CERT_FILENAME

_discovery_dir = None


class TimeoutApiClient(k8s.ApiClient):
    """An ``ApiClient`` that gives every request a default timeout.

    The generated client and the dynamic client only time out when each call
    passes ``_request_timeout``; discovery calls never do.  Overriding
    :meth:`request` covers all of them.
    """

    def __init__(self, configuration, request_timeout=DEFAULT_TIMEOUT):
        super().__init__(configuration)
        self.request_timeout = request_timeout

    def request(
        self,
        method,
        url,
        query_params=None,
        headers=None,
        post_params=None,
        body=None,
        _preload_content=True,
        _request_timeout=None,
    ):
        if _request_timeout is None:
            _request_timeout = self.request_timeout
        return super().request(
            method,
            url,
            query_params=query_params,
            headers=headers,
            post_params=post_params,
            body=body,
            _preload_content=_preload_content,
            _request_timeout=_request_timeout,
        )


# --- clients ------------------------------------------------------------------


def api_client(
    kubeconfig=None,
    host=None,
    token=None,
    verify_ssl=True,
    in_cluster=False,
    context=None,
    timeout=DEFAULT_TIMEOUT,
    retries=None,
):
    """A fresh ``ApiClient``; the global default ``Configuration`` is never touched.

    One source, the first given of: ``in_cluster`` (the pod's service
    account), ``kubeconfig`` (the YAML *text* of a kubeconfig, ``context``
    picks a context) or ``host`` (with an optional bearer ``token``).
    ``timeout`` (seconds) applies to every request made with the client.
    ``verify_ssl=False`` disables certificate checks (test clusters only).
    ``retries`` is urllib3's (None: its default of 3 retries of idempotent
    requests; ``False``: one attempt, so ``timeout`` bounds a read).
    Raises :class:`KubePermanentError` when the configuration is unusable.
    """
    config = k8s.Configuration()
    if in_cluster:
        _load(
            InClusterConfigLoader(TOKEN_FILE, CA_FILE),
            config,
            "in-cluster configuration",
        )
    elif kubeconfig:
        _load(_kubeconfig_loader(kubeconfig, context), config, "kubeconfig")
    elif host:
        config.host = host.rstrip("/")
        if token:
            config.api_key["BearerToken"] = token
            config.api_key_prefix["BearerToken"] = "Bearer"
    else:
        raise KubePermanentError(
            "No Kubernetes connection configured: give a kubeconfig, "
            "a host or in_cluster"
        )
    if not verify_ssl:
        config.verify_ssl = False
    if retries is not None:
        config.retries = retries
    return TimeoutApiClient(config, request_timeout=timeout)


def _kubeconfig_loader(text, context):
    """A ``KubeConfigLoader`` for kubeconfig text; errors never quote the text."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise KubePermanentError(f"The kubeconfig is not valid YAML{where}") from None
    if not isinstance(data, dict):
        raise KubePermanentError("The kubeconfig is not a YAML mapping")
    try:
        return KubeConfigLoader(config_dict=data, active_context=context)
    except ConfigException as exc:
        raise KubePermanentError(f"The kubeconfig is not usable: {exc}") from None


def _load(loader, config, what):
    """Run ``loader.load_and_set(config)``; report failures without secrets.

    ``ConfigException`` messages name keys and files, never values.  Anything
    else (bad base64, unreadable file) is reported by its type only.
    """
    try:
        loader.load_and_set(config)
    except ConfigException as exc:
        raise KubePermanentError(f"The {what} is not usable: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - message may quote secret data
        raise KubePermanentError(
            f"The {what} is not usable ({type(exc).__name__})"
        ) from None


def _discovery_cache_dir():
    """A temporary directory for discovery caches, removed when Python exits."""
    global _discovery_dir
    if _discovery_dir is None:
        _discovery_dir = tempfile.mkdtemp(prefix="mintcloud-discovery-")
        owner = os.getpid()

        def cleanup():
            if os.getpid() == owner:  # not in forked workers
                shutil.rmtree(_discovery_dir, ignore_errors=True)

        atexit.register(cleanup)
    return _discovery_dir


def dynamic_client(api_client):
    """A ``DynamicClient`` whose discovery cache is private to this thread.

    The cache file lives in a temporary directory of this process and is
    keyed by the API server URL, the process id and the thread, so two
    servers never share one, forked workers do not write the same file, no
    stale file of an older process is read, and two deployments running in
    threads of one server (queue_job in a threaded Odoo) never read a file
    the other is writing (the client would log "load cache error").
    Discovery failures are classified.
    """
    host = api_client.configuration.host
    key = hashlib.sha256(host.encode()).hexdigest()[:24]
    owner = f"{os.getpid()}-{threading.get_ident()}"
    cache_file = os.path.join(_discovery_cache_dir(), f"{key}-{owner}.json")
    try:
        return DynamicClient(api_client, cache_file=cache_file)
    except Exception as exc:  # noqa: BLE001 - classify decides
        raise classify(exc, "API discovery") from exc


def server_version(api_client):
    """The server's ``gitVersion`` (``v1.30.2``); for a "Test connection" button."""
    try:
        info = k8s.VersionApi(api_client).get_code()
    except Exception as exc:  # noqa: BLE001
        raise classify(exc, "Connect to the API server") from exc
    return info.git_version


def resource_for(dyn, api_version, kind):
    """The dynamic ``Resource`` of ``kind`` in ``api_version`` (classified errors)."""
    try:
        return dyn.resources.get(api_version=api_version, kind=kind)
    except Exception as exc:  # noqa: BLE001
        raise classify(exc, f"{kind} ({api_version})") from exc


def call(what, func, *args, **kwargs):
    """``func(*args, **kwargs)`` with every failure classified under ``what``."""
    try:
        return func(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001
        err = classify(exc, what)
        if err is exc:  # already classified: keep it as it is
            raise
        raise err from exc


def get_text(api_client, path, query=None, what=None, timeout=None):
    """The body of ``GET path`` (``query``: a dict, None values left out) as text.

    For what the typed and dynamic clients do not read well: the pod log
    subresource (``text/plain``; kubernetes 36's ``read_namespaced_pod_log``
    returns the repr of the bytes, kubernetes-client/python#2596) and plain
    LISTs without discovery.  ``timeout`` (seconds) overrides the client's.
    Failures are classified under ``what`` (default: the path).
    """
    params = [(k, v) for k, v in (query or {}).items() if v is not None]
    response = call(
        what or f"GET {path}",
        api_client.call_api,
        path,
        "GET",
        query_params=params,
        header_params={"Accept": "application/json, */*"},
        auth_settings=["BearerToken"],
        _preload_content=False,
        _return_http_data_only=True,
        _request_timeout=timeout,
    )
    return response.data.decode("utf-8", "replace")


def read_json(response):
    """The JSON body of an unserialised dynamic-client response."""
    return json.loads(response.data)


def get_object(dyn, resource, name, namespace=None):
    """The object as a dict, or None when it does not exist (a 404 is data)."""
    what = describe(resource.kind, name, namespace)
    try:
        return read_json(resource.get(name=name, namespace=namespace, serialize=False))
    except Exception as exc:  # noqa: BLE001
        err = classify(exc, what)
        if err.status == 404 and err.reason == "NotFound":
            return None
        raise err from exc


def describe(kind, name, namespace=None):
    """``Deployment acme/odoo`` or ``Namespace acme``: how messages name objects."""
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


# --- errors -------------------------------------------------------------------


def classify(exc, what):
    """Turn any failure of a Kubernetes call into a :class:`KubeApiError`.

    ``what`` names the operation or object (``Deployment acme/odoo``) and
    starts the message.  Transient: connection refused/reset, timeouts, 408,
    429, 5xx.  Permanent: every other HTTP status (400, 401, 403, 404, 409,
    422), unknown kinds, TLS and configuration problems.
    """
    if isinstance(exc, KubeApiError):
        return exc
    if isinstance(exc, ApiException):
        return _from_api_exception(exc, what)
    if isinstance(exc, (ResourceNotFoundError, ResourceNotUniqueError)):
        return _unknown_kind(exc, what)
    if isinstance(exc, urllib3.exceptions.MaxRetryError):
        return _from_network_error(exc.reason or exc, what)
    if isinstance(exc, (urllib3.exceptions.HTTPError, OSError)):
        return _from_network_error(exc, what)
    if isinstance(exc, ConfigException):
        return KubePermanentError(f"{what}: configuration error: {exc}")
    if isinstance(exc, ValueError) and "should start with https://" in str(exc):
        return KubePermanentError(
            f"{what}: the API server speaks HTTPS; use an https:// URL"
        )
    return KubePermanentError(f"{what}: {type(exc).__name__}: {exc}")


def _status_body(exc):
    """The ``Status`` object of an API error response, or {}."""
    body = exc.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        data = json.loads(body) if body else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _from_api_exception(exc, what):
    status = exc.status or None
    if not status:
        # The REST layer reports TLS failures as an ApiException with status 0.
        detail = str(exc.reason or "").strip().splitlines()
        detail = detail[-1] if detail else "TLS error"
        return KubePermanentError(
            f"{what}: TLS error talking to the API server: {detail}"
        )
    body = _status_body(exc)
    reason = body.get("reason") or None
    message = body.get("message") or exc.reason or f"HTTP {status}"
    details = {}
    retry_after = (exc.headers or {}).get("Retry-After")
    if retry_after and str(retry_after).isdigit():
        details["retry_after"] = int(retry_after)
    causes = (body.get("details") or {}).get("causes")
    if causes:
        details["causes"] = causes
    cls = KubeTransientError if is_transient_status(status) else KubePermanentError
    return cls(f"{what}: {message}", status=status, reason=reason, **details)


def _unknown_kind(exc, what):
    """``ResourceNotFoundError('No matches found for {...}')`` -> permanent error."""
    text = str(exc)
    query = {}
    if "{" in text and "}" in text:
        try:
            query = ast.literal_eval(text[text.index("{") : text.index("}") + 1])
        except (ValueError, SyntaxError):
            query = {}
    kind, api_version = query.get("kind"), query.get("api_version")
    if isinstance(exc, ResourceNotUniqueError):
        message = f"{what}: kind {kind} in apiVersion {api_version} is ambiguous"
    elif kind and api_version:
        message = f"{what}: unknown kind {kind} in apiVersion {api_version}"
    else:
        message = f"{what}: unknown kind"
    return KubePermanentError(message, status=404, reason="UnknownKind")


def _from_network_error(err, what):
    """urllib3/socket errors: unreachable, timed out, reset, or TLS."""
    if isinstance(err, urllib3.exceptions.SSLError):
        return KubePermanentError(f"{what}: TLS error talking to the API server: {err}")
    # NewConnectionError subclasses ConnectTimeoutError: test it first.
    if isinstance(err, (urllib3.exceptions.NewConnectionError, ConnectionRefusedError)):
        return KubeTransientError(f"{what}: cannot reach the API server")
    if isinstance(err, (urllib3.exceptions.TimeoutError, TimeoutError)):
        return KubeTransientError(f"{what}: the API server timed out")
    if isinstance(err, (urllib3.exceptions.ProtocolError, ConnectionError)):
        return KubeTransientError(f"{what}: the connection to the API server was reset")
    return KubeTransientError(
        f"{what}: cannot reach the API server ({type(err).__name__})"
    )
