# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The Cluster tab of an app: what its cluster said when a user asked.

Read on demand (the tab's *Read from cluster* button), in the request, with
a short timeout (``kubernetes_app.cluster_read_timeout`` seconds, default
5) and one attempt per request; never when the form loads.  Each user keeps
their last read of an app; the rows are transient.  Event and container
messages are redacted with the app's secret values; Secrets and ConfigMaps
are never read.
"""

from datetime import timezone

from odoo import _, api, fields, models

from mintcloud.errors import MintCloudError, TransientError
from mintcloud.observe import (
    OBSERVE_TIMEOUT,
    event_rows,
    object_rows,
    pod_rows,
    read_app,
)
from mintcloud.redact import redact_text

TIMEOUT_PARAMETER = "kubernetes_app.cluster_read_timeout"
#: Waiting reasons of a container that is on its way up.
STARTING = ("", "ContainerCreating", "PodInitializing")


def naive(moment):
    """An aware datetime as Odoo stores it (naive UTC, whole seconds)."""
    if not moment:
        return False
    return moment.astimezone(timezone.utc).replace(tzinfo=None, microsecond=0)


class KubernetesAppObservation(models.TransientModel):
    _name = "kubernetes.app.observation"
    _description = "Kubernetes App Observation"
    _order = "id desc"

    app_id = fields.Many2one(
        "kubernetes.app", string="App", required=True, ondelete="cascade"
    )
    read_at = fields.Datetime(string="Read On", readonly=True)
    error = fields.Char(readonly=True)
    object_ids = fields.One2many(
        "kubernetes.app.observation.object", "observation_id", string="Objects"
    )
    pod_ids = fields.One2many(
        "kubernetes.app.observation.pod", "observation_id", string="Pods"
    )
    event_ids = fields.One2many(
        "kubernetes.app.observation.event", "observation_id", string="Events"
    )

    @api.model
    def _timeout(self):
        """Seconds one request of a read may take."""
        value = self.env["ir.config_parameter"].sudo().get_param(TIMEOUT_PARAMETER)
        try:
            return float(value) if value else OBSERVE_TIMEOUT
        except ValueError:
            return OBSERVE_TIMEOUT

    @api.model
    def _read_app(self, app):
        """Read ``app`` from its cluster now: a new observation of the user
        (their older ones of the app are dropped).  A failure is stored as
        the observation's error, in words an operator acts on."""
        app.check_access_rights("read")
        app.check_access_rule("read")
        self.search(
            [("app_id", "=", app.id), ("create_uid", "=", self.env.uid)]
        ).unlink()
        observation = self.create({"app_id": app.id, "read_at": fields.Datetime.now()})
        cluster = app.cluster_id
        if cluster.is_dry_run:
            observation.error = _(
                "The cluster of this app has no connection (dry-run): there is "
                "nothing to read."
            )
            return observation
        secrets = app._secret_values()
        timeout = self._timeout()
        seconds = f"{timeout:g}"
        try:
            with cluster._api_client(timeout=timeout, retries=False) as client:
                seen = read_app(client, app.name, app.namespace, timeout=timeout)
        except TransientError as error:
            observation.error = _(
                "Cluster %(cluster)s did not answer within %(seconds)s seconds: "
                "%(error)s. Try again later.",
                cluster=cluster.name,
                seconds=seconds,
                error=redact_text(str(error), secrets),
            )
            return observation
        except MintCloudError as error:
            observation.error = _(
                "Cluster %(cluster)s refused to answer: %(error)s",
                cluster=cluster.name,
                error=redact_text(str(error), secrets),
            )
            return observation
        observation._store(seen, secrets)
        return observation

    def _store(self, seen, secrets):
        """Rows of the objects, pods (one per container) and events seen."""
        self.ensure_one()
        self.write(
            {
                "object_ids": [
                    fields.Command.create(
                        {
                            "sequence": index,
                            "kind": row["kind"],
                            "name": row["name"],
                            "ready": row["ready"],
                            "status": redact_text(row["status"], secrets),
                            "age": row["age"],
                            "conditions": redact_text(row["conditions"], secrets),
                            "problem": row["problem"],
                        }
                    )
                    for index, row in enumerate(object_rows(seen.objects), start=1)
                ],
                "pod_ids": [
                    fields.Command.create(values)
                    for values in self._pod_values(pod_rows(seen.pods, secrets=secrets))
                ],
                "event_ids": [
                    fields.Command.create(
                        {
                            "sequence": index,
                            "event_type": row["type"],
                            "reason": row["reason"],
                            "object": row["object"],
                            "message": row["message"],
                            "count": row["count"],
                            "last_seen": naive(row["last_seen"]),
                        }
                    )
                    for index, row in enumerate(
                        event_rows(seen.events, secrets=secrets), start=1
                    )
                ],
            }
        )

    @staticmethod
    def _pod_values(rows):
        """One line per container of each pod, init containers first."""
        lines = []
        for row in rows:
            for container in row["containers"]:
                state = container["state"]
                if container["reason"]:
                    state = f"{state}: {container['reason']}"
                if container["state"] == "terminated":
                    state += f" ({container['exit_code']})"
                last = container["last_reason"]
                if last and container["last_exit_code"] is not None:
                    last = f"{last} ({container['last_exit_code']})"
                lines.append(
                    {
                        "sequence": len(lines) + 1,
                        "pod": row["name"],
                        "phase": row["phase"],
                        "pod_status": row["status"],
                        "age": row["age"],
                        "container": container["container"],
                        "is_init": container["init"],
                        "ready": container["ready"],
                        "restarts": container["restarts"],
                        "state": state,
                        "last_reason": last or False,
                        "last_finished": naive(container["last_finished"]),
                        "message": container["message"] or False,
                        "problem": bool(container["last_reason"])
                        or container["state"] == "terminated"
                        and container["exit_code"] not in (0, None)
                        or container["state"] == "waiting"
                        and container["reason"] not in STARTING,
                    }
                )
        return lines
