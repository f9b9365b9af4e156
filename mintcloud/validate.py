"""Offline checks of rendered Kubernetes documents.

:func:`validate_documents` returns every problem found in a list of rendered
documents (plain dicts), each message prefixed with ``Kind/name:``;
:func:`check_documents` raises :class:`~mintcloud.errors.ValidationError`
when there is any.

Checks:

* the JSON schema of the kind, from the ``kubernetes-validate`` package,
  with every schema error reported (``iter_errors``), not only the first.
  ``strict=True`` uses the strict schemas, which also reject unknown fields.
  The Kubernetes version (``"1.29"``, ``"v1.29.3+k3s1"``) is mapped to the
  newest bundled schema version not newer than it (the oldest bundled one
  for older versions, the newest for newer ones).
* kinds without a bundled schema (custom resources such as cert-manager's
  ``Certificate``) are skipped by the schema check; with ``strict=True`` they
  are reported as "no schema ... not validated".  The checks below still
  apply to them.
* ``metadata.name`` is a DNS-1123 subdomain; a DNS-1123 label (<= 63) for
  Namespace, Deployment, StatefulSet, Job, DaemonSet and ReplicaSet, a
  DNS-1035 label for Service, and at most 52 characters for CronJob.
  ``metadata.namespace`` is a DNS-1123 label.
* label keys and values (object, pod template, selectors) are valid.
* ``spec.selector.matchLabels`` of workloads is a subset of the pod template
  labels (``matchExpressions`` are not evaluated).
* the same object (API group, kind, namespace, name) appears only once.
* Ingress ``spec.rules[].host`` and ``spec.tls[].hosts[]`` are DNS names
  (a leading ``*.`` wildcard is allowed).

Messages never echo field values that could be secret: schema errors name the
path and the expected type, not the value.
"""

import functools
import importlib.resources
import json
import re

import jsonschema
import referencing
from kubernetes_validate.utils import all_versions
from packaging.version import Version

from mintcloud.errors import PermanentError, ValidationError

DEFAULT_KUBERNETES_VERSION = "1.29"

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_LABEL = re.compile(rf"^{_LABEL}$")
DNS1123_SUBDOMAIN = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")

LABEL_NAME_KINDS = frozenset(
    {"Namespace", "Deployment", "StatefulSet", "Job", "DaemonSet", "ReplicaSet"}
)
# CronJob names get an 11-character suffix for their Jobs.
MAX_CRONJOB_NAME = 52
WORKLOAD_KINDS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}
)

_JSON_TYPES = (
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
    (type(None), "null"),
)


# --- public API --------------------------------------------------------------


def validate_documents(
    docs, kubernetes_version=DEFAULT_KUBERNETES_VERSION, strict=False
):
    """Return every problem of the rendered ``docs`` (an empty list when valid).

    ``docs`` is an iterable of dicts; None entries (empty YAML documents) are
    ignored.  Raises :class:`PermanentError` for a malformed
    ``kubernetes_version``.
    """
    schema_version = resolve_version(kubernetes_version)
    problems = []
    seen = {}
    for index, doc in enumerate(docs, start=1):
        if doc is None:
            continue
        if not isinstance(doc, dict):
            problems.append(
                f"document {index}: expected a mapping, got {_json_type(doc)}"
            )
            continue
        label = document_label(doc)
        found = _check_document(doc, schema_version, strict)
        duplicate = _duplicate(doc, index, seen)
        if duplicate:
            found.append(duplicate)
        problems.extend(f"{label}: {problem}" for problem in found)
    return problems


def check_documents(docs, kubernetes_version=DEFAULT_KUBERNETES_VERSION, strict=False):
    """Raise :class:`ValidationError` listing every problem of ``docs``."""
    docs = list(docs)
    problems = validate_documents(docs, kubernetes_version, strict)
    if problems:
        raise ValidationError(problems)
    return docs


def supported_versions():
    """Kubernetes versions with bundled schemas, oldest first (``"1.29.0"``)."""
    return list(all_versions())


def resolve_version(kubernetes_version):
    """The bundled schema version (``"1.29.0"``) to use for ``kubernetes_version``."""
    match = re.match(
        r"^v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+].*)?$", str(kubernetes_version).strip()
    )
    if not match:
        raise PermanentError(
            f"not a Kubernetes version: {kubernetes_version!r} (expected e.g. '1.29')"
        )
    wanted = Version(f"{match.group(1)}.{match.group(2)}")
    versions = supported_versions()
    older = [v for v in versions if Version(".".join(v.split(".")[:2])) <= wanted]
    return older[-1] if older else versions[0]


def document_label(doc):
    """``Kind/name`` of a document, with ``?`` for what is missing."""
    kind = doc.get("kind") if isinstance(doc.get("kind"), str) else None
    metadata = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    name = metadata.get("name") if isinstance(metadata.get("name"), str) else None
    return f"{kind or '?'}/{name or '?'}"


# --- one document ----------------------------------------------------------------


def _check_document(doc, schema_version, strict):
    problems = []
    api_version, kind = doc.get("apiVersion"), doc.get("kind")
    if not isinstance(api_version, str) or not api_version:
        problems.append("apiVersion is missing")
    if not isinstance(kind, str) or not kind:
        problems.append("kind is missing")
    if not problems:
        problems += _schema_problems(doc, api_version, kind, schema_version, strict)
    metadata = doc.get("metadata")
    if not isinstance(metadata, dict):
        if "metadata" not in doc:
            problems.append("metadata is missing")
        return problems
    problems += _name_problems(metadata, kind)
    problems += _label_problems(doc)
    problems += _selector_problems(doc, kind)
    if kind == "Ingress":
        problems += _ingress_problems(doc)
    return problems


def _schema_problems(doc, api_version, kind, schema_version, strict):
    validator = _validator(schema_version, strict, api_version, kind)
    if validator is None:
        if strict:
            return [
                f"no schema for kind {kind} in {api_version} (Kubernetes {schema_version}); not validated"
            ]
        return []
    errors = sorted(
        validator.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path]
    )
    return [_describe(error) for error in errors]


def _name_problems(metadata, kind):
    problems = []
    name = metadata.get("name")
    if name is None:
        if not metadata.get("generateName"):
            problems.append("metadata.name is missing")
    elif isinstance(name, str):
        problems += _object_name_problems(name, kind)
    namespace = metadata.get("namespace")
    if isinstance(namespace, str) and not _is_label(namespace):
        problems.append(
            f"metadata.namespace {namespace!r} is not a valid DNS-1123 label"
        )
    return problems


def _object_name_problems(name, kind):
    if kind == "Service":
        if not (len(name) <= 63 and DNS1035_LABEL.match(name)):
            return [
                f"metadata.name {name!r} is not a valid DNS-1035 label "
                "(lowercase letters, digits and '-', starting with a letter, at most 63 characters)"
            ]
        return []
    if kind in LABEL_NAME_KINDS or kind == "CronJob":
        if not _is_label(name):
            return [
                f"metadata.name {name!r} is not a valid DNS-1123 label "
                "(lowercase letters, digits and '-', at most 63 characters)"
            ]
        if kind == "CronJob" and len(name) > MAX_CRONJOB_NAME:
            return [f"metadata.name is longer than {MAX_CRONJOB_NAME} characters"]
        return []
    if not _is_subdomain(name):
        return [
            f"metadata.name {name!r} is not a valid DNS-1123 subdomain "
            "(lowercase letters, digits, '-' and '.', at most 253 characters)"
        ]
    return []


def _label_problems(doc):
    problems = []
    for path, labels in _label_maps(doc):
        if not isinstance(labels, dict):
            continue  # the schema check reports the type
        for key, value in labels.items():
            problems += [f"{path}: {p}" for p in _label_pair_problems(key, value)]
    return problems


def _label_pair_problems(key, value):
    problems = []
    if not is_label_key(str(key)):
        problems.append(f"label key {str(key)!r} is not valid")
    if isinstance(value, str) and not is_label_value(value):
        problems.append(
            f"value of label {str(key)!r} is not valid (at most 63 letters, digits, '-', '_' or '.', "
            "starting and ending with a letter or digit)"
        )
    return problems


def _selector_problems(doc, kind):
    spec = _get(doc, "spec")
    if kind == "CronJob":
        spec = _get(doc, "spec", "jobTemplate", "spec")
    elif kind not in WORKLOAD_KINDS:
        return []
    selector = _get(spec, "selector", "matchLabels")
    labels = _get(spec, "template", "metadata", "labels")
    if not isinstance(selector, dict) or not selector:
        return []
    labels = labels if isinstance(labels, dict) else {}
    mismatched = sorted(
        str(key) for key, value in selector.items() if labels.get(key) != value
    )
    if not mismatched:
        return []
    return [
        f"selector does not match template labels (label {', '.join(repr(k) for k in mismatched)})"
    ]


def _ingress_problems(doc):
    problems = []
    for index, rule in enumerate(_list(_get(doc, "spec", "rules"))):
        host = rule.get("host") if isinstance(rule, dict) else None
        if isinstance(host, str) and not is_dns_name(host):
            problems.append(
                f"spec.rules[{index}].host {host!r} is not a valid DNS name"
            )
    for index, tls in enumerate(_list(_get(doc, "spec", "tls"))):
        hosts = tls.get("hosts") if isinstance(tls, dict) else None
        for position, host in enumerate(_list(hosts)):
            if isinstance(host, str) and not is_dns_name(host):
                problems.append(
                    f"spec.tls[{index}].hosts[{position}] {host!r} is not a valid DNS name"
                )
    return problems


def _duplicate(doc, index, seen):
    """A message when ``doc`` names the same object as an earlier document."""
    api_version, kind = doc.get("apiVersion"), doc.get("kind")
    metadata = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    name = metadata.get("name")
    if not all(isinstance(v, str) for v in (api_version, kind, name)):
        return None
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    namespace = metadata.get("namespace") or ""
    key = (group, kind, str(namespace), name)
    if key in seen:
        return f"duplicate document (same object as document {seen[key]})"
    seen[key] = index
    return None


# --- name syntax ------------------------------------------------------------------


def _is_label(value):
    return len(value) <= 63 and bool(DNS1123_LABEL.match(value))


def _is_subdomain(value):
    return len(value) <= 253 and bool(DNS1123_SUBDOMAIN.match(value))


def is_label_key(key):
    """True for a valid label key: ``[prefix/]name``."""
    prefix, _, name = key.rpartition("/")
    if "/" in key and not (prefix and _is_subdomain(prefix)):
        return False
    return len(name) <= 63 and bool(LABEL_NAME.match(name))


def is_label_value(value):
    """True for a valid label value (may be empty)."""
    return value == "" or (len(value) <= 63 and bool(LABEL_NAME.match(value)))


def is_dns_name(host):
    """True for a DNS name: a DNS-1123 subdomain whose labels have at most 63
    characters, optionally with a leading ``*.`` wildcard."""
    if host.startswith("*."):
        host = host[2:]
    return _is_subdomain(host) and all(len(label) <= 63 for label in host.split("."))


# --- schemas ----------------------------------------------------------------------


def _schema_root():
    return importlib.resources.files("kubernetes_validate") / "kubernetes-json-schema"


@functools.lru_cache(maxsize=8)
def _registry(schema_dir):
    """Registry holding the shared ``_definitions.json`` of one schema dir."""
    definitions = json.loads(
        (_schema_root() / schema_dir / "_definitions.json").read_text()
    )
    return referencing.Resource.from_contents(definitions) @ referencing.Registry()


@functools.lru_cache(maxsize=512)
def _validator(schema_version, strict, api_version, kind):
    """A Draft 2020-12 validator for ``kind`` in ``api_version``, or None.

    None when no schema is bundled, or when the bundled schema of that file
    name belongs to another API group (a custom resource that happens to
    share a kind and a group prefix with a built-in one).  The result is
    cached: loading and compiling schemas is slow.
    """
    schema_dir = f"v{schema_version}-local" + ("-strict" if strict else "")
    # rbac.authorization.k8s.io/v1 -> rbac-v1, as kubernetes-validate names files
    slug = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    path = _schema_root() / schema_dir / f"{kind.lower()}-{slug}.json"
    if not path.is_file():
        return None
    schema = json.loads(path.read_text())
    group, _, version = api_version.rpartition("/")
    declared = schema.get("x-kubernetes-group-version-kind") or []
    # the kind is compared case-insensitively, so that the schema reports a
    # wrongly spelt "deployment" instead of the document being skipped
    if not any(
        g.get("group") == group
        and g.get("version") == version
        and str(g.get("kind")).lower() == kind.lower()
        for g in declared
    ):
        return None
    registry = referencing.Resource.from_contents(schema) @ _registry(schema_dir)
    return jsonschema.Draft202012Validator(schema, registry=registry)


def _describe(error):
    """A message for one schema error that names the path, never the value."""
    path = _path(error.absolute_path) or "(document)"
    if error.validator == "type":
        expected = [t for t in _as_list(error.validator_value) if t != "null"] or [
            "null"
        ]
        return f"{path}: expected {' or '.join(expected)}, got {_json_type(error.instance)}"
    if error.validator == "oneOf":
        expected = []
        for option in error.validator_value:
            expected += [
                t
                for t in _as_list(option.get("type"))
                if t != "null" and t not in expected
            ]
        return f"{path}: expected {' or '.join(expected) or 'another value'}, got {_json_type(error.instance)}"
    if error.validator == "enum":
        return f"{path}: must be one of {', '.join(repr(v) for v in error.validator_value)}"
    if error.validator == "required":
        missing = [
            name for name in error.validator_value if name not in (error.instance or {})
        ]
        return f"{path}: missing required field {', '.join(repr(m) for m in missing)}"
    if error.validator == "additionalProperties":
        allowed = set(error.schema.get("properties", {}))
        unknown = sorted(str(key) for key in error.instance if key not in allowed)
        return f"{path}: unknown field {', '.join(repr(u) for u in unknown)}"
    return f"{path}: does not satisfy schema rule {error.validator!r}"


# --- small helpers ----------------------------------------------------------------


def _label_maps(doc):
    """``(path, labels)`` of every label map of ``doc`` worth checking."""
    maps = [("metadata.labels", _get(doc, "metadata", "labels"))]
    prefixes = [("spec", _get(doc, "spec"))]
    if doc.get("kind") == "CronJob":
        prefixes.append(
            ("spec.jobTemplate.spec", _get(doc, "spec", "jobTemplate", "spec"))
        )
        maps.append(
            (
                "spec.jobTemplate.metadata.labels",
                _get(doc, "spec", "jobTemplate", "metadata", "labels"),
            )
        )
    for prefix, spec in prefixes:
        maps.append(
            (
                f"{prefix}.template.metadata.labels",
                _get(spec, "template", "metadata", "labels"),
            )
        )
        maps.append(
            (f"{prefix}.selector.matchLabels", _get(spec, "selector", "matchLabels"))
        )
    if doc.get("kind") == "Service":
        maps.append(("spec.selector", _get(doc, "spec", "selector")))
    return [(path, labels) for path, labels in maps if labels is not None]


def _get(data, *keys):
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _list(value):
    return value if isinstance(value, list) else []


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _path(parts):
    text = ""
    for part in parts:
        text += (
            f"[{part}]"
            if isinstance(part, int)
            else (f".{part}" if text else str(part))
        )
    return text


def _json_type(value):
    for python_type, name in _JSON_TYPES:
        if isinstance(value, python_type):
            return name
    return type(value).__name__
