# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Deployments: one record per run of an app (create, apply, update, reset,
status), executed as a queue job.

The job is idempotent and re-checks on entry that it is still needed.  A
transient fault (fetch or API: timeout, 429, 5xx) raises RetryableJobError
so queue_job runs the whole deployment again later; after the last attempt
the deployment fails.  A permanent fault fails the deployment at once with
the API's message.  Messages, the rendered documents and the log never
contain secret values.
"""

import datetime
import json
import logging

import yaml

from odoo import _, api, fields, models

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import identity_exact

from mintcloud.apply import apply_app, delete_app, delete_namespace
from mintcloud.appstate import (
    DEPLOY_PRUNE_KINDS,
    failure_message,
    job_names,
    new_reset_id,
    result_rows,
    summary,
)
from mintcloud.errors import MintCloudError, TransientError
from mintcloud.observe import diagnose, is_job_pod, job_pods
from mintcloud.redact import redact_documents, redact_text
from mintcloud.render import render_sources
from mintcloud.status import collect_status
from mintcloud.tenancy import check_tenancy
from mintcloud.validate import check_documents

_logger = logging.getLogger(__name__)

#: Deployments whose rollout a later problem of the app is blamed on, for
#: this long after they finished.
ROLLOUT_TRIGGERS = ("create", "apply", "update", "resume", "rollout")
ROLLOUT_WINDOW = datetime.timedelta(hours=2)

CHANNEL = "root.kubernetes"
MAX_RETRIES = 5
TRIGGERS = [
    ("create", "Create"),
    ("apply", "Apply"),
    ("update", "Update"),
    ("reset", "Reset"),
    ("status", "Check status"),
    ("suspend", "Suspend"),
    ("resume", "Resume"),
    ("backup", "Backup"),
    ("terminate", "Terminate"),
    ("rollout", "Rollout"),
    ("upgrade", "Upgrade"),
]
#: Triggers that apply extra manifests (a Job) and prune nothing.
_NO_PRUNE = ("reset", "backup", "upgrade")
#: Triggers whose deployment did not apply the deploy manifests.
NOT_DEPLOYS = (*_NO_PRUNE, "status", "terminate")
STATES = [
    ("queued", "Queued"),
    ("running", "Running"),
    ("done", "Done"),
    ("failed", "Failed"),
    ("dry_run", "Dry run"),
]
_JOB_ENDED = ("done", "failed", "cancelled")


class KubernetesDeployment(models.Model):
    _name = "kubernetes.deployment"
    _description = "Kubernetes Deployment"
    _order = "id desc"

    app_id = fields.Many2one(
        "kubernetes.app", string="App", required=True, ondelete="cascade", index=True
    )
    cluster_id = fields.Many2one(related="app_id.cluster_id", store=True)
    environment = fields.Selection(related="app_id.environment")
    trigger = fields.Selection(TRIGGERS, required=True, readonly=True)
    state = fields.Selection(STATES, required=True, default="queued", readonly=True)
    dry_run = fields.Boolean(
        readonly=True,
        help="Rendered and validated only: the cluster has no connection.",
    )
    started_at = fields.Datetime(string="Started", readonly=True)
    finished_at = fields.Datetime(string="Finished", readonly=True)
    duration = fields.Float(
        string="Duration (s)", compute="_compute_duration", store=True, digits=(16, 1)
    )
    attempts = fields.Integer(readonly=True)
    rendered = fields.Text(
        string="Rendered Documents",
        readonly=True,
        help="The rendered documents as YAML, secret values redacted.",
    )
    object_ids = fields.One2many(
        "kubernetes.deployment.object", "deployment_id", string="Objects"
    )
    summary = fields.Char(readonly=True)
    error = fields.Text(readonly=True)
    reset_id = fields.Char(
        string="Reset ID", readonly=True, help="Suffix of the reset Job's name."
    )
    inventory = fields.Text(
        readonly=True,
        help="The objects this deployment left on the cluster (JSON: kind, "
        "name, uid, resourceVersion): the next deployment applies from it "
        "(one request per object) and prunes what left the manifests.",
    )
    backup_id = fields.Char(
        string="Backup ID",
        readonly=True,
        help="Suffix of the backup Job's name and the folder of the backup.",
    )
    upgrade_id = fields.Char(
        string="Upgrade ID", readonly=True, help="Suffix of the upgrade Job's name."
    )
    vars_version = fields.Integer(
        string="Values Version",
        readonly=True,
        copy=False,
        help="The last change of the app's values (kubernetes.app.change) this "
        "deployment rendered: applying the app again after it is skipped when "
        "it rendered them already.",
    )
    manifest_revisions = fields.Text(
        readonly=True,
        help="The revision (SHA-256) of each manifest this deployment rendered "
        "(JSON: manifest id to SHA-256): an app is outdated when one of its "
        "manifests has another revision than its last successful deployment.",
    )
    rollout_line_id = fields.Many2one(
        "kubernetes.rollout.line",
        string="Rollout Line",
        readonly=True,
        ondelete="set null",
        index="btree_not_null",
        help="The rollout this deployment is a step of.",
    )
    # Why the reset Job or the rollout failed, kept when the status refresh
    # first sees it (secret values masked).
    diagnosis_events = fields.Text(
        string="Events",
        readonly=True,
        help="The Warning events of the failing objects, as the cluster reported them.",
    )
    diagnosis_logs = fields.Text(
        string="Last Log Lines",
        readonly=True,
        help="The last log lines of the failing container.",
    )
    diagnosed_at = fields.Datetime(string="Diagnosed On", readonly=True)
    job_uuid = fields.Char(string="Job UUID", readonly=True, index=True)
    job_id = fields.Many2one(
        "queue.job",
        string="Job",
        readonly=True,
        ondelete="set null",
        groups="queue_job.group_queue_job_manager",
    )

    # ------------------------------------------------------------------
    # Compute
    # ------------------------------------------------------------------

    @api.depends("app_id.name", "trigger")
    def _compute_display_name(self):
        triggers = dict(self._fields["trigger"]._description_selection(self.env))
        for deployment in self:
            deployment.display_name = _(
                "%(app)s #%(id)s (%(trigger)s)",
                app=deployment.app_id.name,
                id=deployment.id,
                trigger=triggers.get(deployment.trigger, ""),
            )

    @api.depends("started_at", "finished_at")
    def _compute_duration(self):
        for deployment in self:
            if deployment.started_at and deployment.finished_at:
                delta = deployment.finished_at - deployment.started_at
                deployment.duration = delta.total_seconds()
            else:
                deployment.duration = 0.0

    # ------------------------------------------------------------------
    # Queue
    # ------------------------------------------------------------------

    def _enqueue(self):
        """Enqueue the job of each deployment; the request returns at once."""
        for deployment in self:
            if deployment.trigger == "reset" and not deployment.reset_id:
                deployment.reset_id = new_reset_id()
            if deployment.trigger == "backup" and not deployment.backup_id:
                deployment.backup_id = new_reset_id()
            if deployment.trigger == "upgrade" and not deployment.upgrade_id:
                deployment.upgrade_id = new_reset_id()
            job = (
                deployment.sudo(False)
                .with_delay(
                    channel=CHANNEL,
                    identity_key=identity_exact,
                    max_retries=MAX_RETRIES,
                    description=_(
                        "Kubernetes: %(trigger)s %(app)s",
                        trigger=deployment.trigger,
                        app=deployment.app_id.name,
                    ),
                )
                ._job_run()
            )
            # With an identity key, queue_job hands back the pending identical
            # job's queue.job record instead of a new Job.
            record = job if isinstance(job, models.BaseModel) else job.db_record()
            deployment.write({"job_uuid": job.uuid, "job_id": record.id or False})

    def _job_alive(self):
        """False when the job of this deployment ended without finishing it."""
        self.ensure_one()
        if not self.job_uuid:
            return True
        job = self.env["queue.job"].sudo().search([("uuid", "=", self.job_uuid)])
        return not job or job.state not in _JOB_ENDED

    def _is_last_attempt(self):
        """True when the current job run is its last allowed attempt."""
        uuid = self.env.context.get("job_uuid")
        if not uuid:
            return False
        job = self.env["queue.job"].sudo().search([("uuid", "=", uuid)], limit=1)
        return bool(job.max_retries) and job.retry + 1 >= job.max_retries

    def _job_run(self):
        """Run the deployment: render, validate, apply, prune, read the status."""
        self.ensure_one()
        deployment = self.sudo()
        if deployment.state not in ("queued", "running"):
            return f"Nothing to do: the deployment is {deployment.state}."
        if not deployment.app_id._lock_for_job():
            raise RetryableJobError(
                "The app is being changed by another transaction.",
                seconds=10,
                ignore_retry=True,
            )
        return deployment._run()

    # ------------------------------------------------------------------
    # Run
    # ------------------------------------------------------------------

    def _run(self):
        self.ensure_one()
        self.write(
            {
                "state": "running",
                "started_at": fields.Datetime.now(),
                "finished_at": False,
                "error": False,
                "attempts": self.attempts + 1,
            }
        )
        if self.trigger != "status":
            # Read in the deployment's own transaction: the values it renders.
            self.vars_version = self.env["kubernetes.app.change"]._seen(self.app_id)
            self.app_id.state = "deploying"
        secrets = []
        try:
            if self.trigger == "status":
                return self._run_status()
            if self.trigger == "terminate":
                return self._run_terminate()
            variables = self._variables()
            secrets = variables.secret_values()
            return self._deploy(variables, secrets)
        except TransientError as error:
            message = redact_text(str(error), secrets)
            if self._is_last_attempt():
                return self._fail(
                    _(
                        "Gave up after %(count)s attempts: %(error)s",
                        count=self.attempts,
                        error=message,
                    )
                )
            _logger.info(
                "Deployment %s of app %s will be retried: %s",
                self.id,
                self.app_id.name,
                message,
            )
            raise RetryableJobError(
                message, seconds=error.details.get("retry_after")
            ) from None
        except MintCloudError as error:
            return self._fail(redact_text(str(error), secrets))

    def _variables(self):
        variables = self.app_id._get_variables()
        if self.trigger == "reset":
            variables["reset_id"] = self.reset_id
        if self.trigger == "upgrade":
            variables["upgrade_id"] = self.upgrade_id
            line = self.rollout_line_id
            if line.upgrade_image:
                variables["upgrade_image"] = line.upgrade_image
            if line.rollout_id.upgrade_all:
                variables["upgrade_modules"] = "all"
        if self.trigger == "backup":
            variables["backup_id"] = self.backup_id
            backup = self.app_id.cluster_id._backup_variables()
            for name, value in backup.items():
                variables.set(name, value, secret=backup.is_secret(name))
        return variables

    def _templates(self):
        """``[(name, template text)]``; an Update fetches the manifests first.

        A manifest whose fetch fails keeps its cached template; the problem
        is noted in the deployment's summary.
        """
        manifests = self.app_id._get_manifests(
            reset=self.trigger == "reset",
            backup=self.trigger == "backup",
            upgrade=self.trigger == "upgrade",
        )
        notes = []
        if self.trigger == "update":
            manifests.sudo()._fetch(force=True)
            notes = [
                _(
                    "%(name)s: cached template used (%(error)s)",
                    name=m.name,
                    error=m.fetch_error,
                )
                for m in manifests
                if m.fetch_error
            ]
        templates = [(m.name, m._get_template_text()) for m in manifests]
        if self.trigger not in NOT_DEPLOYS:
            self.manifest_revisions = json.dumps(
                {str(m.id): m.sha256 or None for m in manifests}, sort_keys=True
            )
        if self.rollout_line_id and self.trigger == "rollout":
            self.rollout_line_id._check_revision(manifests)
        return templates, notes

    def _deploy(self, variables, secrets):
        app = self.app_id
        cluster = app.cluster_id
        templates, notes = self._templates()
        sources = render_sources(templates, variables)
        docs = [doc for _name, manifest_docs in sources for doc in manifest_docs]
        self.rendered = self._rendered_yaml(docs, secrets)
        check_documents(docs, cluster.kubernetes_version)
        # Nothing of a deployment is applied when one object crosses the
        # app's tenant boundary (another namespace, a cluster-wide kind).
        check_tenancy(sources, cluster._tenant_policy(app.namespace))
        if cluster.is_dry_run:
            return self._finish_dry_run(docs, notes)
        deploys = self.trigger not in _NO_PRUNE
        previous = self._last_deploy() if deploys else self.browse()
        with cluster._api_client() as client:
            result = apply_app(
                client,
                app.name,
                app.namespace,
                docs,
                prune=deploys,
                prune_kinds=self._prune_kinds(),
                inventory=self._inventory(previous),
            )
            self._store_objects(result_rows(result, secrets))
            if not result.ok:
                return self._fail(failure_message(result, secrets), summary(result))
            if deploys:
                self.inventory = json.dumps(result.inventory())
            statuses = collect_status(client, namespaces=[app.namespace])
        if self.trigger == "reset":
            names = job_names(docs)
            app.write(
                {
                    "reset_job_name": names[0] if names else False,
                    "reset_state": "running",
                    "reset_message": False,
                }
            )
        app._apply_statuses(statuses)
        if app.lifecycle in ("suspended", "terminating"):
            app.state = "suspended"
        text = "; ".join([summary(result)] + notes)
        self.write(
            {"state": "done", "finished_at": fields.Datetime.now(), "summary": text}
        )
        _logger.info("Deployment %s of app %s: %s", self.id, app.name, text)
        self._finished(docs)
        if app.lifecycle == "terminating":
            if self.trigger == "suspend":
                # Odoo is stopped: the final backup reads data nobody writes.
                app._enqueue_deployment("backup")
            elif self.trigger == "backup":
                self._backup_applied(docs)
        return text

    def _run_status(self):
        app = self.app_id
        app._refresh_status()
        states = dict(app._fields["state"]._description_selection(self.env))
        text = states.get(app.state, app.state)
        if app.status_message:
            text = f"{text}: {app.status_message}"
        self.write(
            {"state": "done", "finished_at": fields.Datetime.now(), "summary": text}
        )
        return text

    def _last_deploy(self):
        """The app's last successful deployment of its deploy manifests."""
        return self.app_id._last_deploy()

    def _inventory(self, previous):
        """What this run applies from: the inventory of ``previous`` (the last
        successful deploy); an empty one for the first deployment of a new
        app (nothing to read or prune); None (read and list, as before
        inventories) when an earlier deployment kept none."""
        if previous.inventory:
            return json.loads(previous.inventory)
        if not previous and self.trigger == "create":
            return []
        return None

    def _prune_kinds(self):
        """The deploy prune kinds and every kind the app's last deployment
        applied: an object whose manifest left (or renders nothing now, like
        the Mailgun DNS records of a cluster that stopped publishing them) is
        pruned even when its kind is not a default one.  (With the last
        deployment's inventory, prune works from that inventory instead.)"""
        kinds = list(DEPLOY_PRUNE_KINDS)
        for obj in self._last_deploy().object_ids:
            key = (obj.api_version, obj.kind)
            if obj.api_version and obj.kind not in ("Namespace", "Job"):
                if key not in kinds and obj.action != "pruned":
                    kinds.append(key)
        return kinds

    def _backup_applied(self, docs):
        """The final backup's Job is on the cluster: wait for it in a job."""
        app = self.app_id
        names = job_names(docs)
        app.write(
            {
                "backup_id": self.backup_id,
                "backup_job_name": names[0] if names else False,
                "backup_state": "running",
                "backup_started_at": fields.Datetime.now(),
                "backup_location": app.cluster_id._backup_location(app, self.backup_id),
            }
        )
        app.with_delay(
            channel=CHANNEL,
            identity_key=identity_exact,
            description=_(
                "Kubernetes: await the final backup of %(app)s", app=app.name
            ),
        )._job_await_backup()

    def _run_terminate(self):
        """Delete every object of the app (its backup's claim stays), then its
        namespace when every app in it is terminated; archive the app."""
        app = self.app_id
        if app.lifecycle != "terminating" or app.backup_state != "succeeded":
            return self._fail(_("Terminate runs only after a successful final backup."))
        namespace_apps = app._namespace_apps()
        others = namespace_apps - app
        with app.cluster_id._api_client() as client:
            # What the app has: the default kinds, the kinds of its last
            # deployment, and its Jobs (reset, backup).  The namespace goes
            # with anything else once every app in it is terminated.
            kinds = self._prune_kinds() + [("batch/v1", "Job")]
            result = delete_app(client, app.name, app.namespace, kinds=kinds)
            self._store_objects(result_rows(result, []))
            if not result.ok:
                return self._fail(failure_message(result, []), summary(result))
            notes = [summary(result)]
            if all(other.lifecycle == "terminated" for other in others):
                delete_namespace(client, app.namespace)
                notes.append(_("namespace %(ns)s deleted", ns=app.namespace))
        text = "; ".join(notes)
        self.write(
            {"state": "done", "finished_at": fields.Datetime.now(), "summary": text}
        )
        app._finish_termination(text)
        _logger.info("Deployment %s of app %s: %s", self.id, app.name, text)
        return text

    def _finish_dry_run(self, docs, notes):
        """A cluster without a connection: record what would be applied."""
        namespace = self.app_id.namespace
        self._store_objects(
            [
                {
                    "sequence": index,
                    "kind": doc.get("kind"),
                    "name": doc["metadata"].get("name"),
                    "namespace": doc["metadata"].get("namespace") or namespace,
                    "api_version": doc.get("apiVersion"),
                    "action": "dry_run",
                }
                for index, doc in enumerate(docs, start=1)
            ]
        )
        text = "; ".join(
            [
                _(
                    "%(count)s documents rendered and validated; nothing sent "
                    "(dry-run cluster)",
                    count=len(docs),
                )
            ]
            + notes
        )
        self.write(
            {
                "state": "dry_run",
                "dry_run": True,
                "finished_at": fields.Datetime.now(),
                "summary": text,
            }
        )
        values = {"state": "dry-run"}
        if self.trigger == "reset":
            values.update(reset_state=False, reset_message=text)
        self.app_id.write(values)
        self._finished(docs)
        return text

    def _fail(self, message, text=None):
        """Record a failure: deployment failed, app in error, a chatter note."""
        app = self.app_id
        self.write(
            {
                "state": "failed",
                "error": message,
                "summary": text or _("Failed"),
                "finished_at": fields.Datetime.now(),
            }
        )
        if self.trigger != "status":
            values = {"state": "error"}
            if self.trigger == "reset":
                values.update(reset_state="failed", reset_message=message[:250])
            app.write(values)
        app.message_post(
            body=_(
                "Deployment %(name)s failed: %(error)s",
                name=self.display_name,
                error=message,
            )
        )
        if self.trigger == "backup" and app.lifecycle == "terminating":
            app._backup_failed(message)
        elif self.trigger == "terminate":
            app.activity_schedule(
                "mail.mail_activity_data_warning",
                summary=_("Termination failed: %(name)s", name=app.name),
                note=_(
                    "Deleting the objects of %(name)s failed: %(error)s. The final "
                    "backup succeeded; click Terminate again once the cause is fixed.",
                    name=app.name,
                    error=message,
                ),
                user_id=app._lifecycle_responsible().id,
            )
        _logger.info("Deployment %s of app %s failed: %s", self.id, app.name, message)
        self._finished()
        return message

    def _finished(self, docs=None):
        """The run ended (done, dry run or failed): a successful deployment of
        the deploy manifests is the app's current revision; a rollout's step
        goes on."""
        self.ensure_one()
        if self.state in ("done", "dry_run") and self.trigger not in NOT_DEPLOYS:
            self.app_id.revision_deployment_id = self
        if self.rollout_line_id:
            self.rollout_line_id._deployment_finished(self, docs)

    def _store_objects(self, rows):
        self.object_ids.unlink()
        self.write({"object_ids": [fields.Command.create(row) for row in rows]})

    @staticmethod
    def _rendered_yaml(docs, secrets):
        """The documents as multi-document YAML with every secret masked."""
        return yaml.safe_dump_all(
            redact_documents(docs, secrets),
            sort_keys=False,
            allow_unicode=True,
            default_flow_style=False,
        )

    # ------------------------------------------------------------------
    # Housekeeping
    # ------------------------------------------------------------------

    def _mark_lost(self):
        """Fail deployments whose job ended without finishing them."""
        for deployment in self:
            deployment._fail(
                _("The job of this deployment ended before the deployment finished.")
            )

    # ------------------------------------------------------------------
    # Diagnosis
    # ------------------------------------------------------------------

    def _diagnose(self, client, problems):
        """Keep why a reset Job or a rollout failed, once per deployment.

        ``problems`` is ``{app name: AppProblems}`` of the status refresh
        that saw it (pods and Warning events, already read).  A reset
        deployment is diagnosed when its app's reset Job failed; a
        deployment of the app's code when the app has a problem within
        :data:`ROLLOUT_WINDOW` after it.  Reads at most two logs.
        """
        now = fields.Datetime.now()
        for deployment in self.sudo().filtered(
            lambda d: d.state == "done" and not d.diagnosed_at
        ):
            app = deployment.app_id
            found = problems.get(app.name)
            if found is None:
                continue
            if deployment.trigger == "reset":
                if app.reset_deployment_id != deployment or app.reset_state != "failed":
                    continue
                pods = job_pods(found.pods, app.reset_job_name)
                objects = {("Job", app.reset_job_name)}
                objects |= {("Pod", p["metadata"]["name"]) for p in pods}
                events = [e for e in found.events if _involves(e, objects)]
                title = _("Reset Job %(job)s failed", job=app.reset_job_name)
            elif deployment.trigger in ROLLOUT_TRIGGERS:
                if (
                    app.last_deployment_id != deployment
                    or app.health_state != "problem"
                    or not deployment.finished_at
                    or now - deployment.finished_at > ROLLOUT_WINDOW
                ):
                    continue
                pods = [p for p in found.pods if not is_job_pod(p)]
                jobs = {p["metadata"]["name"] for p in found.pods if is_job_pod(p)}
                events = [
                    e
                    for e in found.events
                    if (e.get("involvedObject") or {}).get("kind") != "Job"
                    and (e.get("involvedObject") or {}).get("name") not in jobs
                ]
                title = _(
                    "The rollout of %(name)s failed", name=deployment.display_name
                )
            else:
                continue
            found_why = diagnose(
                client, app.namespace, pods, events, secrets=app._secret_values()
            )
            logs = found_why.logs_text()
            if found_why.errors:
                logs = "\n".join(filter(None, [logs] + found_why.errors))
            deployment.write(
                {
                    "diagnosis_events": found_why.events_text() or False,
                    "diagnosis_logs": logs or False,
                    "diagnosed_at": now,
                }
            )
            app.message_post(
                body=_(
                    "%(title)s. Deployment %(name)s keeps its events and the last "
                    "log lines of the failing container.",
                    title=title,
                    name=deployment.display_name,
                )
            )


def _involves(event, objects):
    """Whether an event is about one of ``objects`` ({(kind, name)})."""
    involved = event.get("involvedObject") or {}
    return (involved.get("kind"), involved.get("name")) in objects
