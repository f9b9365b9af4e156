"""The client seam: building clients without leaking secrets, and classifying errors."""

import base64
import json
import logging
import os
import threading

import pytest
import urllib3
import yaml
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException
from kubernetes.config.config_exception import ConfigException
from kubernetes.dynamic.exceptions import ResourceNotFoundError, ResourceNotUniqueError

from mintcloud import kube
from mintcloud.errors import KubeApiError, KubePermanentError, KubeTransientError
from mintcloud.kube import (
    DEFAULT_TIMEOUT,
    api_client,
    classify,
    dynamic_client,
    get_object,
    resource_for,
    server_version,
)
from tests.fakes.kube_api import FakeKubeServer

TOKEN = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2Vu.sig"


def kubeconfig(server, token=TOKEN, other_server="http://127.0.0.1:9"):
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": "fake", "cluster": {"server": server}},
                {"name": "other", "cluster": {"server": other_server}},
            ],
            "users": [{"name": "admin", "user": {"token": token}}],
            "contexts": [
                {"name": "fake", "context": {"cluster": "fake", "user": "admin"}},
                {"name": "other", "context": {"cluster": "other", "user": "admin"}},
            ],
            "current-context": "fake",
        }
    )


# --- api_client ---------------------------------------------------------------


def test_host_and_token(kube_api):
    client = api_client(host=kube_api.url + "/", token=TOKEN, verify_ssl=False)
    config = client.configuration
    assert config.host == kube_api.url
    assert config.verify_ssl is False
    assert config.auth_settings()["BearerToken"]["value"] == f"Bearer {TOKEN}"
    assert isinstance(client, k8s.ApiClient)
    assert client.request_timeout == DEFAULT_TIMEOUT
    assert server_version(client) == "v1.29.0"


def test_kubeconfig_text_loads_into_a_fresh_configuration(kube_api):
    default_before = k8s.Configuration.get_default_copy()
    client = api_client(kubeconfig=kubeconfig(kube_api.url))

    assert client.configuration.host == kube_api.url
    assert client.configuration.api_key["BearerToken"].endswith(TOKEN)
    assert server_version(client) == "v1.29.0"
    default_after = k8s.Configuration.get_default_copy()
    assert default_after.host == default_before.host
    assert default_after.api_key == default_before.api_key


def test_kubeconfig_context_picks_the_cluster(kube_api):
    client = api_client(kubeconfig=kubeconfig(kube_api.url), context="other")
    assert client.configuration.host == "http://127.0.0.1:9"
    with pytest.raises(KubePermanentError, match="kubeconfig is not usable") as info:
        api_client(kubeconfig=kubeconfig(kube_api.url), context="missing")
    assert TOKEN not in str(info.value)


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            f"users: [{{name: admin, user: {{token: {TOKEN}}}]\n  bad: [",
            r"not valid YAML \(line \d+\)",
        ),
        (f"- {TOKEN}\n", "not a YAML mapping"),
        (f"users:\n- name: admin\n  user: {{token: {TOKEN}}}\n", "not usable"),
    ],
    ids=["broken-yaml", "a-list", "no-context"],
)
def test_bad_kubeconfig_is_permanent_and_never_quoted(text, expected):
    with pytest.raises(KubePermanentError, match=expected) as info:
        api_client(kubeconfig=text)
    assert TOKEN not in str(info.value)
    assert "eyJ" not in str(info.value)


def test_kubeconfig_with_broken_certificate_data_names_only_the_error_type():
    data = yaml.safe_load(kubeconfig("https://127.0.0.1:6443"))
    # 41 base64 characters: "Incorrect padding" when the loader decodes it.
    data["users"][0]["user"] = {
        "client-certificate-data": "x" + TOKEN + "x",
        "client-key-data": "x" + TOKEN + "x",
    }
    with pytest.raises(KubePermanentError) as info:
        api_client(kubeconfig=yaml.safe_dump(data))
    assert str(info.value).startswith("The kubeconfig is not usable")
    assert TOKEN not in str(info.value)


def test_in_cluster_reads_the_service_account(tmp_path, monkeypatch):
    token_file, ca_file = tmp_path / "token", tmp_path / "ca.crt"
    token_file.write_text(TOKEN)
    ca_file.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    monkeypatch.setattr(kube, "TOKEN_FILE", str(token_file))
    monkeypatch.setattr(kube, "CA_FILE", str(ca_file))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")

    config = api_client(in_cluster=True).configuration

    assert config.host == "https://10.96.0.1:443"
    assert config.ssl_ca_cert == str(ca_file)
    assert config.auth_settings()["BearerToken"]["value"].endswith(TOKEN)
    assert k8s.Configuration.get_default_copy().host != config.host


def test_in_cluster_outside_a_pod_is_permanent(monkeypatch, tmp_path):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(
        KubePermanentError, match="in-cluster configuration is not usable: Service host"
    ):
        api_client(in_cluster=True)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    token_file = tmp_path / "token"
    token_file.write_bytes(b"\xff\xfe" + TOKEN.encode())  # not UTF-8: cannot be read
    monkeypatch.setattr(kube, "TOKEN_FILE", str(token_file))
    with pytest.raises(KubePermanentError) as info:
        api_client(in_cluster=True)
    assert (
        str(info.value)
        == "The in-cluster configuration is not usable (UnicodeDecodeError)"
    )


def test_call_keeps_an_already_classified_error():
    err = KubeTransientError("list Job: busy", status=503)

    def fail():
        raise err

    with pytest.raises(KubeTransientError) as info:
        kube.call("other words", fail)
    assert info.value is err and info.value.__cause__ is None


def test_no_source_is_permanent():
    with pytest.raises(KubePermanentError, match="No Kubernetes connection configured"):
        api_client()


# --- requests through the seam ------------------------------------------------


def test_default_timeout_applies_to_every_request(kube_api):
    client = api_client(host=kube_api.url, timeout=0.2)
    # GET is retried by urllib3 after a read timeout: make all four attempts slow.
    kube_api.inject_fault("slow", times=4, path_contains="/version", delay=0.5)
    with pytest.raises(
        KubeTransientError, match="Connect to the API server: the API server timed out"
    ):
        server_version(client)


def test_unreachable_server_is_transient():
    with pytest.raises(KubeTransientError, match="cannot reach the API server"):
        server_version(api_client(host="http://127.0.0.1:9", timeout=1))
    with pytest.raises(KubeTransientError, match="API discovery: cannot reach"):
        dynamic_client(api_client(host="http://127.0.0.1:9", timeout=1))


def test_server_error_is_transient_with_status(kube_api):
    kube_api.inject_fault(503, path_contains="/version")
    with pytest.raises(KubeTransientError) as info:
        server_version(api_client(host=kube_api.url))
    assert info.value.status == 503 and info.value.reason == "ServiceUnavailable"


def test_discovery_cache_is_private_and_keyed_by_host(kube_api):
    second = FakeKubeServer().start()
    try:
        dyn_a = dynamic_client(api_client(host=kube_api.url))
        dyn_b = dynamic_client(api_client(host=second.url))
        assert dyn_b.resources.get(api_version="apps/v1", kind="Deployment").namespaced
    finally:
        second.stop()
    file_a = dyn_a.resources._Discoverer__cache_file
    file_b = dyn_b.resources._Discoverer__cache_file
    assert file_a != file_b
    assert os.path.dirname(file_a) == os.path.dirname(file_b) == kube._discovery_dir
    assert os.path.basename(kube._discovery_dir).startswith("mintcloud-discovery-")
    assert os.path.isfile(file_a) and os.path.isfile(file_b)


def test_discovery_cache_is_private_to_a_thread(kube_api, caplog):
    """Two deployments in threads of one Odoo never share a cache file.

    Shared, one thread truncates and rewrites the file while the other reads
    it, and the kubernetes client logs "load cache error" (seen in a served
    Odoo running two deployment jobs at once).
    """
    files, barrier = [], threading.Barrier(4)

    def discover():
        barrier.wait()
        for _ in range(5):
            dyn = dynamic_client(api_client(host=kube_api.url))
            files.append((threading.get_ident(), dyn.resources._Discoverer__cache_file))

    threads = [threading.Thread(target=discover) for _ in range(4)]
    with caplog.at_level(logging.ERROR):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    by_thread = {}
    for ident, path in files:
        by_thread.setdefault(ident, set()).add(path)
    assert len(by_thread) == 4 and all(len(p) == 1 for p in by_thread.values())
    assert len({path for paths in by_thread.values() for path in paths}) == 4
    assert "load cache error" not in caplog.text


def test_resource_for_and_get_object(kube_api, kube_client):
    dyn = dynamic_client(kube_client)
    configmaps = resource_for(dyn, "v1", "ConfigMap")
    assert get_object(dyn, configmaps, "missing", "default") is None
    configmaps.create(body={"metadata": {"name": "here"}}, namespace="default")
    assert get_object(dyn, configmaps, "here", "default")["metadata"]["name"] == "here"
    with pytest.raises(
        KubePermanentError, match="unknown kind Widget in apiVersion example.com/v1"
    ):
        resource_for(dyn, "example.com/v1", "Widget")
    kube_api.inject_fault(500, path_contains="/configmaps/here")
    with pytest.raises(
        KubeTransientError, match="ConfigMap default/here: Internal error"
    ):
        get_object(dyn, configmaps, "here", "default")


# --- classify -----------------------------------------------------------------


def api_error(status, reason=None, message=None, headers=None, body=None):
    exc = ApiException(status=status, reason="HTTP reason")
    if body is None and reason:
        body = json.dumps(
            {
                "kind": "Status",
                "apiVersion": "v1",
                "status": "Failure",
                "message": message,
                "reason": reason,
                "code": status,
                "details": {"causes": [{"field": "spec"}]},
            }
        )
    exc.body = body
    exc.headers = headers
    return exc


@pytest.mark.parametrize(
    "status, reason",
    [
        (400, "BadRequest"),
        (401, "Unauthorized"),
        (403, "Forbidden"),
        (404, "NotFound"),
        (409, "Conflict"),
        (422, "Invalid"),
    ],
)
def test_client_errors_are_permanent(status, reason):
    err = classify(
        api_error(status, reason, f"the {reason} message"), "Deployment acme/odoo"
    )
    assert isinstance(err, KubePermanentError)
    assert (err.status, err.reason) == (status, reason)
    assert str(err) == f"Deployment acme/odoo: the {reason} message"
    assert err.details["causes"] == [{"field": "spec"}]


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_server_errors_are_transient(status):
    err = classify(
        api_error(status, "X", "busy", headers={"Retry-After": "7"}), "list Job"
    )
    assert isinstance(err, KubeTransientError) and err.transient
    assert err.status == status and err.details["retry_after"] == 7


def test_error_without_status_body_uses_the_http_reason():
    err = classify(
        api_error(502, body=b"<html>bad gateway</html>"), "Ingress acme/odoo"
    )
    assert isinstance(err, KubeTransientError)
    assert str(err) == "Ingress acme/odoo: HTTP reason" and err.reason is None
    assert str(classify(api_error(418, body=b"[1]"), "x")) == "x: HTTP reason"


def test_tls_failure_reported_by_the_rest_layer_is_permanent():
    exc = ApiException(
        status=0, reason="SSLError\n[SSL: CERTIFICATE_VERIFY_FAILED] self-signed"
    )
    err = classify(exc, "Connect")
    assert isinstance(err, KubePermanentError)
    assert (
        str(err) == "Connect: TLS error talking to the API server: "
        "[SSL: CERTIFICATE_VERIFY_FAILED] self-signed"
    )


def test_dynamic_client_errors_keep_the_api_message(kube_api, kube_client):
    dyn = dynamic_client(kube_client)
    resource = dyn.resources.get(api_version="v1", kind="ConfigMap")
    with pytest.raises(Exception) as info:
        resource.get(name="nope", namespace="default")
    err = classify(info.value, "ConfigMap default/nope")
    assert isinstance(err, KubePermanentError)
    assert (err.status, err.reason) == (404, "NotFound")
    assert str(err) == 'ConfigMap default/nope: configmaps "nope" not found'


@pytest.mark.parametrize(
    "exc, cls, text",
    [
        (
            urllib3.exceptions.MaxRetryError(
                None,
                "/version",
                urllib3.exceptions.NewConnectionError(
                    None,
                    "Failed to establish a new connection: [Errno 111] refused",
                ),
            ),
            KubeTransientError,
            "cannot reach the API server",
        ),
        (
            urllib3.exceptions.ReadTimeoutError(None, "/apis", "Read timed out."),
            KubeTransientError,
            "the API server timed out",
        ),
        (
            urllib3.exceptions.MaxRetryError(
                None, "/", urllib3.exceptions.ConnectTimeoutError()
            ),
            KubeTransientError,
            "the API server timed out",
        ),
        (
            urllib3.exceptions.ProtocolError(
                "Connection aborted.", ConnectionResetError(104, "reset")
            ),
            KubeTransientError,
            "the connection to the API server was reset",
        ),
        (
            ConnectionResetError(104, "Connection reset by peer"),
            KubeTransientError,
            "the connection to the API server was reset",
        ),
        (
            ConnectionRefusedError(111, "refused"),
            KubeTransientError,
            "cannot reach the API server",
        ),
        (
            urllib3.exceptions.MaxRetryError(None, "/", None),
            KubeTransientError,
            "cannot reach the API server (MaxRetryError)",
        ),
        (
            urllib3.exceptions.SSLError("certificate verify failed"),
            KubePermanentError,
            "TLS error talking to the API server: certificate verify failed",
        ),
        (
            ResourceNotFoundError(
                "No matches found for "
                "{'api_version': 'example.com/v1', 'kind': 'Widget'}"
            ),
            KubePermanentError,
            "unknown kind Widget in apiVersion example.com/v1",
        ),
        (ResourceNotFoundError("No matches found"), KubePermanentError, "unknown kind"),
        (
            ResourceNotFoundError("No matches found for {broken}"),
            KubePermanentError,
            "unknown kind",
        ),
        (
            ResourceNotUniqueError(
                "Multiple matches found for "
                "{'api_version': 'v1', 'kind': 'Event'}: [...]"
            ),
            KubePermanentError,
            "kind Event in apiVersion v1 is ambiguous",
        ),
        (
            ConfigException("Invalid kube-config file."),
            KubePermanentError,
            "configuration error: Invalid kube-config file.",
        ),
        (
            ValueError(
                "Host value http://x should start with https:// "
                "when talking to HTTPS endpoint"
            ),
            KubePermanentError,
            "the API server speaks HTTPS; use an https:// URL",
        ),
        (RuntimeError("surprise"), KubePermanentError, "RuntimeError: surprise"),
    ],
)
def test_classify_non_http_failures(exc, cls, text):
    err = classify(exc, "Deployment acme/odoo")
    assert type(err) is cls
    assert str(err) == f"Deployment acme/odoo: {text}"


def test_classified_errors_pass_through_unchanged():
    err = KubeTransientError("already classified", status=503)
    assert classify(err, "whatever") is err
    assert isinstance(classify(RuntimeError("x"), "y"), KubeApiError)


def test_token_is_never_in_a_transport_error_message(kube_api):
    client = api_client(host="http://127.0.0.1:9", token=TOKEN, timeout=1)
    with pytest.raises(KubeTransientError) as info:
        server_version(client)
    assert TOKEN not in str(info.value) and "Bearer" not in str(info.value)
    assert base64.b64encode(TOKEN.encode()).decode() not in str(info.value)
