"""A small HTTP client for a served Odoo: JSON-RPC as the web client sends it,
and plain page requests as a visitor's browser makes them."""

import itertools
import re
import time

import requests

CSRF = re.compile(r'name="csrf_token"\s+value="([^"]+)"')


class RpcError(AssertionError):
    """Odoo answered a JSON-RPC call with an error."""


class OdooSession:
    """One browser session (cookies) against ``url``."""

    _ids = itertools.count(1)

    def __init__(self, url):
        self.url = url.rstrip("/")
        self.http = requests.Session()

    # --- pages -------------------------------------------------------------

    def get(self, path, **kwargs):
        response = self.http.get(self.url + path, timeout=60, **kwargs)
        response.raise_for_status()
        return response

    def post(self, path, data, **kwargs):
        response = self.http.post(self.url + path, data=data, timeout=60, **kwargs)
        response.raise_for_status()
        return response

    @staticmethod
    def csrf(html):
        match = CSRF.search(html)
        assert match, "no csrf_token in the page"
        return match.group(1)

    # --- JSON-RPC ----------------------------------------------------------

    def jsonrpc(self, path, params=None):
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": params or {},
            "id": next(self._ids),
        }
        response = self.http.post(self.url + path, json=payload, timeout=120)
        response.raise_for_status()
        body = response.json()
        if body.get("error"):
            data = body["error"].get("data") or {}
            raise RpcError(f"{path}: {data.get('message') or body['error']}")
        return body.get("result")

    def login(self, database, login, password):
        result = self.jsonrpc(
            "/web/session/authenticate",
            {"db": database, "login": login, "password": password},
        )
        assert result and result.get("uid"), f"login {login!r} failed"
        return result["uid"]

    def call(self, model, method, *args, **kwargs):
        """What the web client sends for an ORM call."""
        return self.jsonrpc(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )

    def click(self, model, method, ids):
        """What the web client sends when a form button of type object is clicked."""
        return self.jsonrpc(
            "/web/dataset/call_button",
            {
                "model": model,
                "method": method,
                "args": [ids],
                "kwargs": {"context": {}},
            },
        )

    def xmlid(self, xmlid):
        module, name = xmlid.split(".")
        rows = self.call(
            "ir.model.data",
            "search_read",
            [("module", "=", module), ("name", "=", name)],
            fields=["res_id"],
        )
        assert rows, f"no record {xmlid}"
        return rows[0]["res_id"]


def wait_for(probe, timeout, what, interval=0.5, describe=None):
    """Call ``probe`` until it returns something truthy; fail after ``timeout`` s.

    The failure says what was seen last: ``describe()`` when given.
    """
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    seen = describe() if describe else last
    raise AssertionError(f"{what}: not reached within {timeout:.0f} s (seen: {seen!r})")
