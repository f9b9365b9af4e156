"""The object store of the fake Kubernetes API: CRUD, patches and server-side apply.

Objects are plain JSON dicts keyed by (resource type, namespace, name).  Next
to each object the store keeps its field managers: per (manager, operation,
subresource) the set of owned leaf field paths (see :func:`kube_dicts.leaves`),
rendered into ``metadata.managedFields`` on every write.  Every public method
takes the store lock, so the HTTP threads and the test thread can share it.
"""

import base64
import copy
import json
import random
import string
import threading
import uuid
from datetime import datetime, timezone

from tests.fakes import kube_dicts as d
from tests.fakes import kube_pods as pods
from tests.fakes.kube_resources import RESOURCE_TYPES, find_by_kind, find_kind


def _copy(value):
    """A deep copy of a stored object (JSON data), fast: the store copies every
    object it hands out, a whole page of a LIST included."""
    return json.loads(json.dumps(value))


NAMESPACE = find_kind("Namespace")
SERVER_METADATA = (
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "managedFields",
    "generation",
    "deletionTimestamp",
    "selfLink",
)
CONTROLLER = "kube-controller-manager"


def now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _content(obj):
    """What a change of bumps ``metadata.generation`` (spec, data, ...)."""
    return {
        k: v
        for k, v in obj.items()
        if k not in ("metadata", "status", "apiVersion", "kind")
    }


def _comparable(obj):
    meta = {
        k: v
        for k, v in obj.get("metadata", {}).items()
        if k not in ("resourceVersion", "managedFields")
    }
    return {**obj, "metadata": meta}


def _initial_status(rtype):
    return {
        "Namespace": {"phase": "Active"},
        "Service": {"loadBalancer": {}},
        "PersistentVolumeClaim": {"phase": "Pending"},
        "Pod": {"phase": "Pending"},
    }.get(rtype.kind, {})


def normalize_secret(obj):
    """Fold ``stringData`` into ``data`` (base64), as the API server does."""
    string_data = obj.pop("stringData", None) or {}
    if string_data:
        data = obj.setdefault("data", {}) or {}
        obj["data"] = data
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()


class Store:
    """Thread-safe in-memory objects plus field ownership."""

    def __init__(self):
        self.lock = threading.RLock()
        self._rv = 0
        self._next_ip = 0
        self.reset()

    def reset(self):
        """Drop every object; recreate namespace ``default``."""
        with self.lock:
            self._objects = {}
            self._sorted = {}  # rtype -> its keys, sorted (dropped on a change)
            self._managers = {}
            # (namespace, pod, container) -> the container's runs, oldest
            # first, each a list of (datetime, line): the last is the current
            # one, the one before it what ``previous`` reads.
            self._logs = {}
            self.create(
                NAMESPACE, None, {"metadata": {"name": "default"}}, "kube-apiserver"
            )

    # --- reading -----------------------------------------------------------------

    def get(self, rtype, namespace, name):
        with self.lock:
            return _copy(self._require(rtype, namespace, name))

    def list(
        self,
        rtype,
        namespace=None,
        label_selector=None,
        field_selector=None,
        limit=None,
        token=None,
    ):
        labels = d.parse_label_selector(label_selector)
        fields = d.parse_field_selector(field_selector, rtype.kind)
        with self.lock:
            items = [
                obj
                for obj in self._select(rtype, namespace, labels)
                if d.fields_match(obj, fields)
            ]
            doc = {
                "kind": f"{rtype.kind}List",
                "apiVersion": rtype.api_version,
                "metadata": {"resourceVersion": str(self._rv)},
            }
        start = _decode_token(token)
        if limit:
            rest = items[start + limit :]
            items = items[start : start + limit]
            if rest:
                doc["metadata"]["continue"] = base64.b64encode(
                    str(start + limit).encode()
                ).decode()
                doc["metadata"]["remainingItemCount"] = len(rest)
        # Like the real API, list items carry neither kind nor apiVersion.
        doc["items"] = [
            {k: _copy(v) for k, v in obj.items() if k not in ("kind", "apiVersion")}
            for obj in items
        ]
        return doc

    def find(self, api_version=None, kind=None, namespace=None, label_selector=None):
        """Every stored object matching the filters (full objects, sorted)."""
        labels = d.parse_label_selector(label_selector)
        with self.lock:
            return [
                _copy(obj)
                for rtype in RESOURCE_TYPES
                if api_version in (None, rtype.api_version)
                and kind in (None, rtype.kind)
                for obj in self._select(rtype, namespace, labels)
            ]

    def _select(self, rtype, namespace, labels):
        # The sorted keys of a type are kept until an object of it comes or
        # goes: paging through a large LIST does not sort every page.
        keys = self._sorted.get(rtype)
        if keys is None:
            keys = self._sorted[rtype] = sorted(
                k for k in self._objects if k[0] == rtype
            )
        return [
            self._objects[k]
            for k in keys
            if namespace in (None, k[1])
            and d.labels_match(self._objects[k]["metadata"].get("labels"), labels)
        ]

    def _require(self, rtype, namespace, name):
        obj = self._objects.get((rtype, namespace, name))
        if obj is None:
            raise d.not_found(rtype, name)
        return obj

    def _require_namespace(self, rtype, namespace):
        if rtype.namespaced and (NAMESPACE, None, namespace) not in self._objects:
            raise d.not_found(NAMESPACE, namespace)

    # --- writing -----------------------------------------------------------------

    def create(self, rtype, namespace, body, manager, dry_run=False):
        obj = self._prepare(rtype, namespace, body, None)
        with self.lock:
            self._require_namespace(rtype, namespace)
            key = self._new_object(rtype, obj)
            managers = {}
            _record_update(managers, manager, rtype, "main", {}, obj)
            return self._commit(key, None, obj, managers, dry_run)

    def _new_object(self, rtype, obj):
        """Name, server metadata, initial status and defaults of an object to create."""
        meta = obj["metadata"]
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + "".join(
                random.choices(string.ascii_lowercase + string.digits, k=5)
            )
        errors = d.name_errors(meta.get("name"), rtype.dns_label)
        if errors:
            raise d.invalid(
                rtype, meta.get("name", ""), [("metadata.name", e) for e in errors]
            )
        key = (rtype, meta.get("namespace"), meta["name"])
        if key in self._objects:
            raise d.KubeStatusError(
                409,
                "AlreadyExists",
                f'{_plural(rtype)} "{meta["name"]}" already exists',
                {"name": meta["name"], "group": rtype.group, "kind": rtype.plural},
            )
        meta.update(uid=str(uuid.uuid4()), creationTimestamp=now(), generation=1)
        obj.pop("status", None)
        if rtype.has_status:
            obj["status"] = _initial_status(rtype)
        self._default(rtype, obj, None)
        return key

    def replace(
        self, rtype, namespace, name, body, manager, dry_run=False, subresource=None
    ):
        incoming = self._prepare(rtype, namespace, body, name)
        with self.lock:
            current = self._require(rtype, namespace, name)
            _check_resource_version(rtype, current, body)
            return self._update(rtype, current, incoming, manager, dry_run, subresource)

    def patch(
        self,
        rtype,
        namespace,
        name,
        patch,
        content_type,
        manager,
        dry_run=False,
        subresource=None,
    ):
        with self.lock:
            current = self._require(rtype, namespace, name)
            if content_type == "application/json-patch+json":
                patched = d.json_patch(current, patch)
            elif isinstance(patch, dict):
                patched = d.merge_patch(current, patch)
            else:
                raise d.bad_request("a merge patch must be a JSON object")
            if not isinstance(patched, dict):
                raise d.KubeStatusError(
                    422, "Invalid", "the patched object is not a JSON object"
                )
            _check_resource_version(rtype, current, patched)
            incoming = self._prepare(rtype, namespace, patched, name)
            return self._update(rtype, current, incoming, manager, dry_run, subresource)

    def _update(self, rtype, current, incoming, manager, dry_run, subresource):
        """Write ``incoming`` over ``current``: the main resource or only its status."""
        scope = "status" if subresource == "status" else "main"
        new = copy.deepcopy(current)
        if scope == "status":
            new["status"] = incoming.get("status") or {}
        else:
            kept = {
                k: v
                for k, v in current.items()
                if k in ("apiVersion", "kind", "metadata", "status")
            }
            new = {**copy.deepcopy(incoming), **copy.deepcopy(kept)}
            if not rtype.has_status:
                new.pop("status", None)
            for key in d.TRACKED_METADATA:
                new["metadata"].pop(key, None)
                if key in incoming["metadata"]:
                    new["metadata"][key] = copy.deepcopy(incoming["metadata"][key])
            self._default(rtype, new, current)
        managers = copy.deepcopy(self._managers[_key(current)])
        _record_update(managers, manager, rtype, scope, current, new)
        return self._commit(_key(current), current, new, managers, dry_run)

    def apply(
        self,
        rtype,
        namespace,
        name,
        body,
        manager,
        force=False,
        dry_run=False,
        subresource=None,
    ):
        """Server-side apply of ``body`` by ``manager``; returns (object, created)."""
        if not manager:
            raise d.bad_request(
                'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: '
                "is required for apply patch"
            )
        if (
            not isinstance(body, dict)
            or not body.get("apiVersion")
            or not body.get("kind")
        ):
            raise d.bad_request("apiVersion and kind must be set in an apply patch")
        incoming = self._prepare(rtype, namespace, body, name)
        scope = "status" if subresource == "status" else "main"
        applied = d.leaves(incoming, scope)
        with self.lock:
            self._require_namespace(rtype, namespace)
            current = self._objects.get((rtype, namespace, name))
            if current is None:
                if scope == "status":
                    raise d.not_found(rtype, name)
                key = self._new_object(rtype, incoming)
                entry = {
                    "fields": set(applied),
                    "time": now(),
                    "apiVersion": rtype.api_version,
                }
                return self._commit(
                    key, None, incoming, {(manager, "Apply", ""): entry}, dry_run
                ), True
            _check_resource_version(rtype, current, body)
            managers = copy.deepcopy(self._managers[_key(current)])
            me = (manager, "Apply", "status" if scope == "status" else "")
            self._resolve_conflicts(rtype, current, managers, manager, applied, force)
            new = copy.deepcopy(current)
            others = [p for k, e in managers.items() if k != me for p in e["fields"]]
            for path in managers.get(me, {"fields": set()})["fields"] - set(applied):
                if not any(d.related(path, other) for other in others):
                    d.remove_path(new, path)
            for path, value in applied.items():
                _set_path(new, path, value)
            if scope == "main":
                self._default(rtype, new, current)
            managers[me] = {
                "fields": set(applied),
                "time": now(),
                "apiVersion": rtype.api_version,
            }
            return self._commit(_key(current), current, new, managers, dry_run), False

    def _resolve_conflicts(self, rtype, current, managers, manager, applied, force):
        conflicts = {}
        for (other, operation, _), entry in managers.items():
            if other == manager:
                continue
            for owned in sorted(entry["fields"]):
                for path, value in applied.items():
                    if d.related(path, owned) and _conflicts(
                        current, path, value, owned
                    ):
                        who = f'"{other}"' + (
                            f" using {entry['apiVersion']}"
                            if operation == "Update"
                            else ""
                        )
                        conflicts.setdefault(who, set()).add(owned)
                        if force:
                            entry["fields"].discard(owned)
                        break
        if conflicts and not force:
            raise _apply_conflict(rtype, current["metadata"]["name"], conflicts)

    def delete(self, rtype, namespace, name, dry_run=False, preconditions=None):
        with self.lock:
            current = self._require(rtype, namespace, name)
            if rtype == NAMESPACE and name == "default":
                raise d.KubeStatusError(
                    403,
                    "Forbidden",
                    'namespaces "default" is forbidden: '
                    "this namespace may not be deleted",
                    {"name": name, "kind": "namespaces"},
                )
            for field_name in ("uid", "resourceVersion"):
                wanted = (preconditions or {}).get(field_name)
                if wanted and wanted != current["metadata"][field_name]:
                    raise d.conflict(
                        rtype,
                        name,
                        f"Precondition failed: {field_name} in precondition: {wanted}, "
                        f"{field_name} in object meta: "
                        f"{current['metadata'][field_name]}",
                    )
            if rtype == NAMESPACE:
                result = copy.deepcopy(current)
                result["metadata"]["deletionTimestamp"] = now()
                result["status"] = {"phase": "Terminating"}
            else:
                result = {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "metadata": {},
                    "status": "Success",
                    "details": {
                        "name": name,
                        "group": rtype.group,
                        "kind": rtype.plural,
                        "uid": current["metadata"]["uid"],
                    },
                }
            if not dry_run:
                self._remove(_key(current))
                if rtype == NAMESPACE:
                    for key in [k for k in self._objects if k[1] == name]:
                        self._remove(key)
            return result

    def delete_collection(
        self, rtype, namespace, label_selector=None, field_selector=None, dry_run=False
    ):
        with self.lock:
            doc = self.list(rtype, namespace, label_selector, field_selector)
            if not dry_run:
                for item in doc["items"]:
                    self._remove(
                        (
                            rtype,
                            item["metadata"].get("namespace"),
                            item["metadata"]["name"],
                        )
                    )
            return doc

    def _remove(self, key):
        if self._objects.pop(key, None) is not None:
            self._sorted.pop(key[0], None)
        self._managers.pop(key, None)
        if key[0].kind == "Pod":
            for log_key in [k for k in self._logs if k[:2] == key[1:]]:
                del self._logs[log_key]
        self._rv += 1

    def controller_update(self, kind, name, namespace, mutate):
        """Let a controller change an object's status: ``mutate(obj)`` edits a copy."""
        rtype = find_kind(kind)
        if rtype is None:
            raise ValueError(f"unknown kind {kind!r}")
        with self.lock:
            current = self._objects.get(
                (rtype, namespace if rtype.namespaced else None, name)
            )
            if current is None:
                raise KeyError(f"{kind} {namespace}/{name} does not exist")
            new = copy.deepcopy(current)
            mutate(new)
            managers = copy.deepcopy(self._managers[_key(current)])
            _record_update(managers, CONTROLLER, rtype, "status", current, new)
            return self._commit(_key(current), current, new, managers, False)

    # --- pods and their logs -----------------------------------------------------

    def update_pod(self, name, namespace, mutate):
        """Let the kubelet change a pod's status; phase and conditions follow.

        ``mutate(pod)`` edits a copy; a container that is ``running`` after
        it and was not before (or was restarted: its ``restartCount`` grew)
        starts a new log run.
        """

        def kubelet(obj):
            before = _running(obj)
            old = copy.deepcopy(obj)
            mutate(obj)
            for container, _restarts in _running(obj) - before:
                self._logs.setdefault((namespace, name, container), []).append([])
            pods.derive_pod_status(old, obj)

        with self.lock:
            return self.controller_update("Pod", name, namespace, kubelet)

    def start_log_runs(self, name, namespace):
        """A first (empty) log run of each running container of a new pod."""
        with self.lock:
            pod = self._require(_pod_type(), namespace, name)
            for container, _restarts in _running(pod):
                self._logs.setdefault((namespace, name, container), []).append([])

    def add_log(self, name, namespace, container, lines, at):
        """Append ``lines`` to the current run of a container (a run is made)."""
        with self.lock:
            pod = self._require(_pod_type(), namespace, name)
            container = container or _default_container(pod)
            runs = self._logs.setdefault((namespace, name, container), [])
            if not runs:
                runs.append([])
            runs[-1].extend((at, line) for line in lines)

    def read_log(self, namespace, name, query):
        """The text of ``GET .../pods/<name>/log`` for ``query``."""
        options = pods.log_options(query)
        with self.lock:
            pod = self._require(_pod_type(), namespace, name)
            container = options["container"] or _default_container(pod)
            mains, inits = pods.container_names(pod)
            if container not in mains + inits:
                raise d.bad_request(
                    f"container {container} is not valid for pod {name}"
                )
            runs = self._logs.get((namespace, name, container)) or []
            if options["previous"]:
                if len(runs) < 2:
                    raise d.bad_request(
                        f'previous terminated container "{container}" in pod '
                        f'"{name}" not found'
                    )
                lines = runs[-2]
            elif runs:
                lines = runs[-1]
            else:  # never ran here: finished before any line, or still waiting
                statuses, index = pods.find_container_status(pod, container)
                state = statuses[index]["state"] if statuses else {}
                if "waiting" in state or not state:
                    reason = state.get("waiting", {}).get("reason", "ContainerCreating")
                    raise d.bad_request(
                        f'container "{container}" in pod "{name}" is waiting to '
                        f"start: {reason}"
                    )
                lines = []
            return pods.select_log(list(lines), options)

    # --- shared write steps ------------------------------------------------------

    def _prepare(self, rtype, namespace, body, url_name):
        """Check a request body against the URL and strip server-owned metadata."""
        if not isinstance(body, dict):
            raise d.bad_request("the request body must be a JSON object")
        obj = copy.deepcopy(body)
        api_version = obj.setdefault("apiVersion", rtype.api_version)
        kind = obj.setdefault("kind", rtype.kind)
        if (api_version, kind) != (rtype.api_version, rtype.kind):
            raise d.bad_request(
                f"the object provided is unrecognized: {api_version}/{kind} does "
                f"not match the expected {rtype.api_version}/{rtype.kind}"
            )
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise d.bad_request("metadata must be a JSON object")
        if rtype.namespaced:
            if meta.get("namespace") not in (None, "", namespace):
                raise d.bad_request(
                    "the namespace of the provided object does not match the "
                    "namespace sent on the request"
                )
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        if url_name is not None:
            if meta.get("name") not in (None, url_name):
                raise d.bad_request(
                    f"the name of the object ({meta['name']}) does not match "
                    f"the name on the URL ({url_name})"
                )
            meta["name"] = url_name
        if rtype.kind == "Secret":
            normalize_secret(obj)
        for key in SERVER_METADATA:
            meta.pop(key, None)
        return obj

    def _default(self, rtype, obj, old):
        """Server-side defaults of the kinds we serve."""
        spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else None
        if rtype.kind in ("Deployment", "StatefulSet"):
            obj.setdefault("spec", {}).setdefault("replicas", 1)
        elif rtype.kind == "Secret":
            normalize_secret(obj)
            obj.setdefault("type", "Opaque")
        elif rtype.kind == "Namespace":
            obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = (
                obj["metadata"]["name"]
            )
        elif rtype.kind == "Job" and spec is not None:
            for key, value in (
                ("backoffLimit", 6),
                ("completions", 1),
                ("parallelism", 1),
            ):
                spec.setdefault(key, value)
        elif rtype.kind == "Service":
            self._default_service(
                obj.setdefault("spec", {}), (old or {}).get("spec", {})
            )

    def _default_service(self, spec, old_spec):
        spec.setdefault("type", "ClusterIP")
        if spec["type"] != "ExternalName":
            if not spec.get("clusterIP"):
                spec["clusterIP"] = old_spec.get("clusterIP") or self._allocate_ip()
            spec["clusterIPs"] = [spec["clusterIP"]]
        for port in spec.get("ports") or []:
            port.setdefault("protocol", "TCP")
            port.setdefault("targetPort", port.get("port"))

    def _allocate_ip(self):
        self._next_ip += 1
        return f"10.96.{self._next_ip // 250}.{self._next_ip % 250 + 1}"

    def _commit(self, key, old, new, managers, dry_run):
        """Store ``new`` (unless dry run or unchanged) and return a copy of it."""
        _prune(managers, new)
        if old is not None:
            if _comparable(old) == _comparable(new) and _field_sets(
                managers
            ) == _field_sets(self._managers[key]):
                return copy.deepcopy(old)
            if _content(old) != _content(new):
                new["metadata"]["generation"] = old["metadata"].get("generation", 1) + 1
        new["metadata"]["managedFields"] = _render(managers)
        new["metadata"].pop("resourceVersion", None)
        if not dry_run:
            self._rv += 1
            new["metadata"]["resourceVersion"] = str(self._rv)
            if key not in self._objects:
                self._sorted.pop(key[0], None)
            self._objects[key] = new
            self._managers[key] = managers
        return copy.deepcopy(new)


# --- field ownership ------------------------------------------------------------


def _pod_type():
    return find_kind("Pod")


def _running(pod):
    """(name, restartCount) of the containers and init containers running."""
    status = pod.get("status") or {}
    return {
        (entry["name"], entry.get("restartCount", 0))
        for key in ("containerStatuses", "initContainerStatuses")
        for entry in status.get(key) or []
        if "running" in (entry.get("state") or {})
    }


def _default_container(pod):
    """The container a log request without ``container`` reads, or a 400."""
    mains, inits = pods.container_names(pod)
    if len(mains) == 1:
        return mains[0]
    name = pod["metadata"]["name"]
    message = (
        f"a container name must be specified for pod {name}, choose one of: "
        f"[{' '.join(mains)}]"
    )
    if inits:
        message += f" or one of the init containers: [{' '.join(inits)}]"
    raise d.bad_request(message)


def _key(obj):
    rtype = find_by_kind(obj["apiVersion"], obj["kind"])
    return (rtype, obj["metadata"].get("namespace"), obj["metadata"]["name"])


def _plural(rtype):
    return f"{rtype.plural}.{rtype.group}" if rtype.group else rtype.plural


def _record_update(managers, manager, rtype, scope, old, new):
    """An Update operation takes the fields it changed away from everybody else."""
    old_leaves = d.leaves(old, scope) if old else {}
    changed = {
        p for p, v in d.leaves(new, scope).items() if old_leaves.get(p, d.MISSING) != v
    }
    if not changed:
        return
    for entry in managers.values():
        entry["fields"] -= changed
    key = (manager or "unknown", "Update", "status" if scope == "status" else "")
    entry = managers.setdefault(key, {"fields": set()})
    entry.update(
        fields=entry["fields"] | changed, time=now(), apiVersion=rtype.api_version
    )


def _prune(managers, obj):
    """Forget owned paths that are no longer leaves of ``obj``, then empty managers."""
    present = set(d.leaves(obj, "main")) | set(d.leaves(obj, "status"))
    for key in list(managers):
        managers[key]["fields"] &= present
        if not managers[key]["fields"]:
            del managers[key]


def _field_sets(managers):
    return {k: e["fields"] for k, e in managers.items()}


def _render(managers):
    entries = []
    for (manager, operation, subresource), entry in managers.items():
        item = {
            "manager": manager,
            "operation": operation,
            "apiVersion": entry["apiVersion"],
            "time": entry["time"],
            "fieldsType": "FieldsV1",
            "fieldsV1": d.fields_v1(entry["fields"]),
        }
        if subresource:
            item["subresource"] = subresource
        entries.append(item)
    return entries


def _conflicts(current, path, value, owned):
    """Whether applying ``value`` at ``path`` changes another's ``owned`` field."""
    if path == owned:
        return d.get_path(current, path) != value
    if len(path) < len(owned):  # ``owned`` lies inside the applied value
        return value != {}  # an empty map merges; anything else replaces the subtree
    return not isinstance(d.get_path(current, owned), dict)


def _apply_conflict(rtype, name, conflicts):
    count = sum(len(paths) for paths in conflicts.values())
    causes = [
        {
            "reason": "FieldManagerConflict",
            "message": f"conflict with {who}",
            "field": d.dotted(p),
        }
        for who, paths in conflicts.items()
        for p in sorted(paths)
    ]
    if count == 1:
        cause = causes[0]
        text = f"Apply failed with 1 conflict: {cause['message']}: {cause['field']}"
    else:
        text = f"Apply failed with {count} conflicts: " + "\n".join(
            f"conflicts with {who}:\n"
            + "\n".join(f"- {d.dotted(p)}" for p in sorted(paths))
            for who, paths in conflicts.items()
        )
    return d.KubeStatusError(
        409,
        "Conflict",
        text,
        {"name": name, "group": rtype.group, "kind": rtype.plural, "causes": causes},
    )


def _set_path(obj, path, value):
    """Set an applied leaf; an applied empty map keeps an existing map's keys."""
    node = obj
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    if not (value == {} and isinstance(node.get(path[-1]), dict)):
        node[path[-1]] = copy.deepcopy(value)


def _check_resource_version(rtype, current, body):
    """409 when the body names a resourceVersion that is no longer current."""
    wanted = (body.get("metadata") or {}).get("resourceVersion")
    if wanted and wanted != current["metadata"]["resourceVersion"]:
        raise d.conflict(
            rtype,
            current["metadata"]["name"],
            "the object has been modified; please apply your changes to the latest "
            "version and try again",
        )


def _decode_token(token):
    if not token:
        return 0
    try:
        return int(base64.b64decode(token).decode())
    except ValueError:
        raise d.bad_request("invalid continue token") from None
