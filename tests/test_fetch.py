"""Tests of mintcloud.fetch against a stdlib HTTP server on 127.0.0.1."""

import datetime
import hashlib
import http.server
import socket
import struct
import sys
import threading
import time

import pytest
import requests

from mintcloud import fetch
from mintcloud.errors import (
    FetchError,
    PermanentFetchError,
    RenderError,
    TransientFetchError,
)
from mintcloud.fetch import (
    check_template,
    check_yaml,
    fetch_manifest,
    neutralise_jinja,
    preview_documents,
    redact_url,
)

MANIFEST = """\
# a realistic Ansible-style manifest template
apiVersion: apps/v1
kind: Deployment
metadata:
  name: "{{ app_name }}-web"
  labels:
    app: {{ app_name }}
spec:
  replicas: {{ replicas | default(1) }}
{% if with_env %}
  env:
{% for key, value in env.items() %}
    - name: {{ key }}
      value: "{{ value }}"
{% endfor %}
{% endif %}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ app_name }}-config
data:
  odoo.conf: |
{{ odoo_conf | indent(4, true) }}
"""

BROKEN_TEMPLATE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: x
{% if enabled %}
data:
  a: "1"
"""

ETAG = '"v1-abc"'


class Handler(http.server.BaseHTTPRequestHandler):
    """Routes by path; every route is a method ``route_<name>``."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep the test output quiet
        pass

    def do_GET(self):
        self.server.requests.append((self.path, dict(self.headers)))
        name = self.path.split("?")[0].strip("/").replace("-", "_") or "root"
        route = getattr(self, f"route_{name}", None)
        try:
            if route is None:
                self.send_body(b"nope", status=404)
            else:
                route()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as intended by the test

    def send_body(self, body, status=200, content_type="application/yaml", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers:
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def send_chunked(self, chunks, pause=0.0):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for chunk in chunks:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()
            if pause and self.server.stop.wait(pause):
                return
        self.wfile.write(b"0\r\n\r\n")

    def route_manifest(self):
        if self.headers.get("If-None-Match") == ETAG:
            self.send_response(304)
            self.send_header("ETag", ETAG)
            self.end_headers()
            return
        self.send_body(MANIFEST.encode(), headers=[("ETag", ETAG)])

    def route_no_etag(self):
        self.send_body(
            b"\xef\xbb\xbfapiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns\n"
        )

    def route_redirect(self):
        self.send_body(b"", status=302, headers=[("Location", "/manifest")])

    def route_status(self):
        status = int(self.path.split("?")[1].split("&")[0])
        self.send_body(b"error page", status=status, content_type="text/plain")

    def route_slow(self):
        self.server.stop.wait(2)
        self.send_body(MANIFEST.encode())

    def route_slow_body(self):
        # every chunk arrives well within the read timeout, the whole body does not
        self.send_chunked([b"#" * fetch.CHUNK_SIZE] * 4, pause=0.15)

    def route_big_length(self):
        # announces a large body but sends only a little: only an up-front
        # Content-Length check can answer "too large" here
        self.send_response(200)
        self.send_header("Content-Type", "application/yaml")
        self.send_header("Content-Length", "5000")
        self.end_headers()
        self.wfile.write(b"a: 1\n")
        self.close_connection = True

    def route_big_stream(self):
        self.send_chunked([b"# filler line\n" * 100] * 20)

    def route_html(self):
        self.send_body(
            b"<!DOCTYPE html><html><body>Login</body></html>", content_type="text/html"
        )

    def route_html_as_text(self):
        self.send_body(
            b"\n  <html><body>{% not a template %}</body></html>",
            content_type="text/plain",
        )

    def route_binary(self):
        self.send_body(
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", content_type="image/png"
        )

    def route_nul(self):
        self.send_body(
            b"apiVersion: v1\x00\x00kind: x", content_type="application/octet-stream"
        )

    def route_template_error(self):
        self.send_body(BROKEN_TEMPLATE.encode())

    def route_yaml_error(self):
        self.send_body(b"apiVersion: v1\nkind: [ConfigMap\nmetadata: {}\n")

    def route_plain_text(self):
        self.send_body(b"Hello, this is not a manifest.\n", content_type="text/plain")

    def route_empty(self):
        self.send_body(b"  \n")

    def route_reset(self):
        # abort the connection with a TCP RST instead of answering
        self.connection.setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
        )
        self.connection.close()
        self.close_connection = True


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """Collect handler failures; a client hanging up is expected."""
        error = sys.exc_info()[1]
        if not isinstance(error, (ConnectionResetError, BrokenPipeError)):
            self.errors.append(error)


@pytest.fixture(scope="module")
def server():
    httpd = Server(("127.0.0.1", 0), Handler)
    httpd.errors = []
    httpd.requests = []
    httpd.stop = threading.Event()
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    httpd.stop.set()
    httpd.shutdown()
    httpd.server_close()
    assert httpd.errors == []  # the fake server itself must not have failed


def fail(url, **kwargs):
    """The FetchError raised by fetch_manifest(url)."""
    with pytest.raises(FetchError) as info:
        fetch_manifest(url, **kwargs)
    return info.value


# --- successful downloads ------------------------------------------------------


def test_200_returns_content_etag_and_hash(server):
    before = datetime.datetime.now(datetime.timezone.utc)
    result = fetch_manifest(server.url + "/manifest")
    assert result.url == server.url + "/manifest"
    assert result.content == MANIFEST
    assert result.etag == ETAG
    assert result.sha256 == hashlib.sha256(MANIFEST.encode()).hexdigest()
    assert result.not_modified is False
    assert result.fetched_at.tzinfo is datetime.timezone.utc
    assert before <= result.fetched_at <= datetime.datetime.now(datetime.timezone.utc)


def test_etag_sends_if_none_match_and_304_is_not_modified(server):
    result = fetch_manifest(server.url + "/manifest", etag=ETAG)
    assert result.not_modified is True
    assert result.content is None and result.sha256 is None
    assert result.etag == ETAG
    path, headers = server.requests[-1]
    assert path == "/manifest" and headers["If-None-Match"] == ETAG


def test_stale_etag_downloads_again(server):
    result = fetch_manifest(server.url + "/manifest", etag='"old"')
    assert result.not_modified is False and result.content == MANIFEST


def test_utf8_bom_is_accepted_and_hash_covers_raw_bytes(server):
    result = fetch_manifest(server.url + "/no-etag")
    assert result.content.startswith("apiVersion: v1")
    assert result.etag is None
    raw = b"\xef\xbb\xbfapiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns\n"
    assert result.sha256 == hashlib.sha256(raw).hexdigest()


def test_redirect_is_followed(server):
    assert fetch_manifest(server.url + "/redirect").content == MANIFEST


def test_injected_session_is_used_and_not_closed(server):
    class Recording(requests.Session):
        calls = 0
        closed = False

        def get(self, *args, **kwargs):
            self.calls += 1
            return super().get(*args, **kwargs)

        def close(self):
            self.closed = True
            super().close()

    session = Recording()
    fetch_manifest(server.url + "/manifest", session=session)
    assert session.calls == 1 and session.closed is False
    session.close()


# --- HTTP status classification -----------------------------------------------------


@pytest.mark.parametrize(
    "status, cls, reason",
    [
        (404, PermanentFetchError, "not found (HTTP 404)"),
        (401, PermanentFetchError, "access denied (HTTP 401)"),
        (403, PermanentFetchError, "access denied (HTTP 403)"),
        (400, PermanentFetchError, "HTTP 400"),
        (410, PermanentFetchError, "HTTP 410"),
        (408, TransientFetchError, "HTTP 408"),
        (429, TransientFetchError, "HTTP 429"),
        (500, TransientFetchError, "HTTP 500"),
        (503, TransientFetchError, "HTTP 503"),
    ],
)
def test_http_errors_are_classified(server, status, cls, reason):
    error = fail(f"{server.url}/status?{status}")
    assert type(error) is cls
    assert error.reason == reason
    assert error.details["status"] == status
    assert str(error) == f"Cannot fetch manifest {server.url}/status?...: {reason}"


def test_unknown_path_is_404(server):
    error = fail(server.url + "/does-not-exist")
    assert isinstance(error, PermanentFetchError) and not error.transient
    assert error.reason == "not found (HTTP 404)"
    assert server.url + "/does-not-exist" in str(error)


# --- network failures -------------------------------------------------------------------


def test_timeout_is_transient(server):
    started = time.monotonic()
    error = fail(server.url + "/slow", timeout=0.2)
    assert isinstance(error, TransientFetchError) and error.transient
    assert error.reason == "timed out after 0.2 s"
    assert time.monotonic() - started < 1.5


def test_whole_download_is_bounded_by_timeout(server):
    error = fail(server.url + "/slow-body", timeout=0.25)
    assert isinstance(error, TransientFetchError)
    assert error.reason == "timed out after 0.25 s"


def test_connection_refused_is_transient():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # nothing listens on the port any more
    error = fail(f"http://127.0.0.1:{port}/manifest", timeout=2)
    assert isinstance(error, TransientFetchError)
    assert error.reason == "connection refused"


def test_connection_reset_is_transient(server):
    error = fail(server.url + "/reset", timeout=2)
    assert isinstance(error, TransientFetchError)
    assert error.reason == "connection reset"


def test_unresolvable_host_is_transient(monkeypatch):
    real_getaddrinfo = socket.getaddrinfo
    asked = []

    def getaddrinfo(host, *args, **kwargs):
        # answer ".invalid" names locally: no DNS query leaves the machine
        if str(host).endswith(".invalid"):
            asked.append(host)
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    error = fail("https://manifests.mintcloud-test.invalid/app.yml", timeout=2)
    assert asked == ["manifests.mintcloud-test.invalid"]
    assert isinstance(error, TransientFetchError)
    assert error.reason == "cannot resolve host manifests.mintcloud-test.invalid"


# --- bad URLs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.invalid/x.yml",
        "gopher://x/",
        "example.org/x.yml",
        "http://",
        "",
        "javascript:alert(1)",
        "http://[::1/x",
    ],
)
def test_only_http_and_https(url):
    error = fail(url)
    assert isinstance(error, PermanentFetchError)
    assert error.reason == "only http and https URLs are allowed"


def test_credentials_and_query_never_appear_in_messages(server):
    url = (
        server.url.replace("http://", "http://deploy:s3cr3t@")
        + "/status?404&token=t0k3n"
    )
    error = fail(url)
    assert error.reason == "not found (HTTP 404)"
    assert server.requests[-1][1]["Authorization"].startswith("Basic ")
    assert (
        "s3cr3t" not in str(error)
        and "t0k3n" not in str(error)
        and "deploy" not in str(error)
    )
    assert (
        redact_url("https://u:p@h.example/a/b.yml?x=1#frag")
        == "https://h.example/a/b.yml?..."
    )
    assert redact_url("http://[::1") == "<invalid URL>"


# --- body checks ----------------------------------------------------------------------------


def test_too_large_by_content_length(server):
    error = fail(server.url + "/big-length", max_bytes=1000)
    assert isinstance(error, PermanentFetchError)
    assert error.reason == "too large: more than 1000 bytes"


def test_too_large_while_streaming_without_content_length(server):
    error = fail(server.url + "/big-stream", max_bytes=10_000)
    assert isinstance(error, PermanentFetchError)
    assert error.reason == "too large: more than 10000 bytes"
    # the same body is fine under a higher limit: it is 28,000 bytes of comments,
    # so it fails later, as "not YAML (no document found)"
    assert (
        fail(server.url + "/big-stream", max_bytes=50_000).reason
        == "not YAML (no document found)"
    )


@pytest.mark.parametrize("path", ["/html", "/html-as-text"])
def test_html_page_is_not_yaml(server, path):
    error = fail(server.url + path)
    assert isinstance(error, PermanentFetchError)
    assert error.reason == "not YAML: looks like an HTML page"


@pytest.mark.parametrize("path", ["/binary", "/nul"])
def test_binary_body_is_not_utf8(server, path):
    error = fail(server.url + path)
    assert isinstance(error, PermanentFetchError)
    assert error.reason == "not UTF-8 text"


def test_template_syntax_error_names_the_line(server):
    error = fail(server.url + "/template-error")
    assert isinstance(error, PermanentFetchError)
    assert error.reason.startswith("template syntax error (line 5: ")
    assert "endif" in error.reason
    assert error.details["line"] == 5


def test_yaml_error_names_the_line(server):
    error = fail(server.url + "/yaml-error")
    assert isinstance(error, PermanentFetchError)
    assert error.reason.startswith("not YAML (line 3: ")
    assert error.details["line"] == 3


def test_plain_text_and_empty_bodies_are_not_yaml(server):
    assert fail(server.url + "/plain-text").reason == (
        "not YAML (line 1: plain text, expected a mapping such as a Kubernetes object)"
    )
    assert fail(server.url + "/empty").reason == "not YAML (empty body)"


# --- fake session: errors the local server cannot produce ---------------------------------


class RaisingSession:
    def __init__(self, error):
        self.error = error

    def get(self, *args, **kwargs):
        raise self.error


@pytest.mark.parametrize(
    "error, cls, reason",
    [
        (
            requests.exceptions.SSLError("certificate verify failed"),
            PermanentFetchError,
            "TLS error (certificate or protocol)",
        ),
        (
            requests.TooManyRedirects("Exceeded 30 redirects."),
            PermanentFetchError,
            "too many redirects",
        ),
        (
            requests.exceptions.InvalidURL("bad"),
            PermanentFetchError,
            "only http and https URLs are allowed",
        ),
        (
            requests.ConnectionError("[Errno -3] Temporary failure in name resolution"),
            TransientFetchError,
            "cannot resolve host h.example",
        ),
        (
            requests.ConnectionError("Connection aborted: Connection reset by peer"),
            TransientFetchError,
            "connection reset",
        ),
        (
            requests.ConnectionError("Read timed out."),
            TransientFetchError,
            "timed out after 3 s",
        ),
        (
            requests.ConnectionError("something else"),
            TransientFetchError,
            "connection failed",
        ),
        (
            requests.exceptions.ChunkedEncodingError("broken"),
            TransientFetchError,
            "connection failed",
        ),
        (
            requests.RequestException("odd"),
            PermanentFetchError,
            "request failed (RequestException)",
        ),
    ],
)
def test_request_exceptions_are_classified(error, cls, reason):
    with pytest.raises(FetchError) as info:
        fetch_manifest(
            "https://h.example/m.yml", timeout=3, session=RaisingSession(error)
        )
    assert type(info.value) is cls
    assert info.value.reason == reason


# --- template and YAML checks without HTTP --------------------------------------------------


def test_check_template_accepts_ansible_style_templates():
    check_template(MANIFEST, "m.yml")
    check_template(
        "{% set x = [] %}{% do x.append(1) %}{% for i in x %}{% break %}{% endfor %}"
    )
    check_template("a: {{ x | to_nice_yaml | indent(2) }}")  # unknown filters are fine


def test_check_template_raises_render_error_with_line():
    with pytest.raises(RenderError) as info:
        check_template("a: 1\nb: {{ x }\n", "m.yml")
    assert info.value.line == 2
    assert info.value.manifest == "m.yml"
    assert str(info.value).startswith("m.yml, line 2: template syntax error: ")


def test_neutralise_jinja_keeps_lines():
    text = neutralise_jinja(MANIFEST)
    assert len(text.splitlines()) == len(MANIFEST.splitlines())
    lines = text.splitlines()
    assert lines[4] == '  name: "JINJA_EXPR-web"'
    assert lines[9] == ""  # {% if %} line
    assert lines[-1] == "# JINJA_EXPR"  # a line holding only an expression
    assert "{" not in text and "%" not in text
    multi = "a: 1\n{#\ncomment\n#}\nb: {{\n x\n }}\nc: 3"
    assert neutralise_jinja(multi).splitlines()[-1] == "c: 3"
    assert neutralise_jinja("{% raw %}{{ x }}{% endraw %}") == "{{ x }}"


def test_check_yaml():
    check_yaml(MANIFEST)
    check_yaml("- a\n- b\n")
    check_yaml("{{ whole_document }}\n")
    check_yaml("a: !vault |\n  abc\n")  # unknown tags are not resolved
    with pytest.raises(PermanentFetchError) as info:
        check_yaml("# nothing\n", "x.yml")
    assert (
        str(info.value) == "Cannot fetch manifest x.yml: not YAML (no document found)"
    )
    with pytest.raises(PermanentFetchError) as info:
        check_yaml("a: 1\nb: *missing\n")
    assert info.value.details["line"] == 2
    with pytest.raises(PermanentFetchError) as info:
        check_yaml("a: 1\n\x07")
    assert info.value.reason.startswith("not YAML (")


def test_deeply_nested_input_is_a_permanent_error():
    with pytest.raises(RenderError) as info:
        check_template("{{ " + "(" * 400 + "1" + ")" * 400 + " }}", "deep.yml")
    assert str(info.value) == "deep.yml: template syntax error: too deeply nested"
    assert info.value.line is None
    with pytest.raises(PermanentFetchError) as info:
        check_yaml("a: " + "[" * 600 + "]" * 600)
    assert info.value.reason == "not YAML (too deeply nested)"


def test_deeply_nested_template_from_server(monkeypatch):
    class Response:
        status_code = 200
        headers = {}

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def iter_content(self, size):
            yield b"{% if x %}" * 500 + b"{% endif %}" * 500

    class Session:
        def get(self, *args, **kwargs):
            return Response()

    error = fail("https://h.example/deep.yml", session=Session())
    assert isinstance(error, PermanentFetchError)
    assert error.reason == "template syntax error (too deeply nested)"


def test_preview_documents():
    assert preview_documents(MANIFEST) == [
        {"kind": "Deployment", "name": "{{ app_name }}-web", "apiVersion": "apps/v1"},
        {"kind": "ConfigMap", "name": "{{ app_name }}-config", "apiVersion": "v1"},
    ]
    text = (
        "---\n# header only\n---\nkind: Service  # svc\napiVersion: 'v1'\nspec:\n  name: not-this\n"
        "metadata:\n  labels:\n    name: label\n  name: svc\n--- # next\nkind: Secret\n"
    )
    assert preview_documents(text) == [
        {"kind": "Service", "name": "label", "apiVersion": "v1"},
        {"kind": "Secret", "name": None, "apiVersion": None},
    ]
    assert preview_documents("") == []
    assert preview_documents(None) == []


def test_check_url_rejects_other_schemes_without_showing_credentials():
    fetch.check_url("https://example.com/x.yaml")  # fine: no exception
    with pytest.raises(PermanentFetchError) as info:
        fetch.check_url("ftp://user:secret@example.com/x.yaml")
    assert "only http and https URLs are allowed" in str(info.value)
    assert "secret" not in str(info.value)
