"""The fake file server answers like a static web server, faults included."""

import socket
import time

import pytest
import requests

from mintcloud.errors import PermanentFetchError, TransientFetchError
from mintcloud.fetch import fetch_manifest
from tests.fakes.file_server import FakeFileServer

YAML = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\n"


@pytest.fixture(scope="module")
def server():
    with FakeFileServer() as fake:
        yield fake


@pytest.fixture
def files(server):
    server.reset()
    return server


def test_serves_body_status_type_and_etag(files):
    url = files.set("/a.yaml", YAML, etag='"v1"')
    response = requests.get(url, timeout=5)
    assert response.status_code == 200
    assert response.text == YAML
    assert response.headers["Content-Type"].startswith("application/yaml")
    assert response.headers["ETag"] == '"v1"'
    assert response.headers["Content-Length"] == str(len(YAML))


def test_path_without_leading_slash_and_query_string(files):
    files.set("b.yaml", YAML)
    response = requests.get(files.url + "/b.yaml?token=x", timeout=5)
    assert response.status_code == 200
    assert files.requests_for("/b.yaml")[0]["path"] == "/b.yaml?token=x"


def test_unknown_path_is_404_and_removed_path_too(files):
    assert requests.get(files.url + "/nope.yaml", timeout=5).status_code == 404
    url = files.set("/c.yaml", YAML)
    files.remove("/c.yaml")
    assert requests.get(url, timeout=5).status_code == 404


def test_configured_status(files):
    url = files.set("/gone.yaml", "gone", status=404, content_type="text/plain")
    response = requests.get(url, timeout=5)
    assert (response.status_code, response.text) == (404, "gone")
    url = files.set("/boom.yaml", "boom", status=503)
    assert requests.get(url, timeout=5).status_code == 503


def test_if_none_match_gives_304_without_body(files):
    url = files.set("/a.yaml", YAML, etag='"v1"')
    response = requests.get(url, headers={"If-None-Match": '"v1"'}, timeout=5)
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["ETag"] == '"v1"'
    for header in ('W/"v1"', '"v0", "v1"', "*"):
        again = requests.get(url, headers={"If-None-Match": header}, timeout=5)
        assert again.status_code == 304, header
    other = requests.get(url, headers={"If-None-Match": '"v0"'}, timeout=5)
    assert other.status_code == 200


def test_request_log_records_method_path_and_headers(files):
    url = files.set("/a.yaml", YAML)
    requests.get(url, headers={"If-None-Match": '"x"'}, timeout=5)
    requests.head(url, timeout=5)
    log = files.requests_for("/a.yaml")
    assert [r["method"] for r in log] == ["GET", "HEAD"]
    assert log[0]["headers"]["If-None-Match"] == '"x"'
    files.reset_requests()
    assert files.requests == []


def test_head_sends_length_but_no_body(files):
    url = files.set("/a.yaml", YAML)
    response = requests.head(url, timeout=5)
    assert response.headers["Content-Length"] == str(len(YAML))
    assert response.content == b""


def test_slow_response_times_out_the_client(files):
    url = files.set("/slow.yaml", YAML, delay=2)
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        requests.get(url, timeout=0.2)
    assert time.monotonic() - started < 1.5


def test_huge_body_without_length_is_streamed_until_close(files):
    body = b"a: b\n" * 300_000
    url = files.set("/huge.yaml", body, send_length=False)
    response = requests.get(url, timeout=5)
    assert "Content-Length" not in response.headers
    assert len(response.content) == len(body)


def test_bytes_and_html(files):
    url = files.set(
        "/page", "<html><body>Login</body></html>", content_type="text/html"
    )
    response = requests.get(url, timeout=5)
    assert response.headers["Content-Type"] == "text/html"
    assert response.text.startswith("<html>")


def test_fetch_manifest_against_the_fake(files):
    """The core fetcher sees each fault as the right error class."""
    url = files.set("/ok.yaml", YAML, etag='"v1"')
    result = fetch_manifest(url)
    assert (result.content, result.etag) == (YAML, '"v1"')
    assert fetch_manifest(url, etag='"v1"').not_modified
    with pytest.raises(PermanentFetchError, match="not found"):
        fetch_manifest(files.url + "/missing.yaml")
    with pytest.raises(TransientFetchError, match="timed out"):
        fetch_manifest(files.set("/slow.yaml", YAML, delay=2), timeout=0.2)
    with pytest.raises(PermanentFetchError, match="too large"):
        fetch_manifest(files.set("/big.yaml", b"a: b\n" * 1000), max_bytes=100)
    with pytest.raises(PermanentFetchError, match="too large"):
        big = files.set("/big2.yaml", b"a: b\n" * 30_000, send_length=False)
        fetch_manifest(big, max_bytes=100_000)
    with pytest.raises(PermanentFetchError, match="HTML"):
        fetch_manifest(files.set("/page", "<html></html>", content_type="text/html"))


def test_stop_cuts_a_delayed_answer_short_and_restart_works():
    fake = FakeFileServer().start()
    fake.set("/slow.yaml", YAML, delay=30)
    port = int(fake.url.rsplit(":", 1)[1])
    sock = socket.create_connection((fake.host, port), timeout=2)
    sock.sendall(b"GET /slow.yaml HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.1)
    started = time.monotonic()
    fake.stop()
    assert sock.recv(100) == b""  # closed without an answer
    assert time.monotonic() - started < 2
    sock.close()
    fake.stop()  # idempotent
    with pytest.raises(RuntimeError):
        fake.url  # noqa: B018
    fake.start()
    fake.start()  # idempotent
    try:
        fake.set("/fast.yaml", YAML)
        assert requests.get(fake.url + "/fast.yaml", timeout=5).text == YAML
    finally:
        fake.stop()


def test_set_before_start_returns_the_path():
    fake = FakeFileServer()
    assert fake.set("x.yaml", YAML) == "/x.yaml"
