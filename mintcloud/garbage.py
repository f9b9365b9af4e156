"""Garbage collection: objects of an app its inventory does not know.

A deployment prunes from the app's inventory (:func:`mintcloud.apply.apply_app`),
so an object the inventory missed — left by a run that failed half-way, or
created by hand with the app's label — is never pruned.  :func:`find_garbage`
finds them for a whole cluster with one label-selected, paged LIST per kind
(never one request per app); :func:`delete_garbage` deletes a list of them.
The caller reports what it found before it deletes (the addon deletes an
object only when two runs in a row found it, so a deployment that is still
applying never loses an object it just created).

Only apps with an inventory are judged: an app without one (never deployed
with inventories, or unknown to the caller) keeps everything.  Objects that
carry the retain label (a final backup's claim) or belong to a controller
(a CronJob's Jobs) are never garbage.
"""

from mintcloud.apply import APP_LABEL, DEFAULT_PRUNE_KINDS, RETAIN_LABEL, _delete
from mintcloud.errors import KubePermanentError
from mintcloud.kube import dynamic_client, resource_for
from mintcloud.status import PAGE_SIZE, list_labelled

#: Kinds a garbage collection lists (one paged LIST each per cluster).
GC_KINDS = DEFAULT_PRUNE_KINDS


def _get(obj, *path):
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def find_garbage(api_client, inventories, kinds=GC_KINDS, page_size=PAGE_SIZE):
    """The labelled objects of ``inventories``' apps that are not in them.

    ``inventories`` is ``{app name: inventory}`` (a list as
    :meth:`mintcloud.apply.ApplyResult.inventory` makes it; None: judge
    nothing of that app).  Returns ``[{app, apiVersion, kind, namespace,
    name, uid}]`` sorted by app, kind and name.
    """
    known = {
        app: {entry.get("uid") for entry in inventory or () if entry.get("uid")}
        for app, inventory in inventories.items()
        if inventory is not None
    }
    api_versions = dict((kind, api_version) for api_version, kind in kinds)
    garbage = []
    for obj in list_labelled(api_client, list(api_versions), page_size=page_size):
        meta = obj.get("metadata") or {}
        labels = meta.get("labels") or {}
        app = labels.get(APP_LABEL)
        if app not in known or meta.get("uid") in known[app]:
            continue
        if labels.get(RETAIN_LABEL) == "true" or meta.get("deletionTimestamp"):
            continue
        if any(ref.get("controller") for ref in meta.get("ownerReferences") or ()):
            continue
        garbage.append(
            {
                "app": app,
                "apiVersion": obj.get("apiVersion") or api_versions[obj["kind"]],
                "kind": obj["kind"],
                "namespace": meta.get("namespace"),
                "name": meta.get("name"),
                "uid": meta.get("uid"),
            }
        )
    return sorted(garbage, key=lambda g: (g["app"], g["kind"], g["name"]))


def delete_garbage(api_client, garbage):
    """Delete the objects ``garbage`` lists: ``[ObjectResult]`` (pruned or failed)."""
    dyn = dynamic_client(api_client)
    results = []
    for item in garbage:
        try:
            resource = resource_for(dyn, item["apiVersion"], item["kind"])
        except KubePermanentError:
            continue
        meta = {"name": item["name"], "namespace": item["namespace"]}
        results.append(_delete(resource, item["kind"], item["apiVersion"], meta, False))
    return results
