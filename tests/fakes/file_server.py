"""A tiny static file server for the tests of manifest downloads.

:class:`FakeFileServer` runs a stdlib ``ThreadingHTTPServer`` on 127.0.0.1
in a thread and answers ``GET`` and ``HEAD`` for the paths a test registers
with :meth:`FakeFileServer.set`: the body, the status, the content type, an
optional ETag (``If-None-Match`` then gets a 304) and an optional delay
before the answer.  Unknown paths answer 404.  Faults are plain settings:

* a slow response: ``set(path, body, delay=2)`` (the delay is cut short when
  the server stops);
* a huge body: ``set(path, b"x" * 2_000_000)``, with ``send_length=False``
  to leave out ``Content-Length`` so the client must count the bytes itself;
* a 404 or 500: ``set(path, "gone", status=404)``;
* HTML instead of YAML: ``set(path, "<html>…", content_type="text/html")``.

Every request is logged in :attr:`FakeFileServer.requests` as a dict
``{"method", "path", "headers"}`` (headers as a plain dict).  The server
holds no secrets and uses only the standard library, so both the plain
suite and the Odoo tests can use it.
"""

import threading
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from tests.fakes.threaded import ThreadedHttpFake

DEFAULT_CONTENT_TYPE = "application/yaml; charset=utf-8"


class FakeFileServer(ThreadedHttpFake):
    """Serve registered paths on ``http://127.0.0.1:<port>`` (see module doc)."""

    thread_name = "fake-file-server"

    def __init__(self, host="127.0.0.1", port=0):
        super().__init__(host, port)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._files = {}
        self.requests = []

    # --- lifecycle -----------------------------------------------------------

    def start(self):
        self._stopping.clear()
        return super().start()

    def _before_stop(self):
        self._stopping.set()  # pending delayed answers are cut short

    # --- configuration ---------------------------------------------------------

    def set(
        self,
        path,
        body,
        status=200,
        content_type=DEFAULT_CONTENT_TYPE,
        etag=None,
        delay=0,
        send_length=True,
    ):
        """Serve ``body`` (str or bytes) at ``path``; returns the full URL.

        ``etag`` is sent as the ``ETag`` header (give it quoted, as servers
        do); a request whose ``If-None-Match`` names it gets 304 without a
        body.  ``delay`` seconds pass before the status line is sent.
        ``send_length=False`` leaves out ``Content-Length`` and closes the
        connection after the body.
        """
        if not path.startswith("/"):
            path = "/" + path
        if isinstance(body, str):
            body = body.encode("utf-8")
        with self._lock:
            self._files[path] = {
                "body": body,
                "status": status,
                "content_type": content_type,
                "etag": etag,
                "delay": delay,
                "send_length": send_length,
            }
        return self.url + path if self._httpd else path

    def remove(self, path):
        """Forget ``path`` (it answers 404 again)."""
        with self._lock:
            self._files.pop(path, None)

    def reset(self):
        """Forget every path and the request log."""
        with self._lock:
            self._files.clear()
            self.requests.clear()

    def reset_requests(self):
        with self._lock:
            self.requests.clear()

    def requests_for(self, path):
        """The logged requests whose path (without query string) is ``path``."""
        with self._lock:
            return [r for r in self.requests if urlsplit(r["path"]).path == path]

    # --- request handling -------------------------------------------------------

    def _answer(self, method, raw_path, headers):
        """``(spec or None)`` for the request, after logging it."""
        with self._lock:
            self.requests.append(
                {"method": method, "path": raw_path, "headers": dict(headers)}
            )
            return self._files.get(urlsplit(raw_path).path)


class _Handler(BaseHTTPRequestHandler):
    fake = None  # set on the subclass made by FakeFileServer.start
    protocol_version = "HTTP/1.1"
    server_version = "FakeFileServer/1"

    def do_GET(self):
        self._serve(send_body=True)

    def do_HEAD(self):
        self._serve(send_body=False)

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        """Keep test output clean."""

    def _serve(self, send_body):
        spec = self.fake._answer(self.command, self.path, self.headers)
        if spec is None:
            self._send(404, b"Not found\n", "text/plain", None, True, send_body)
            return
        if spec["delay"] and self.fake._stopping.wait(spec["delay"]):
            self.close_connection = True
            return
        etag = spec["etag"]
        if etag and _etag_matches(self.headers.get("If-None-Match"), etag):
            self._send(304, b"", None, etag, True, send_body=False)
            return
        self._send(
            spec["status"],
            spec["body"],
            spec["content_type"],
            etag,
            spec["send_length"],
            send_body,
        )

    def _send(self, status, body, content_type, etag, send_length, send_body):
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        if etag:
            self.send_header("ETag", etag)
        if status == 304:
            pass  # no body, and the client knows it
        elif send_length:
            self.send_header("Content-Length", str(len(body)))
        else:
            self.close_connection = True
            self.send_header("Connection", "close")
        self.end_headers()
        if send_body and body:
            self.wfile.write(body)


def _etag_matches(header, etag):
    """True when an ``If-None-Match`` header names ``etag`` (or is ``*``)."""
    if not header:
        return False
    tags = [tag.strip() for tag in header.split(",")]
    weakless = [tag[2:] if tag.startswith("W/") else tag for tag in tags]
    return "*" in tags or etag in tags or etag in weakless


FakeFileServer.handler_class = _Handler
