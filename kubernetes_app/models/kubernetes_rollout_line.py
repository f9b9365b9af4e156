# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""One app of a rollout: its batch, its steps and its result.

A started line goes through ordinary deployments of its app: a backup
(optional, before an upgrade), an upgrade (when the app's code changes) and
the deployment of the new revision.  The line holds each of them, so a job
that runs again never deploys the app twice; a backup or upgrade Job is
awaited before the next step, and a failed one leaves the old pods serving.
"""

import datetime

import yaml

from odoo import _, fields, models
from odoo.exceptions import UserError

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import identity_exact

from mintcloud.appstate import job_names, job_progress
from mintcloud.errors import MintCloudError, PermanentError, TransientError
from mintcloud.observe import Diagnosis, diagnose, list_items
from mintcloud.redact import redact_text
from mintcloud.render import render_manifests
from mintcloud.rollout import STARTED, code_image, needs_upgrade, skip_reason
from mintcloud.rollout import Candidate as _Candidate
from mintcloud.status import collect_status

from .kubernetes_app import lock_rows

CHANNEL = "root.kubernetes"
LINE_STATES = [
    ("pending", "Pending"),
    ("queued", "Queued"),
    ("backup", "Backing Up"),
    ("upgrade", "Upgrading"),
    ("deploying", "Deploying"),
    ("done", "Done"),
    ("failed", "Failed"),
    ("skipped", "Skipped"),
    ("cancelled", "Cancelled"),
]
#: trigger -> (the line's field holding that deployment, the line's state).
PHASES = {
    "backup": ("backup_deployment_id", "backup"),
    "upgrade": ("upgrade_deployment_id", "upgrade"),
    "rollout": ("deployment_id", "deploying"),
}
#: A backup or upgrade Job that has not finished after this long failed.
JOB_TIMEOUT = datetime.timedelta(hours=6)
#: Seconds between two reads of a running backup or upgrade Job.
JOB_POLL_SECONDS = 15
#: Seconds before an app busy with another deployment is tried again.
BUSY_RETRY_SECONDS = 30
#: Seconds before a step that found its rollout (or line) locked by another
#: step runs again.  Short: the other step is quick, and while a step waits,
#: the finished lines' slots stay empty (at 5 s, the Odoo-level bench rolled
#: out 1.7 apps/s, most of it waiting here).
LOCK_RETRY_SECONDS = 1


class KubernetesRolloutLine(models.Model):
    _name = "kubernetes.rollout.line"
    _description = "Kubernetes Rollout Line"
    _order = "batch, id"

    rollout_id = fields.Many2one(
        "kubernetes.rollout", required=True, ondelete="cascade", index=True
    )
    app_id = fields.Many2one(
        "kubernetes.app", string="App", required=True, ondelete="cascade", index=True
    )
    environment = fields.Selection(related="app_id.environment")
    cluster_id = fields.Many2one(related="app_id.cluster_id")
    batch = fields.Integer(readonly=True, help="0: skipped.")
    canary = fields.Boolean(
        readonly=True, help="An integration app deployed before production."
    )
    state = fields.Selection(
        LINE_STATES, required=True, default="pending", readonly=True
    )
    message = fields.Char(string="Result", readonly=True)
    log = fields.Text(
        string="Last Log Lines",
        readonly=True,
        help="Why its backup or upgrade Job failed, in the words of the cluster.",
    )
    upgrade = fields.Boolean(
        string="Upgraded", readonly=True, help="The app's database was upgraded first."
    )
    upgrade_image = fields.Char(
        readonly=True, help="The image the upgrade Job runs: the new Odoo image."
    )
    job_name = fields.Char(
        string="Job", readonly=True, help="The backup or upgrade Job awaited."
    )
    job_applied_at = fields.Datetime(readonly=True)
    backup_deployment_id = fields.Many2one(
        "kubernetes.deployment", string="Backup", readonly=True, ondelete="set null"
    )
    upgrade_deployment_id = fields.Many2one(
        "kubernetes.deployment", string="Upgrade", readonly=True, ondelete="set null"
    )
    deployment_id = fields.Many2one(
        "kubernetes.deployment", string="Deployment", readonly=True, ondelete="set null"
    )
    started_at = fields.Datetime(readonly=True)
    finished_at = fields.Datetime(readonly=True)

    _sql_constraints = [
        (
            "rollout_app_uniq",
            "unique(rollout_id, app_id)",
            "An app is deployed once per rollout.",
        ),
    ]

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------

    def _skip_text(self, lifecycle):
        """Why an app of ``lifecycle`` is skipped, in the user's language."""
        return {
            "suspended": _(
                "suspended (subscription closed or overdue, or by an operator): "
                "it gets the new revision when it is resumed"
            ),
            "terminating": _("being terminated"),
            "terminated": _("terminated"),
        }.get(lifecycle) or _("not active")

    def _deployments(self):
        self.ensure_one()
        return (
            self.backup_deployment_id | self.upgrade_deployment_id | self.deployment_id
        )

    def _enqueue_advance(self, eta=None):
        """Enqueue the line's next step (once: an identical pending job is kept)."""
        for line in self:
            line.with_delay(
                channel=CHANNEL,
                identity_key=identity_exact,
                eta=eta,
                description=_(
                    "Kubernetes: rollout step of %(app)s", app=line.app_id.name
                ),
            )._job_advance()

    def _job_advance(self):
        """The line's next step; idempotent (re-checks its state on entry)."""
        self.ensure_one()
        line = self.sudo()
        if line.state not in STARTED:
            return f"Nothing to do: the line is {line.state}."
        if not line._try_lock():
            raise RetryableJobError(
                "The line is being changed by another job.",
                seconds=LOCK_RETRY_SECONDS,
                ignore_retry=True,
            )
        return line._advance_one()

    def _try_lock(self):
        """The lines whose rows this transaction could lock now (the others
        are being changed by another job, or were since this one began)."""
        return self.filtered(lock_rows)

    def _advance(self):
        for line in self:
            line._advance_one()

    def _advance_one(self):
        self.ensure_one()
        if self.state == "queued":
            return self._begin()
        if self.state in ("backup", "upgrade"):
            return self._await_job()
        deployment = self.deployment_id
        if self.state == "deploying" and deployment.state in (
            "done",
            "dry_run",
            "failed",
        ):
            self._deployment_finished(deployment)
            return f"Deployment {deployment.id} finished."
        return "Deploying."

    def _begin(self):
        """First step: skip an app that is not active, wait for a busy one,
        then the backup, the upgrade or the deployment."""
        app = self.app_id
        if self.rollout_id.state in ("halted", "aborted"):
            return self._finish("cancelled", _("not started: the rollout halted"))
        if skip_reason(_Candidate(app.id, app.name, app.environment, app.lifecycle)):
            return self._finish("skipped", self._skip_text(app.lifecycle))
        if not app.active:
            return self._finish("skipped", _("archived"))
        if not app._lock_for_job():
            return self._retry_later(
                _("the app is being changed by another transaction"), 10
            )
        busy = app._busy_deployments(mark_lost=True)
        if busy:
            return self._retry_later(
                _(
                    "waiting: deployment %(name)s of the app runs",
                    name=busy[:1].display_name,
                ),
                BUSY_RETRY_SECONDS,
            )
        upgrade, image = self._needs_upgrade()
        self.write({"upgrade": upgrade, "upgrade_image": image or False})
        if upgrade and self.rollout_id.with_backup:
            if app.backup_manifest_ids.filtered("active"):
                return self._start_deployment("backup")
        if upgrade:
            return self._start_deployment("upgrade")
        return self._start_deployment("rollout")

    def _needs_upgrade(self):
        """``(upgrade, image)``: whether the app's database is upgraded before
        its new pods serve, and the new Odoo image the upgrade runs."""
        rollout, app = self.rollout_id, self.app_id
        previous = app.revision_deployment_id
        if (
            rollout.upgrade == "never"
            or not previous
            or not app.upgrade_manifest_ids.filtered("active")
        ):
            return False, None
        try:
            old = [doc for doc in yaml.safe_load_all(previous.rendered or "") if doc]
            templates = [(m.name, m._get_template_text()) for m in app._get_manifests()]
            new = render_manifests(templates, app._get_variables())
        except (MintCloudError, yaml.YAMLError):
            return False, None  # the deployment reports the problem
        upgrade = rollout.upgrade == "always" or needs_upgrade(old, new)
        return upgrade, code_image(new) if upgrade else None

    def _retry_later(self, message, seconds):
        """The line waits (the app is busy): its step runs again later."""
        self.message = message
        self._enqueue_advance(eta=seconds)
        return f"Retried in {seconds} s: {message}"

    def _start_deployment(self, trigger):
        """Enqueue the app's ``trigger`` deployment for this line, once."""
        field, state = PHASES[trigger]
        if self[field]:
            return f"The {trigger} deployment exists already."
        try:
            deployment = self.app_id._enqueue_deployment(trigger)
        except UserError:  # another deployment of the app was queued meanwhile
            return self._retry_later(
                _("waiting: another deployment of the app runs"), BUSY_RETRY_SECONDS
            )
        deployment.rollout_line_id = self
        self.write({field: deployment.id, "state": state, "message": False})
        return f"{trigger} of {self.app_id.name} queued."

    def _check_revision(self, manifests):
        """Raise the core's PermanentError when the rollout's manifest, among
        the ``manifests`` a deployment renders, is no longer the revision the
        rollout started with: it never applies another revision."""
        rollout = self.rollout_id
        manifest = rollout.manifest_id
        if manifest in manifests and manifest.sha256 != rollout.revision:
            raise PermanentError(
                _(
                    "Manifest %(name)s changed while the rollout ran (revision "
                    "%(old)s, now %(new)s): nothing applied.",
                    name=manifest.name,
                    old=(rollout.revision or "")[:12],
                    new=(manifest.sha256 or "")[:12],
                )
            )

    def _deployment_finished(self, deployment, docs=None):
        """Hook of a deployment of this line that ended (done, dry run, failed)."""
        line = self.sudo()
        if line.state not in STARTED:
            return
        if deployment == line.deployment_id:
            if deployment.state in ("done", "dry_run"):
                line._finish("done", deployment.summary)
            elif deployment.state == "failed":
                line._finish("failed", deployment.error)
            return
        if deployment not in line.backup_deployment_id | line.upgrade_deployment_id:
            return
        if deployment.state == "failed":
            line._finish(
                "failed",
                _(
                    "The %(what)s Job could not be applied (the old pods keep "
                    "serving): %(error)s",
                    what=_("backup") if line.state == "backup" else _("upgrade"),
                    error=deployment.error,
                ),
            )
            return
        if docs is not None:
            names = job_names(docs)
            line.write(
                {
                    "job_name": names[0] if names else False,
                    "job_applied_at": fields.Datetime.now(),
                }
            )
        line._enqueue_advance()

    def _await_job(self):
        """Wait for the backup or upgrade Job, then take the next step."""
        step = self.state
        deployment = (
            self.backup_deployment_id
            if step == "backup"
            else self.upgrade_deployment_id
        )
        if deployment.state in ("queued", "running"):
            return "Waiting for the deployment of the Job."
        if deployment.state == "failed":
            self._deployment_finished(deployment)
            return "The Job could not be applied."
        if deployment.state == "dry_run":
            return self._job_succeeded(step)
        app = self.app_id
        started = self.job_applied_at or deployment.finished_at or fields.Datetime.now()
        too_long = fields.Datetime.now() - started > JOB_TIMEOUT
        diagnosis = None
        try:
            with app.cluster_id._api_client() as client:
                statuses = collect_status(
                    client, namespaces=[app.namespace], kinds=("Job",)
                )
                progress, message = job_progress(statuses.get(app.name), self.job_name)
                if progress == "failed" or (too_long and progress != "succeeded"):
                    diagnosis = self._diagnose_job(client, deployment)
        except TransientError as error:
            raise RetryableJobError(str(error), seconds=30) from None
        except MintCloudError as error:
            return self._finish("failed", str(error))
        if progress == "succeeded":
            return self._job_succeeded(step)
        if diagnosis is not None:
            if progress != "failed":
                message = _(
                    "the Job did not finish in %(hours)s hours",
                    hours=int(JOB_TIMEOUT.total_seconds() // 3600),
                )
            return self._job_failed(step, message, diagnosis)
        raise RetryableJobError(
            f"Job {self.job_name} is still running.",
            seconds=JOB_POLL_SECONDS,
            ignore_retry=True,
        )

    def _job_succeeded(self, step):
        """The backup or upgrade Job succeeded: the next step."""
        if not self.app_id._lock_for_job():
            return self._retry_later(
                _("the app is being changed by another transaction"), 10
            )
        return self._start_deployment("upgrade" if step == "backup" else "rollout")

    def _job_failed(self, step, message, diagnosis):
        """The backup or upgrade Job failed: the old pods keep serving."""
        app = self.app_id
        what = _("backup") if step == "backup" else _("upgrade")
        text = _(
            "The %(what)s Job %(job)s failed: %(message)s. Nothing else was "
            "applied: the old pods keep serving.",
            what=what,
            job=self.job_name,
            message=message or _("no reason given"),
        )
        logs = diagnosis.logs_text()
        if diagnosis.errors:
            logs = "\n".join(filter(None, [logs] + diagnosis.errors))
        self.log = logs or False
        app.message_post(
            body=_(
                "Rollout %(rollout)s: %(text)s",
                rollout=self.rollout_id.name,
                text=text,
            )
        )
        return self._finish("failed", text)

    def _diagnose_job(self, client, deployment):
        """Events and the last log lines of the Job's failing pod, kept on the
        line and on the deployment that applied the Job."""
        app = self.app_id
        secrets = app._secret_values()
        try:
            pods = list_items(
                client, "v1", "pods", "Pod", app.namespace, f"job-name={self.job_name}"
            )
            names = {("Job", self.job_name)} | {
                ("Pod", pod["metadata"]["name"]) for pod in pods
            }
            events = [
                event
                for event in list_items(
                    client, "v1", "events", "Event", app.namespace, None, "type=Warning"
                )
                if (
                    (event.get("involvedObject") or {}).get("kind"),
                    (event.get("involvedObject") or {}).get("name"),
                )
                in names
            ]
        except MintCloudError as error:
            return Diagnosis(errors=[redact_text(str(error), secrets)])
        found = diagnose(client, app.namespace, pods, events, secrets=secrets)
        deployment.write(
            {
                "diagnosis_events": found.events_text() or False,
                "diagnosis_logs": found.logs_text() or False,
                "diagnosed_at": fields.Datetime.now(),
            }
        )
        return found

    def _finish(self, state, message):
        """The line is finished; the rollout takes its next step."""
        self.write(
            {
                "state": state,
                "message": message or False,
                "finished_at": fields.Datetime.now(),
            }
        )
        rollout = self.rollout_id
        if rollout.state == "running" and not self.env.context.get(
            "kubernetes_rollout_step"
        ):
            rollout._enqueue_step()
        return f"{self.app_id.name}: {state}."

    def _recover(self):
        """After a restart or a lost job: enqueue a deployment of the line
        whose job is gone again (the same deployment, never a second one),
        fail one whose job ended without it, and the line's next step."""
        Job = self.env["queue.job"].sudo()
        for line in self.sudo():
            for deployment in line._deployments().filtered(
                lambda d: d.state in ("queued", "running")
            ):
                job = Job.search([("uuid", "=", deployment.job_uuid)], limit=1)
                if not job:
                    deployment._enqueue()
                elif job.state in ("done", "failed", "cancelled"):
                    deployment._mark_lost()
            if line.state in STARTED:
                line._enqueue_advance()
