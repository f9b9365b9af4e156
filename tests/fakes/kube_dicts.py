"""Pure helpers of the fake Kubernetes API: errors, selectors, patches, field paths.

Small functions over plain dicts; nothing here knows about HTTP or the store.
"""

import copy
import re

MISSING = object()


class KubeStatusError(Exception):
    """An API failure, rendered as a ``v1 Status`` body by the HTTP layer."""

    def __init__(self, code, reason, message, details=None, headers=None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def status(self):
        body = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            body["details"] = self.details
        return body


def bad_request(message):
    return KubeStatusError(400, "BadRequest", message)


def not_found(rtype, name):
    return KubeStatusError(
        404,
        "NotFound",
        f'{_qualified(rtype)} "{name}" not found',
        {"name": name, "group": rtype.group, "kind": rtype.plural},
    )


def invalid(rtype, name, causes):
    """422 Invalid with ``causes`` as (field, message) pairs."""
    text = ", ".join(f"{f}: {m}" for f, m in causes)
    return KubeStatusError(
        422,
        "Invalid",
        f'{rtype.kind} "{name}" is invalid: {text}',
        {
            "name": name,
            "group": rtype.group,
            "kind": rtype.kind,
            "causes": [
                {"reason": "FieldValueInvalid", "message": m, "field": f}
                for f, m in causes
            ],
        },
    )


def conflict(rtype, name, message):
    return KubeStatusError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {_qualified(rtype)} "{name}": {message}',
        {"name": name, "group": rtype.group, "kind": rtype.plural},
    )


def _qualified(rtype):
    return f"{rtype.plural}.{rtype.group}" if rtype.group else rtype.plural


# --- names ----------------------------------------------------------------------

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN = rf"{_LABEL}(\.{_LABEL})*"


def name_errors(name, dns_label):
    """Why ``name`` is not a valid object name (empty list when it is)."""
    if not name:
        return ["Required value: name or generateName is required"]
    if dns_label:
        if len(name) > 63 or not re.fullmatch(_LABEL, name):
            return [
                f'Invalid value: "{name}": a lowercase RFC 1123 label must consist '
                "of lower case alphanumeric characters or '-', and must start and "
                "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
                f"regex used for validation is '{_LABEL}')"
            ]
        return []
    if len(name) > 253 or not re.fullmatch(_SUBDOMAIN, name):
        return [
            f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist '
            "of lower case alphanumeric characters, '-' or '.', and must start and "
            "end with an alphanumeric character (e.g. 'example.com', regex used "
            f"for validation is '{_SUBDOMAIN}')"
        ]
    return []


# --- selectors ------------------------------------------------------------------

_SET_REQ = re.compile(r"^\s*([A-Za-z0-9_./-]+)\s+(in|notin)\s*\(([^)]*)\)\s*$")
_EQ_REQ = re.compile(r"^\s*([A-Za-z0-9_./-]+)\s*(==|!=|=)\s*([A-Za-z0-9_.-]*)\s*$")
_EXISTS_REQ = re.compile(r"^\s*(!?)\s*([A-Za-z0-9_./-]+)\s*$")


def _split_top_level(text):
    """Split at commas outside parentheses."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p for p in parts if p.strip()]


def parse_label_selector(text):
    """Parse a label selector into ``(key, op, values)`` requirements.

    ``op`` is one of ``in``, ``notin``, ``exists``, ``!exists``; ``=``/``==``
    become ``in`` and ``!=`` becomes ``notin``.
    """
    requirements = []
    for part in _split_top_level(text or ""):
        if match := _SET_REQ.match(part):
            values = {v.strip() for v in match.group(3).split(",") if v.strip()}
            requirements.append((match.group(1), match.group(2), values))
        elif match := _EQ_REQ.match(part):
            op = "notin" if match.group(2) == "!=" else "in"
            requirements.append((match.group(1), op, {match.group(3)}))
        elif match := _EXISTS_REQ.match(part):
            requirements.append(
                (match.group(2), "!exists" if match.group(1) else "exists", set())
            )
        else:
            raise bad_request(f"unable to parse requirement: {part.strip()!r}")
    return requirements


def labels_match(labels, requirements):
    """Whether a label dict satisfies every parsed requirement."""
    labels = labels or {}
    for key, op, values in requirements:
        present = key in labels
        if op == "exists" and not present:
            return False
        if op == "!exists" and present:
            return False
        if op == "in" and (not present or labels[key] not in values):
            return False
        if op == "notin" and present and labels[key] in values:
            return False
    return True


#: Field labels a LIST may select on, per kind, besides ``metadata.name`` and
#: ``metadata.namespace`` (a subset of the real API server's).
FIELD_LABELS = {
    "Event": (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ),
    "Pod": ("spec.nodeName", "spec.restartPolicy", "status.phase"),
}
#: Field labels that are not the path of their value.
_FIELD_PATHS = {"source": ("source", "component")}


def parse_field_selector(text, kind=None):
    """Parse field selector terms into (field, negate, value).

    ``metadata.name`` and ``metadata.namespace`` work for every kind; the
    labels of :data:`FIELD_LABELS` for their ``kind``.
    """
    supported = ("metadata.name", "metadata.namespace") + FIELD_LABELS.get(kind, ())
    requirements = []
    for part in _split_top_level(text or ""):
        match = _EQ_REQ.match(part)
        if not match:
            raise bad_request(
                f"invalid selector: '{part.strip()}'; can't understand '{part.strip()}'"
            )
        field_name, op, value = match.groups()
        if field_name not in supported:
            raise bad_request(f"field label not supported: {field_name}")
        requirements.append((field_name, op == "!=", value))
    return requirements


def fields_match(obj, requirements):
    for field_name, negate, value in requirements:
        path = _FIELD_PATHS.get(field_name) or tuple(field_name.split("."))
        actual = get_path(obj, path)
        actual = "" if actual is MISSING or actual is None else str(actual)
        if (actual == value) == negate:
            return False
    return True


# --- patches --------------------------------------------------------------------


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch (``null`` deletes); returns a new value."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _container(doc, tokens, path):
    node = doc
    for token in tokens[:-1]:
        node = _child(node, token, path)
    return node


def _child(node, token, path):
    try:
        if isinstance(node, list):
            return node[int(token)]
        return node[token]
    except (KeyError, IndexError, ValueError, TypeError):
        raise _patch_failed(f"path {path!r} does not exist") from None


def _patch_failed(message):
    return KubeStatusError(
        422,
        "Invalid",
        f"the server rejected our request due to an error in our request: {message}",
    )


def _add(doc, path, value):
    tokens = _pointer(path)
    if not tokens:
        return value
    parent, last = _container(doc, tokens, path), tokens[-1]
    if isinstance(parent, list):
        index = len(parent) if last == "-" else _index(last, len(parent) + 1, path)
        parent.insert(index, value)
    elif isinstance(parent, dict):
        parent[last] = value
    else:
        raise _patch_failed(f"path {path!r} does not exist")
    return doc


def _remove(doc, path):
    tokens = _pointer(path)
    parent, last = _container(doc, tokens, path), tokens[-1] if tokens else None
    if isinstance(parent, list):
        return doc, parent.pop(_index(last, len(parent), path))
    if isinstance(parent, dict) and last in parent:
        return doc, parent.pop(last)
    raise _patch_failed(f"unable to remove nonexistent key: {last}")


def _index(token, size, path):
    if not token.isdigit() or int(token) >= size:
        raise _patch_failed(f"index out of range in path {path!r}")
    return int(token)


def _get(doc, path):
    node = doc
    for token in _pointer(path):
        node = _child(node, token, path)
    return node


def json_patch(doc, operations):
    """Apply RFC 6902 operations (add/remove/replace/move/copy/test)."""
    if not isinstance(operations, list):
        raise bad_request("json patch must be a list of operations")
    doc = copy.deepcopy(doc)
    for op in operations:
        if not isinstance(op, dict) or "path" not in op or "op" not in op:
            raise bad_request(f"invalid json patch operation {op!r}")
        kind, path = op["op"], op["path"]
        if kind in ("add", "replace", "test") and "value" not in op:
            raise bad_request(f"missing value for {kind} operation")
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op["value"]))
        elif kind == "remove":
            doc, _ = _remove(doc, path)
        elif kind == "replace":
            _get(doc, path)
            doc, _ = _remove(doc, path) if path else (doc, None)
            doc = _add(doc, path, copy.deepcopy(op["value"]))
        elif kind in ("move", "copy"):
            value = copy.deepcopy(_get(doc, op.get("from", "")))
            if kind == "move":
                doc, _ = _remove(doc, op["from"])
            doc = _add(doc, path, value)
        elif kind == "test":
            if _get(doc, path) != op["value"]:
                raise _patch_failed(f"testing value {path} failed")
        else:
            raise bad_request(f"unexpected json patch operation {kind!r}")
    return doc


# --- field paths (server-side apply) --------------------------------------------

TRACKED_METADATA = ("labels", "annotations", "finalizers", "ownerReferences")


def leaves(obj, scope):
    """Map each owned leaf path (tuple of keys) of ``obj`` to its value.

    ``scope`` is ``"main"`` (everything but status, plus the tracked
    metadata) or ``"status"``.  Lists and empty maps are leaves.
    """
    result = {}
    for key, value in obj.items():
        if key in ("apiVersion", "kind"):
            continue
        if scope == "status" and key != "status":
            continue
        if scope == "main" and key == "status":
            continue
        if key == "metadata":
            if scope == "main":
                for meta_key in TRACKED_METADATA:
                    if meta_key in value:
                        _collect(result, ("metadata", meta_key), value[meta_key])
            continue
        _collect(result, (key,), value)
    return result


def _collect(result, path, value):
    if isinstance(value, dict) and value:
        for key, child in value.items():
            _collect(result, path + (key,), child)
    else:
        result[path] = value


def get_path(obj, path):
    node = obj
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return MISSING
        node = node[key]
    return node


def remove_path(obj, path):
    """Delete ``path``, then the maps on the way that became empty (not top-level)."""
    parents = [obj]
    for key in path[:-1]:
        node = parents[-1].get(key)
        if not isinstance(node, dict):
            return
        parents.append(node)
    parents[-1].pop(path[-1], None)
    for depth in range(len(path) - 1, 1, -1):
        if parents[depth]:
            break
        parents[depth - 1].pop(path[depth - 1], None)


def related(path_a, path_b):
    """Whether one path is a prefix of the other (same or nested field)."""
    size = min(len(path_a), len(path_b))
    return path_a[:size] == path_b[:size]


def dotted(path):
    """A field path as the API prints it in conflicts, e.g. ``.spec.replicas``."""
    return "".join(f".{key}" for key in path)


def fields_v1(paths):
    """Approximate ``fieldsV1`` tree of a set of leaf paths."""
    tree = {}
    for path in sorted(paths):
        node = tree
        for key in path:
            node = node.setdefault(f"f:{key}", {})
    return tree
