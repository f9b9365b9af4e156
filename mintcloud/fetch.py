"""Download a manifest template over HTTP(S) and check that it is usable.

Manifests are Jinja2 templates of multi-document YAML.  :func:`fetch_manifest`
downloads one (with ``If-None-Match`` when an ETag is known), limits its size,
checks that it is UTF-8 text, that it is a syntactically valid Jinja2
template (:func:`check_template`) and that, with the Jinja2 syntax
neutralised, it is YAML made of mappings (:func:`check_yaml`).  It does not
render anything.

Every failure is a :class:`~mintcloud.errors.FetchError` whose message names
the URL (without user info or query string) and the reason;
:class:`~mintcloud.errors.TransientFetchError` for DNS failures, refused or
reset connections, timeouts, 408/429/5xx, and
:class:`~mintcloud.errors.PermanentFetchError` for everything a retry cannot
fix.
"""

import dataclasses
import datetime
import hashlib
import re
import socket
import time
import urllib.parse

import jinja2
import requests
import yaml

from mintcloud.errors import (
    PermanentFetchError,
    RenderError,
    TransientFetchError,
    is_transient_status,
)

DEFAULT_TIMEOUT = 10
DEFAULT_MAX_BYTES = 1_048_576
CHUNK_SIZE = 65_536
ACCEPT = "application/yaml, text/yaml, text/x-yaml, text/plain;q=0.9, */*;q=0.5"

# Jinja2 extensions Ansible templates commonly rely on; parsing without them
# would report "{% do %}" or "{% break %}" as syntax errors.
JINJA_EXTENSIONS = ("jinja2.ext.do", "jinja2.ext.loopcontrols")

# Stand-in for a "{{ ... }}" expression while checking the YAML structure.
EXPRESSION_PLACEHOLDER = "JINJA_EXPR"
_MARK = "\ue000"  # private-use character, marks an expression during rewriting


@dataclasses.dataclass(frozen=True)
class FetchResult:
    """Outcome of :func:`fetch_manifest`.

    ``content`` and ``sha256`` are None when the server answered 304 Not
    Modified; ``etag`` is then the ETag that was sent (or the new one).
    """

    url: str
    content: str | None
    etag: str | None
    sha256: str | None
    not_modified: bool
    fetched_at: datetime.datetime


# --- public API --------------------------------------------------------------


def fetch_manifest(
    url,
    etag=None,
    timeout=DEFAULT_TIMEOUT,
    max_bytes=DEFAULT_MAX_BYTES,
    session=None,
):
    """Download the manifest template at ``url`` and check it.

    ``timeout`` (a number of seconds) bounds the connection and every read;
    the whole download is also checked against it after each 64 KiB chunk.
    ``max_bytes`` bounds the (decoded) body.  ``session`` is a
    :class:`requests.Session` (the client seam; a new one is used and closed
    when None).  ``FetchResult.url`` is ``url`` as given; messages use
    :func:`redact_url`.
    """
    safe_url = redact_url(url)
    check_url(url, safe_url)
    own_session = session is None
    session = session or requests.Session()
    headers = {"Accept": ACCEPT}
    if etag:
        headers["If-None-Match"] = etag
    try:
        body, response = _download(session, url, safe_url, headers, timeout, max_bytes)
    finally:
        if own_session:
            session.close()
    fetched_at = datetime.datetime.now(datetime.timezone.utc)
    if body is None:
        return FetchResult(
            url=url,
            content=None,
            etag=response.headers.get("ETag") or etag,
            sha256=None,
            not_modified=True,
            fetched_at=fetched_at,
        )
    text = _decode(body, safe_url)
    _check_body(text, response.headers.get("Content-Type", ""), safe_url)
    return FetchResult(
        url=url,
        content=text,
        etag=response.headers.get("ETag"),
        sha256=hashlib.sha256(body).hexdigest(),
        not_modified=False,
        fetched_at=fetched_at,
    )


def redact_url(url):
    """``url`` without user info and with the query string elided.

    Used in every message so that credentials or tokens in a URL never end
    up in a log line or an error shown to a user.
    """
    try:
        parts = urllib.parse.urlsplit(str(url))
    except ValueError:
        return "<invalid URL>"
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = "..." if parts.query else ""
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def jinja_environment():
    """A Jinja2 environment for syntax checks (Ansible's usual extensions)."""
    return jinja2.Environment(extensions=list(JINJA_EXTENSIONS))


def check_template(text, name="<template>"):
    """Raise :class:`RenderError` (with the line) unless ``text`` parses as Jinja2.

    Only the syntax is checked: unknown filters, tests and undefined
    variables are the renderer's business.
    """
    problem = _template_syntax_error(text, name)
    if problem:
        line, message = problem
        raise RenderError(f"template syntax error: {message}", manifest=name, line=line)


def check_yaml(text, name="<template>"):
    """Raise :class:`PermanentFetchError` unless ``text`` looks like YAML objects.

    The Jinja2 syntax is neutralised first (:func:`neutralise_jinja`), so this
    only flags bodies that are clearly not a YAML template: a YAML syntax
    error, a document that is plain text instead of a mapping or a list, or
    no document at all.  ``text`` must be a valid template.
    """
    yaml_text = neutralise_jinja(text)
    try:
        documents = list(yaml.compose_all(yaml_text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        problem = error.problem or error.context or "invalid YAML"
        raise PermanentFetchError(
            name, f"not YAML (line {line}: {problem})", line=line
        ) from None
    except yaml.YAMLError as error:  # e.g. a reader error without a mark
        raise PermanentFetchError(name, f"not YAML ({type(error).__name__})") from None
    except RecursionError:
        raise PermanentFetchError(name, "not YAML (too deeply nested)") from None
    for node in documents:
        if (
            isinstance(node, yaml.ScalarNode)
            and EXPRESSION_PLACEHOLDER not in node.value
        ):
            line = node.start_mark.line + 1
            raise PermanentFetchError(
                name,
                f"not YAML (line {line}: plain text, expected a mapping such as a Kubernetes object)",
                line=line,
            )
    if not documents and EXPRESSION_PLACEHOLDER not in yaml_text:
        raise PermanentFetchError(name, "not YAML (no document found)")


def neutralise_jinja(text):
    """Rewrite a Jinja2 template into YAML that keeps the template's lines.

    Statements (``{% ... %}``) and comments (``{# ... #}``) disappear, an
    expression (``{{ ... }}``) becomes ``JINJA_EXPR``; a line holding only
    expressions becomes a YAML comment, because such a line usually expands
    to a whole YAML block (``{{ x | to_nice_yaml | indent(4) }}``).  Line
    numbers are preserved.  ``text`` must be a valid template.
    """
    out = []
    line = 1
    skipping = None
    for lineno, token, value in jinja_environment().lex(text):
        if skipping:
            if token == skipping:
                skipping = None
            continue
        if lineno > line:
            out.append("\n" * (lineno - line))
            line = lineno
        if token == "variable_begin":
            out.append(_MARK)
            skipping = "variable_end"
        elif token == "block_begin":
            skipping = "block_end"
        elif token == "comment_begin":
            skipping = "comment_end"
        elif token == "data":
            out.append(value)
            line += value.count("\n")
        # raw_begin / raw_end markers vanish, the raw content is "data"
    lines = "".join(out).split("\n")
    return "\n".join(_neutralise_line(each) for each in lines)


def preview_documents(text):
    """Best-effort ``[{"kind", "name", "apiVersion"}]`` of a raw template.

    Reads top-level ``kind:``/``apiVersion:`` lines and the first ``name:``
    under ``metadata:`` of each ``---``-separated document, without
    rendering: a ``{{ ... }}`` expression is kept as text.  Missing values are
    None; documents with neither kind nor apiVersion are left out.
    """
    previews = []
    for document in re.split(r"(?m)^---[ \t]*(?:#.*)?$", text or ""):
        preview = {"kind": None, "name": None, "apiVersion": None}
        in_metadata = False
        for raw_line in document.splitlines():
            top = re.match(r"^([A-Za-z]+)\s*:(.*)$", raw_line)
            if top:
                key, value = top.groups()
                in_metadata = key == "metadata"
                if key in ("kind", "apiVersion") and preview[key] is None:
                    preview[key] = _scalar(value)
                continue
            nested = re.match(r"^\s+name\s*:(.*)$", raw_line)
            if in_metadata and nested and preview["name"] is None:
                preview["name"] = _scalar(nested.group(1))
        if preview["kind"] or preview["apiVersion"]:
            previews.append(preview)
    return previews


# --- download ------------------------------------------------------------------


def check_url(url, safe_url=None):
    """Raise :class:`PermanentFetchError` unless ``url`` is an http(s) URL with a host.

    ``safe_url`` is the form shown in the message (default: the URL with
    credentials and query removed).
    """
    safe_url = redact_url(url) if safe_url is None else safe_url
    try:
        parts = urllib.parse.urlsplit(str(url))
    except ValueError:
        parts = None
    if not parts or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise PermanentFetchError(safe_url, "only http and https URLs are allowed")


def _download(session, url, safe_url, headers, timeout, max_bytes):
    """``(body bytes or None when not modified, response)``."""
    host = urllib.parse.urlsplit(url).hostname
    deadline = time.monotonic() + timeout
    try:
        with session.get(
            url, headers=headers, timeout=timeout, stream=True
        ) as response:
            _check_status(response, safe_url)
            if response.status_code == 304:
                return None, response
            _check_length_header(response, safe_url, max_bytes)
            chunks = []
            size = 0
            for chunk in response.iter_content(CHUNK_SIZE):
                size += len(chunk)
                if size > max_bytes:
                    raise PermanentFetchError(
                        safe_url, f"too large: more than {max_bytes} bytes"
                    )
                if time.monotonic() > deadline:
                    raise TransientFetchError(
                        safe_url, f"timed out after {timeout:g} s"
                    )
                chunks.append(chunk)
            return b"".join(chunks), response
    except requests.RequestException as error:
        raise _classify(error, safe_url, host, timeout) from None


def _check_status(response, safe_url):
    status = response.status_code
    if 200 <= status <= 299 or status == 304:
        return
    if status == 404:
        reason = "not found (HTTP 404)"
    elif status in (401, 403):
        reason = f"access denied (HTTP {status})"
    else:
        reason = f"HTTP {status}"
    cls = TransientFetchError if is_transient_status(status) else PermanentFetchError
    raise cls(safe_url, reason, status=status)


def _check_length_header(response, safe_url, max_bytes):
    try:
        length = int(response.headers.get("Content-Length", ""))
    except ValueError:
        return
    if length > max_bytes:
        raise PermanentFetchError(safe_url, f"too large: more than {max_bytes} bytes")


def _causes(error):
    """``error`` and everything it wraps (causes, contexts, exception args)."""
    seen = []
    todo = [error]
    while todo:
        current = todo.pop()
        if not isinstance(current, BaseException) or any(current is s for s in seen):
            continue
        seen.append(current)
        todo.extend(
            [
                current.__cause__,
                current.__context__,
                getattr(current, "reason", None),
                *current.args,
            ]
        )
    return seen


def _classify(error, safe_url, host, timeout):
    """Turn a requests exception into a FetchError."""
    causes = _causes(error)
    text = " ".join(str(c) for c in causes)
    timed_out = f"timed out after {timeout:g} s"
    if isinstance(error, requests.exceptions.SSLError):
        return PermanentFetchError(safe_url, "TLS error (certificate or protocol)")
    if any(isinstance(c, socket.gaierror) for c in causes) or re.search(
        r"Name or service not known|nodename nor servname|getaddrinfo failed|"
        r"Temporary failure in name resolution|No address associated",
        text,
    ):
        return TransientFetchError(safe_url, f"cannot resolve host {host}")
    if isinstance(error, requests.Timeout) or any(
        isinstance(c, (socket.timeout, TimeoutError)) for c in causes
    ):
        return TransientFetchError(safe_url, timed_out)
    if "timed out" in text.lower():
        return TransientFetchError(safe_url, timed_out)
    if (
        any(isinstance(c, ConnectionRefusedError) for c in causes)
        or "Connection refused" in text
    ):
        return TransientFetchError(safe_url, "connection refused")
    if (
        any(isinstance(c, ConnectionResetError) for c in causes)
        or "Connection reset" in text
    ):
        return TransientFetchError(safe_url, "connection reset")
    if isinstance(error, requests.TooManyRedirects):
        return PermanentFetchError(safe_url, "too many redirects")
    if isinstance(
        error, (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema)
    ):
        return PermanentFetchError(safe_url, "only http and https URLs are allowed")
    if isinstance(
        error, (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)
    ):
        return TransientFetchError(safe_url, "connection failed")
    return PermanentFetchError(safe_url, f"request failed ({type(error).__name__})")


# --- body checks -----------------------------------------------------------------


def _decode(body, safe_url):
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PermanentFetchError(safe_url, "not UTF-8 text") from None
    if "\x00" in text:
        raise PermanentFetchError(safe_url, "not UTF-8 text")
    return text


def _check_body(text, content_type, safe_url):
    if not text.strip():
        raise PermanentFetchError(safe_url, "not YAML (empty body)")
    if "html" in content_type.lower() or text.lstrip().startswith("<"):
        raise PermanentFetchError(safe_url, "not YAML: looks like an HTML page")
    problem = _template_syntax_error(text, safe_url)
    if problem:
        line, message = problem
        where = f"line {line}: " if line else ""
        raise PermanentFetchError(
            safe_url, f"template syntax error ({where}{message})", line=line
        )
    check_yaml(text, name=safe_url)


# --- helpers ---------------------------------------------------------------------


def _template_syntax_error(text, name):
    """``(line, message)`` of the first Jinja2 syntax error, or None."""
    try:
        jinja_environment().parse(text, name=name)
    except jinja2.TemplateSyntaxError as error:
        return error.lineno, error.message
    except RecursionError:
        return None, "too deeply nested"
    return None


def _neutralise_line(line):
    if _MARK not in line:
        return line
    if not line.replace(_MARK, "").strip():
        indent = line[: len(line) - len(line.lstrip())]
        return f"{indent}# {EXPRESSION_PLACEHOLDER}"
    return line.replace(_MARK, EXPRESSION_PLACEHOLDER)


def _scalar(value):
    """Value of a one-line YAML scalar, quotes and trailing comment removed."""
    value = value.strip()
    if value[:1] in ("'", '"'):
        end = value.find(value[0], 1)
        return value[1:end] if end > 0 else value[1:]
    value = re.sub(r"\s+#.*$", "", value).strip()
    return value or None
