"""What an app record shows, from an apply result or a status report.

Pure functions between the core's results (:class:`~mintcloud.apply.ApplyResult`,
:class:`~mintcloud.status.AppStatus`) and the plain values an app or a
deployment record stores: the app state, the live status fields, the
per-object result rows, a one-line summary, and the reset Job's progress.
Messages pass through :func:`~mintcloud.redact.redact_text`, so a secret an
API error might echo never reaches a record.
"""

import time

from mintcloud.apply import DEFAULT_PRUNE_KINDS
from mintcloud.redact import redact_text

#: States an app record can be in.
APP_STATES = (
    "draft",
    "queued",
    "deploying",
    "running",
    "degraded",
    "error",
    "dry-run",
    "suspended",
    "terminated",
)

#: States a status report does not change: nothing is deployed yet (draft),
#: a deployment is waiting (queued), the last one failed (error: only a
#: successful deployment clears it), the cluster is not connected (dry-run),
#: the app runs no Odoo on purpose (suspended) or is gone (terminated).
STATUS_KEEPS = frozenset(
    {"draft", "queued", "error", "dry-run", "suspended", "terminated"}
)

#: Kinds pruned by a normal deployment: the default kinds but Jobs, so a
#: running reset Job (applied by a reset, not by the deploy manifests) is
#: never deleted by the next Apply.  Jobs rendered by the deploy manifests
#: are still pruned (``apply_app`` adds every rendered kind).
DEPLOY_PRUNE_KINDS = tuple(
    (api_version, kind) for api_version, kind in DEFAULT_PRUNE_KINDS if kind != "Job"
)

_ACTION_ORDER = ("created", "configured", "unchanged", "pruned", "failed")
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def app_state(status_state, current_state, nothing_deployed=False):
    """The app state after a status report.

    ``status_state`` is an :class:`~mintcloud.status.AppStatus` state
    (``running``, ``degraded`` or ``pending``).  States in
    :data:`STATUS_KEEPS` stay.  ``pending`` means the cluster has not
    reported yet (``deploying``), unless ``nothing_deployed`` and the app
    was up before: then its objects are gone (``degraded``).
    """
    if current_state in STATUS_KEEPS:
        return current_state
    if status_state in ("running", "degraded"):
        return status_state
    if nothing_deployed and current_state in ("running", "degraded"):
        return "degraded"
    return "deploying"


def live_fields(status):
    """The live status fields of an app record from an ``AppStatus`` (or None).

    None (no labelled object found) gives empty values.
    """
    if status is None:
        return {
            "ingress_hosts": False,
            "ingress_address": False,
            "tls_ready": False,
            "replicas_ready": 0,
            "replicas_desired": 0,
            "status_message": "nothing deployed yet",
        }
    return {
        "ingress_hosts": ", ".join(status.hosts) or False,
        "ingress_address": ", ".join(status.addresses) or False,
        "tls_ready": bool(status.tls_ready),
        "replicas_ready": status.ready,
        "replicas_desired": status.desired,
        "status_message": status.message or False,
    }


def nothing_deployed(status):
    """True when a status report found no workload and no Job of the app."""
    return status is None or not (status.workloads or status.jobs)


def result_rows(result, secret_values=()):
    """One dict per object of an ``ApplyResult``, messages redacted.

    Keys: ``sequence``, ``kind``, ``name``, ``namespace``, ``api_version``,
    ``action``, ``message`` (False when empty, as Odoo stores it).
    """
    return [
        {
            "sequence": index,
            "kind": obj.kind or "",
            "name": obj.name or "",
            "namespace": obj.namespace or False,
            "api_version": obj.api_version or False,
            "action": obj.action,
            "message": redact_text(obj.message, secret_values) or False,
        }
        for index, obj in enumerate(result.objects, start=1)
    ]


def summary(result):
    """``"3 created, 4 unchanged, 1 pruned"``: the counts of an ``ApplyResult``."""
    counts = result.counts()
    parts = [
        f"{counts[action]} {action}" for action in _ACTION_ORDER if counts.get(action)
    ]
    text = ", ".join(parts) or "nothing to apply"
    if result.prune_skipped:
        text += " (prune skipped)"
    if result.dry_run:
        text += " (dry run)"
    return text


def failure_message(result, secret_values=()):
    """The errors of a failed ``ApplyResult`` as one text, redacted (None if ok)."""
    if result.ok:
        return None
    lines = [redact_text(message, secret_values) for message in result.errors]
    return "\n".join(lines)


def new_reset_id(now=None):
    """A short, increasing id for a reset Job's name: milliseconds in base 36.

    ``now`` is a POSIX time in seconds (default: the current time).  Eight
    characters from 1973 to 2059, so ``<app>-reset-<id>`` stays short.  A
    Job's spec cannot change, so every reset needs a new id.
    """
    number = int((time.time() if now is None else now) * 1000)
    if number < 0:
        raise ValueError("time must not be negative")
    digits = ""
    while True:
        number, rest = divmod(number, 36)
        digits = _BASE36[rest] + digits
        if not number:
            return digits


def job_names(docs):
    """The names of the Jobs among rendered documents, in order."""
    return [
        doc["metadata"]["name"]
        for doc in docs
        if isinstance(doc, dict)
        and doc.get("kind") == "Job"
        and isinstance(doc.get("metadata"), dict)
        and doc["metadata"].get("name")
    ]


def job_progress(status, job_name):
    """``(state, message)`` of the Job ``job_name`` (a reset, a backup) in an
    ``AppStatus``.

    State is ``running``, ``succeeded`` or ``failed``; ``(None, None)`` when
    the Job is not reported (not applied yet, or deleted after its TTL).
    """
    for job in status.jobs if status is not None else ():
        if job["name"] == job_name:
            return job["state"], job["message"]
    return None, None


#: The reset Job's progress (the same reading as any Job's).
reset_progress = job_progress
