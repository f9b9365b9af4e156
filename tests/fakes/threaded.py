"""Lifecycle shared by the fakes that run a stdlib HTTP server in a thread."""

import threading
from http.server import ThreadingHTTPServer


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """Stay quiet when a client gives up (timeouts are what tests provoke)."""


class ThreadedHttpFake:
    """Start/stop a ``ThreadingHTTPServer`` on 127.0.0.1 in a daemon thread.

    A subclass sets :attr:`handler_class` (a ``BaseHTTPRequestHandler`` whose
    instances reach the fake as ``self.fake``) and may override
    :meth:`_before_stop`.  Port 0 picks a free port.
    """

    handler_class = None
    server_class = QuietServer
    thread_name = "fake-http"

    def __init__(self, host="127.0.0.1", port=0):
        self.host = host
        self._port = port
        self._httpd = None
        self._thread = None

    @property
    def url(self):
        """Base URL without a trailing slash, e.g. ``http://127.0.0.1:41234``."""
        if self._httpd is None:
            raise RuntimeError(f"{type(self).__name__} is not running")
        return f"http://{self.host}:{self._httpd.server_address[1]}"

    @property
    def port(self):
        return self._httpd.server_address[1] if self._httpd else None

    @property
    def running(self):
        return self._httpd is not None

    def start(self):
        """Start serving (no-op when running); returns ``self``."""
        if self._httpd is not None:
            return self
        handler = type("Handler", (self.handler_class,), {"fake": self})
        self._httpd = self.server_class((self.host, self._port), handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=self.thread_name,
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self):
        if self._httpd is None:
            return
        self._before_stop()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def _before_stop(self):
        """Hook: e.g. cut pending delayed answers short."""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()
