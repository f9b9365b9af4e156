"""Garbage collection: objects of an app its inventory does not know.

A deployment prunes from the app's inventory (:func:`mintcloud.apply.apply_app`),
so an object the inventory missed — left by a run that failed half-way, or
created by hand with the app's label — is never pruned.  :func:`find_garbage`
finds them for a whole cluster with one label-selected, paged LIST per kind
(never one request per app); :func:`delete_garbage` deletes a list of them.
The caller reports what it found before it deletes (the addon deletes an
object only when two runs in a row found it, so a deployment that is still
applying never loses an object it just created).  Jobs are never listed
(:data:`GC_KINDS`): reset, backup and upgrade Jobs are in no inventory.

Only apps with an inventory are judged: an app without one (never deployed
with inventories, or unknown to the caller) keeps everything.  Objects that
carry the retain label (a final backup's claim) or belong to a controller
(a CronJob's Jobs) are never garbage.
"""

from mintcloud.apply import APP_LABEL, _delete, prunable
from mintcloud.appstate import DEPLOY_PRUNE_KINDS
from mintcloud.errors import KubePermanentError
from mintcloud.kube import dynamic_client, resource_for
from mintcloud.status import PAGE_SIZE, list_labelled

#: Kinds a garbage collection lists (one paged LIST each per cluster): the
#: kinds a deployment prunes, so no Jobs.  Reset, backup and upgrade runs
#: write no inventory, so their Jobs (running or done) are in none; a
#: deployment never prunes them either.
GC_KINDS = DEPLOY_PRUNE_KINDS


def find_garbage(api_client, inventories, kinds=GC_KINDS, page_size=PAGE_SIZE):
    """The labelled objects of ``inventories``' apps that are not in them.

    ``inventories`` is ``{app name: inventory}`` (a list as
    :meth:`mintcloud.apply.ApplyResult.inventory` makes it; None: judge
    nothing of that app).  ``kinds`` are ``(apiVersion, kind)`` pairs, each
    listed at its apiVersion (a custom resource too).  Objects
    :func:`mintcloud.apply.prunable` refuses are never garbage.  Returns
    ``[{app, apiVersion, kind, namespace, name, uid}]`` sorted by app, kind
    and name.
    """
    known = {
        app: {entry.get("uid") for entry in inventory or () if entry.get("uid")}
        for app, inventory in inventories.items()
        if inventory is not None
    }
    garbage = []
    for obj in list_labelled(api_client, list(kinds), page_size=page_size):
        meta = obj.get("metadata") or {}
        app = (meta.get("labels") or {}).get(APP_LABEL)
        if app not in known or meta.get("uid") in known[app] or not prunable(obj):
            continue
        garbage.append(
            {
                "app": app,
                "apiVersion": obj["apiVersion"],
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
