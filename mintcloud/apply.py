"""Apply the rendered documents of one app with server-side apply, then prune.

An app owns every object carrying the label ``APP_LABEL=<app name>``.
:func:`apply_app` applies the documents in manifest order under the field
manager ``mint-cloud`` and then deletes the labelled objects of the app that
are no longer rendered.  Objects of other apps sharing the namespace (prod
``acme`` and int ``acme-int`` both live in ``acme``) carry another label
value and are never touched.  Nothing leaves the app's namespace: before the
first write every document is checked against the scopes the server reports
(:func:`mintcloud.tenancy.scope_problems`), and prune lists and deletes only
in that namespace, by the app's label.

Error policy: a transient fault (connection, timeout, 429, 5xx) aborts the
run by raising :class:`~mintcloud.errors.KubeTransientError`; the caller
retries the whole run, which is idempotent.  A permanent error on one object
(conflict, invalid, forbidden, unknown kind) is recorded as ``failed`` and
the run goes on with the other objects, but then nothing is pruned.
"""

import copy
from collections import Counter
from dataclasses import dataclass, field

from mintcloud.errors import KubePermanentError
from mintcloud.kube import (
    call,
    describe,
    dynamic_client,
    get_object,
    read_json,
    resource_for,
)
from mintcloud.tenancy import TenancyError, _group, scope_problems

APP_LABEL = "mint-cloud.ch/app"
#: An object with this label set to "true" outlives its app: prune and
#: termination leave it alone (the final backup's volume claim).
RETAIN_LABEL = "mint-cloud.ch/retain"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "mint-cloud"
FIELD_MANAGER = "mint-cloud"

ACTIONS = ("created", "configured", "unchanged", "pruned", "failed")

# Kinds pruned by default (the kinds of the demo manifests), with apiVersion.
DEFAULT_PRUNE_KINDS = (
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("v1", "Service"),
    ("v1", "PersistentVolumeClaim"),
    ("v1", "ServiceAccount"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("batch/v1", "Job"),
    ("batch/v1", "CronJob"),
    ("networking.k8s.io/v1", "Ingress"),
)
_DEFAULT_API_VERSIONS = {kind: api_version for api_version, kind in DEFAULT_PRUNE_KINDS}

# Where the pod template (and the CronJob's job template) sits, per kind.
TEMPLATE_PATHS = {
    "Deployment": (("spec", "template"),),
    "StatefulSet": (("spec", "template"),),
    "Job": (("spec", "template"),),
    "CronJob": (("spec", "jobTemplate"), ("spec", "jobTemplate", "spec", "template")),
}


@dataclass
class ObjectResult:
    """What happened to one object (``uid``/``resource_version``: the server's
    answer, for the app's inventory)."""

    kind: str
    name: str
    namespace: str = None
    api_version: str = None
    action: str = "unchanged"
    message: str = None
    uid: str = None
    resource_version: str = None


@dataclass
class ApplyResult:
    """All object results of one run, in the order they happened."""

    objects: list = field(default_factory=list)
    dry_run: bool = False
    prune_skipped: bool = False

    @property
    def ok(self):
        return not any(o.action == "failed" for o in self.objects)

    @property
    def errors(self):
        """The messages of the failed objects."""
        return [o.message for o in self.objects if o.action == "failed"]

    def counts(self):
        """``{action: number of objects}`` for the actions that occurred."""
        return dict(Counter(o.action for o in self.objects))

    def inventory(self):
        """The app's inventory after this run: the objects that are there now.

        ``[{apiVersion, kind, namespace, name, uid, resourceVersion}]`` of the
        applied objects (the namespace first), in apply order: what the next
        run is compared to (:func:`apply_app`'s ``inventory``) and prunes
        from.  Only a successful, real run makes an inventory.
        """
        return [
            {
                "apiVersion": o.api_version,
                "kind": o.kind,
                "namespace": o.namespace,
                "name": o.name,
                "uid": o.uid,
                "resourceVersion": o.resource_version,
            }
            for o in self.objects
            if o.action in ("created", "configured", "unchanged") and o.uid
        ]


def inventory_key(api_version, kind, namespace, name):
    """``(group, kind, namespace, name)``: an object's identity in an inventory."""
    return (_group(api_version), kind, namespace, name)


def index_inventory(inventory):
    """``{inventory_key: entry}`` of an inventory (a list, see
    :meth:`ApplyResult.inventory`); None stays None."""
    if inventory is None:
        return None
    return {
        inventory_key(
            e.get("apiVersion"), e.get("kind"), e.get("namespace"), e.get("name")
        ): e
        for e in inventory
        if e.get("kind") and e.get("name")
    }


# --- pure ---------------------------------------------------------------------


def _add_labels(meta_holder, labels):
    metadata = meta_holder.get("metadata") or {}
    meta_holder["metadata"] = metadata
    metadata["labels"] = {**(metadata.get("labels") or {}), **labels}


def _at(obj, path):
    for key in path:
        if not isinstance(obj, dict) or not isinstance(obj.get(key), dict):
            return None
        obj = obj[key]
    return obj


def label_documents(docs, app_name):
    """Deep copies of ``docs`` labelled as belonging to ``app_name``.

    Every document gets ``APP_LABEL`` and ``MANAGED_BY_LABEL`` in
    ``metadata.labels``; pod templates of Deployments, StatefulSets, Jobs and
    CronJobs (and a CronJob's job template) get them too.  Selectors are left
    alone: they are immutable.
    """
    labels = {APP_LABEL: app_name, MANAGED_BY_LABEL: MANAGED_BY}
    labelled = []
    for doc in docs:
        if not doc:
            continue
        doc = copy.deepcopy(doc)
        _add_labels(doc, labels)
        for path in TEMPLATE_PATHS.get(doc.get("kind"), ()):
            template = _at(doc, path)
            if template is not None:
                _add_labels(template, labels)
        labelled.append(doc)
    return labelled


def _comparable(obj):
    """The object without what changes on writes that are not ours.

    Drops ``managedFields``, ``resourceVersion``, ``generation`` and
    ``status`` (a controller may write the status between our read and our
    apply).
    """
    obj = copy.deepcopy(obj or {})
    obj.pop("status", None)
    for key in ("managedFields", "resourceVersion", "generation"):
        obj.get("metadata", {}).pop(key, None)
    return obj


def _prune_kinds(prune_kinds, docs):
    """``[(api_version, kind)]``: the prune set plus the rendered kinds, no duplicates.

    ``prune_kinds`` items are ``(api_version, kind)`` pairs or names of the
    default kinds; None means :data:`DEFAULT_PRUNE_KINDS`.
    """
    wanted = []
    for item in DEFAULT_PRUNE_KINDS if prune_kinds is None else prune_kinds:
        if isinstance(item, str):
            if item not in _DEFAULT_API_VERSIONS:
                raise ValueError(
                    f"prune kind {item!r} needs an apiVersion: pass (apiVersion, kind)"
                )
            item = (_DEFAULT_API_VERSIONS[item], item)
        wanted.append(tuple(item))
    wanted += [
        (d["apiVersion"], d["kind"])
        for d in docs
        if d.get("apiVersion") and d.get("kind")
    ]
    seen, result = set(), []
    for api_version, kind in wanted:
        if (_group(api_version), kind) not in seen:
            seen.add((_group(api_version), kind))
            result.append((api_version, kind))
    return result


# --- apply --------------------------------------------------------------------


def apply_app(
    api_client,
    app_name,
    namespace,
    docs,
    dry_run=False,
    prune=True,
    prune_kinds=None,
    inventory=None,
):
    """Apply ``docs`` as app ``app_name`` into ``namespace``: an :class:`ApplyResult`.

    Creates the namespace when missing, applies the documents in order with
    server-side apply (no forced conflicts), then prunes the app's labelled
    objects that were not rendered, unless something failed.  ``dry_run``
    asks the server to check everything (``dryRun=All``) and reports what
    would be pruned without deleting.  Raises ``KubeTransientError`` on a
    transient fault, and :class:`~mintcloud.tenancy.TenancyError` before
    writing anything when a document is cluster-scoped (but the app's own
    Namespace) or names another namespace, by the scopes the server reports.

    ``inventory`` is the app's inventory after its last successful run
    (:meth:`ApplyResult.inventory`).  With it, a run sends one server-side
    apply per object plus the namespace's GET and nothing else: whether an
    object was created, configured or left unchanged comes from comparing
    the server's answer with the inventory (uid, resourceVersion), and prune
    deletes what the inventory holds and is no longer rendered, without a
    LIST.  Without it (the first run, a dry run), each object is read before
    it is applied and prune lists every kind of ``prune_kinds``.
    """
    dyn = dynamic_client(api_client)
    docs = label_documents(docs, app_name)
    refused = scope_problems(docs, namespace, lambda doc: _namespaced(dyn, doc))
    if refused:
        raise TenancyError(refused)
    recorded = None if dry_run else index_inventory(inventory)
    result = ApplyResult(dry_run=dry_run)
    ns_result = _ensure_namespace(dyn, namespace, dry_run)
    result.objects.append(ns_result)
    if ns_result.action == "failed":
        result.prune_skipped = prune
        return result
    # In a dry run a missing namespace is not created, so the server cannot
    # check the objects that would go into it.
    ns_missing = dry_run and ns_result.action == "created"
    rendered = set()
    for doc in docs:
        obj_result = _apply_one(dyn, doc, namespace, dry_run, ns_missing, recorded)
        result.objects.append(obj_result)
        rendered.add(
            inventory_key(
                obj_result.api_version,
                obj_result.kind,
                obj_result.namespace,
                obj_result.name,
            )
        )
    if prune and not result.ok:
        result.prune_skipped = True
    elif prune and not ns_missing and recorded is not None:
        result.objects += _prune_inventory(dyn, namespace, recorded, rendered)
    elif prune and not ns_missing:
        kinds = _prune_kinds(prune_kinds, docs)
        result.objects += _prune(dyn, app_name, namespace, kinds, rendered, dry_run)
    return result


def _namespaced(dyn, doc):
    """The server's scope of ``doc``'s kind; unknown kinds fail when applied."""
    try:
        return resource_for(dyn, doc.get("apiVersion"), doc.get("kind")).namespaced
    except KubePermanentError:
        return True


def delete_app(api_client, app_name, namespace, kinds=None, dry_run=False):
    """Delete every object of the app in ``namespace`` (termination).

    Lists ``kinds`` (default :data:`DEFAULT_PRUNE_KINDS`) with the app's
    label and deletes the objects in the background, but those labelled
    :data:`RETAIN_LABEL`; the namespace itself stays (the other app of the
    customer shares it: :func:`delete_namespace`).  Returns an
    :class:`ApplyResult` whose objects are ``pruned`` (or ``failed``).
    """
    dyn = dynamic_client(api_client)
    result = ApplyResult(dry_run=dry_run)
    result.objects = _prune(
        dyn, app_name, namespace, _prune_kinds(kinds, []), set(), dry_run
    )
    return result


def delete_namespace(api_client, namespace):
    """Delete ``namespace`` and so everything left in it; True when it existed.

    Only for a namespace whose apps are all terminated.  A 404 is fine.
    """
    dyn = dynamic_client(api_client)
    resource = resource_for(dyn, "v1", "Namespace")
    try:
        read_json(
            call(
                describe("Namespace", namespace),
                resource.delete,
                name=namespace,
                propagation_policy="Background",
                serialize=False,
            )
        )
    except KubePermanentError as err:
        if err.status == 404:
            return False
        raise
    return True


def _ensure_namespace(dyn, namespace, dry_run):
    """Create the namespace when missing, labelled as managed by Mint Cloud."""

    def res(action, message=None, obj=None):
        meta = (obj or {}).get("metadata") or {}
        return ObjectResult(
            "Namespace",
            namespace,
            None,
            "v1",
            action,
            message,
            None if dry_run else meta.get("uid"),
            None if dry_run else meta.get("resourceVersion"),
        )

    try:
        resource = resource_for(dyn, "v1", "Namespace")
        existing = get_object(dyn, resource, namespace)
        if existing is not None:
            return res("unchanged", obj=existing)
        # Read the answer: an unread raw response costs the pooled connection.
        created = read_json(
            call(
                describe("Namespace", namespace),
                resource.create,
                body=_namespace_body(namespace),
                dry_run="All" if dry_run else None,
                serialize=False,
            )
        )
    except KubePermanentError as err:
        if err.status == 409 and err.reason == "AlreadyExists":
            return res("unchanged")  # created by someone else meanwhile
        return res("failed", err.message)
    return res("created", "dry run" if dry_run else None, created)


def _namespace_body(namespace):
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": namespace, "labels": {MANAGED_BY_LABEL: MANAGED_BY}},
    }


def _recorded_action(res, before, after):
    """``res`` with the action from the inventory entry ``before`` and the
    server's answer ``after``: created (not recorded, or another uid: made
    again), unchanged (same resourceVersion) or configured."""
    meta = after.get("metadata") or {}
    res.uid, res.resource_version = meta.get("uid"), meta.get("resourceVersion")
    if not before or before.get("uid") != res.uid:
        res.action = "created"
    elif before.get("resourceVersion") == res.resource_version:
        res.action = "unchanged"
    else:
        res.action = "configured"
    return res


def _apply_one(dyn, doc, namespace, dry_run, ns_missing, recorded=None):
    """Server-side apply one document; returns its :class:`ObjectResult`.

    With ``recorded`` (an indexed inventory) the object is not read first."""
    api_version, kind = doc.get("apiVersion"), doc.get("kind")
    metadata = doc["metadata"]
    name = metadata.get("name")
    res = ObjectResult(kind, name, metadata.get("namespace"), api_version)
    if not (api_version and kind and name):
        res.action = "failed"
        what = f"{kind or 'document'} {name or ''}"
        res.message = f"{what}: apiVersion, kind and metadata.name are required"
        return res
    try:
        resource = resource_for(dyn, api_version, kind)
        if resource.namespaced:
            res.namespace = metadata.setdefault("namespace", namespace)
        else:
            metadata.pop("namespace", None)
            res.namespace = None
        if ns_missing and res.namespace == namespace:
            res.action = "created"
            res.message = (
                "dry run: namespace does not exist yet, not checked by the server"
            )
            return res
        if recorded is not None:
            after = _server_side_apply(dyn, resource, doc, res.namespace, dry_run)
            key = inventory_key(api_version, kind, res.namespace, name)
            return _recorded_action(res, recorded.get(key), after)
        before = get_object(dyn, resource, name, res.namespace)
        after = _server_side_apply(dyn, resource, doc, res.namespace, dry_run)
    except KubePermanentError as err:
        res.action = "failed"
        res.message = err.message
        return res
    meta = after.get("metadata") or {}
    res.uid, res.resource_version = meta.get("uid"), meta.get("resourceVersion")
    res.action = _action(before, after, dry_run)
    if dry_run:
        res.message = "dry run"
    return res


def _server_side_apply(dyn, resource, doc, namespace, dry_run):
    """PATCH with ``application/apply-patch+yaml``; returns the server's object.

    ``force`` is left out, so it is false: a field owned by another manager
    is a 409 conflict, never silently taken over.
    """
    what = describe(doc["kind"], doc["metadata"]["name"], namespace)
    resp = call(
        what,
        resource.server_side_apply,
        body=doc,
        namespace=namespace,
        field_manager=FIELD_MANAGER,
        dry_run="All" if dry_run else None,
        serialize=False,
    )
    return read_json(resp)


def _action(before, after, dry_run):
    """created / unchanged / configured, from the object before and after apply.

    Unchanged when the server did not write (same resourceVersion) or when
    the only difference is not ours (status, field ownership).  A dry run
    answers with the old resourceVersion even for a change: only the
    content counts then.
    """
    if before is None:
        return "created"
    same_version = before["metadata"].get("resourceVersion") == after["metadata"].get(
        "resourceVersion"
    )
    if (same_version and not dry_run) or _comparable(before) == _comparable(after):
        return "unchanged"
    return "configured"


# --- prune --------------------------------------------------------------------


def prunable(obj):
    """True when a listed labelled object of an app may be deleted as unwanted.

    Never objects labelled :data:`RETAIN_LABEL` (a final backup's claim),
    objects already being deleted, or objects made by a controller (a
    CronJob's Jobs: the owner prunes them).  Used by :func:`_prune` and by
    the garbage collection (:func:`mintcloud.garbage.find_garbage`).
    """
    meta = obj.get("metadata") or {}
    if (meta.get("labels") or {}).get(RETAIN_LABEL) == "true":
        return False
    if meta.get("deletionTimestamp"):
        return False
    refs = meta.get("ownerReferences") or ()
    return not any(ref.get("controller") for ref in refs)


def _prune(dyn, app_name, namespace, kinds, keep, dry_run):
    """Delete the app's labelled objects of ``kinds`` in ``namespace`` not in ``keep``.

    ``keep`` holds ``(group, kind, namespace, name)`` of the rendered
    objects.  One LIST per kind; kinds the server does not serve are skipped.
    """
    selector = f"{APP_LABEL}={app_name},{RETAIN_LABEL}!=true"
    results = []
    for api_version, kind in kinds:
        res = ObjectResult(kind, None, namespace, api_version)
        try:
            resource = resource_for(dyn, api_version, kind)
            if not resource.namespaced:
                continue
            listed = call(
                f"list {kind} in {namespace}",
                resource.get,
                namespace=namespace,
                label_selector=selector,
                serialize=False,
            )
        except KubePermanentError as err:
            if err.reason == "UnknownKind":
                continue
            res.action, res.message = "failed", err.message
            results.append(res)
            continue
        for item in read_json(listed).get("items") or []:
            meta = item.get("metadata", {})
            key = (resource.group or "", kind, meta.get("namespace"), meta.get("name"))
            if key in keep or not prunable(item):
                continue
            results.append(_delete(resource, kind, api_version, meta, dry_run))
    return results


def _prune_inventory(dyn, namespace, recorded, keep):
    """Delete what the inventory holds in ``namespace`` and is not in ``keep``.

    No LIST: the inventory of the last successful run says what the app
    had.  Objects the inventory missed (a failed run's) are found by the
    cluster-wide garbage collection (:func:`mintcloud.garbage.find_garbage`).
    """
    results = []
    for key, entry in recorded.items():
        group, kind, obj_namespace, name = key
        if key in keep or kind == "Namespace" or obj_namespace != namespace:
            continue
        try:
            resource = resource_for(dyn, entry.get("apiVersion"), kind)
        except KubePermanentError as err:
            if err.reason == "UnknownKind":
                continue
            results.append(
                ObjectResult(
                    kind,
                    name,
                    namespace,
                    entry.get("apiVersion"),
                    "failed",
                    err.message,
                )
            )
            continue
        meta = {"name": name, "namespace": namespace}
        results.append(_delete(resource, kind, entry.get("apiVersion"), meta, False))
    return results


def _delete(resource, kind, api_version, meta, dry_run):
    name, namespace = meta.get("name"), meta.get("namespace")
    res = ObjectResult(kind, name, namespace, api_version, "pruned")
    if dry_run:
        res.message = "dry run: would be deleted"
        return res
    try:
        read_json(
            call(
                describe(kind, name, namespace),
                resource.delete,
                name=name,
                namespace=namespace,
                propagation_policy="Background",
                serialize=False,
            )
        )
    except KubePermanentError as err:
        if err.status != 404:  # already gone: fine
            res.action, res.message = "failed", err.message
    return res
