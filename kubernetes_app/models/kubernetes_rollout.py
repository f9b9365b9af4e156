# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Rollouts: bring many apps to a manifest's new revision, safely.

The plan (batches, canaries first), the halt rule and the next step are the
core's (:mod:`mintcloud.rollout`); this model keeps the state in the
database (one :mod:`kubernetes_rollout_line` per app) and does the work in
queue jobs: :meth:`_job_step` starts the lines of the current batch, goes on
to the next batch, halts or finishes; each line runs its app's backup,
upgrade and deployment as ordinary deployments.  Every job re-checks the
state on entry, so a job that runs twice, or again after a restart, deploys
no app twice.
"""

import datetime

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools.safe_eval import safe_eval

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import identity_exact

from mintcloud.rollout import Candidate, Line, Strategy, counts, next_step, plan

from .kubernetes_app import lock_rows
from .kubernetes_rollout_line import LOCK_RETRY_SECONDS, STARTED

CHANNEL = "root.kubernetes"
ROLLOUT_STATES = [
    ("draft", "Draft"),
    ("running", "Running"),
    ("paused", "Paused"),
    ("halted", "Halted"),
    ("done", "Done"),
    ("aborted", "Aborted"),
]
UPGRADE_MODES = [
    ("auto", "When the code changes"),
    ("always", "Always"),
    ("never", "Never"),
]
#: Rollouts whose lines may still have work in flight.
_OPEN_STATES = ("running", "paused", "halted", "aborted")


class KubernetesRollout(models.Model):
    _name = "kubernetes.rollout"
    _description = "Kubernetes Rollout"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"

    name = fields.Char(
        compute="_compute_name",
        store=True,
        readonly=False,
        required=True,
        precompute=True,
    )
    manifest_id = fields.Many2one(
        "kubernetes.manifest",
        string="Manifest",
        required=True,
        ondelete="restrict",
        tracking=True,
        domain=[("kind", "=", "deploy")],
        help="The manifest whose new revision the apps get.",
    )
    manifest_sha256 = fields.Char(
        related="manifest_id.sha256", string="Current Revision"
    )
    revision = fields.Char(
        readonly=True,
        copy=False,
        help="The manifest's revision (SHA-256) when the rollout started: the "
        "rollout halts when the manifest changes while it runs.",
    )
    state = fields.Selection(
        ROLLOUT_STATES, required=True, default="draft", tracking=True, copy=False
    )

    # Which apps.
    cluster_ids = fields.Many2many(
        "kubernetes.cluster", string="Clusters", help="Empty: every cluster."
    )
    environment = fields.Selection(
        [("prod", "Production"), ("int", "Integration")],
        help="Empty: production and integration apps.",
    )
    only_outdated = fields.Boolean(
        string="Only Outdated Apps",
        default=True,
        help="Only the apps whose last deployment rendered another revision "
        "of the manifest.",
    )
    app_domain = fields.Char(
        string="Filter",
        default="[]",
        help="More conditions on the apps, e.g. their product.",
    )
    app_ids = fields.Many2many(
        "kubernetes.app",
        string="Apps",
        compute="_compute_app_ids",
        store=True,
        readonly=False,
        help="The apps of the rollout: by default every outdated app of the "
        "manifest; the filters above change the proposal.",
    )
    app_count = fields.Integer(compute="_compute_app_count")

    # Strategy.
    canaries = fields.Boolean(
        string="Integration Apps First",
        default=True,
        help="Integration apps are deployed first, as canaries: one failure "
        "among them halts the rollout before any production app is touched.",
    )
    batch_size = fields.Integer(default=10, help="Apps per batch.")
    max_concurrent = fields.Integer(
        string="Concurrent Deployments",
        default=4,
        help="At most this many apps are deployed at once.",
    )
    pause_minutes = fields.Integer(
        string="Pause Between Batches (min)",
        default=0,
        help="Time to watch a finished batch before the next one starts.",
    )
    max_failures = fields.Integer(
        string="Halt After Failures",
        default=2,
        help="The rollout halts when more apps than this failed.",
    )
    max_failure_percent = fields.Float(
        string="Halt Above Failure Share (%)",
        default=10.0,
        digits=(16, 1),
        help="The rollout halts when more than this share of its apps failed "
        "(100 switches the rule off).",
    )
    upgrade = fields.Selection(
        UPGRADE_MODES,
        string="Upgrade Databases",
        default="auto",
        required=True,
        help="Apply the app's upgrade manifests (odoo -u) before the new pods "
        "serve: when the images of its Deployments change, always, or never. "
        "Apps without upgrade manifests are only deployed.",
    )
    upgrade_all = fields.Boolean(
        string="Update All Modules",
        help="Update every module (-u all) instead of those whose code changed.",
    )
    with_backup = fields.Boolean(
        string="Back Up Before Upgrading",
        help="Run the app's backup manifests (a backup Job) before its "
        "upgrade; the upgrade waits until the backup succeeded.",
    )

    # Progress.
    line_ids = fields.One2many(
        "kubernetes.rollout.line", "rollout_id", string="Results"
    )
    batch = fields.Integer(
        string="Current Batch", readonly=True, copy=False, help="1 is the first."
    )
    batch_count = fields.Integer(string="Batches", readonly=True, copy=False)
    resume_at = fields.Datetime(
        string="Next Batch At", readonly=True, copy=False, help="End of the pause."
    )
    halt_reason = fields.Char(readonly=True, copy=False)
    started_at = fields.Datetime(readonly=True, copy=False)
    finished_at = fields.Datetime(readonly=True, copy=False)
    progress = fields.Float(compute="_compute_progress")
    total_count = fields.Integer(string="Apps in Rollout", compute="_compute_progress")
    done_count = fields.Integer(string="Done", compute="_compute_progress")
    failed_count = fields.Integer(string="Failed", compute="_compute_progress")
    skipped_count = fields.Integer(string="Skipped", compute="_compute_progress")
    running_count = fields.Integer(string="In Progress", compute="_compute_progress")

    # ------------------------------------------------------------------
    # Compute and constraints
    # ------------------------------------------------------------------

    @api.depends("manifest_id", "manifest_id.sha256")
    def _compute_name(self):
        for rollout in self:
            if rollout.state != "draft" and rollout.name:
                rollout.name = rollout.name
                continue
            manifest = rollout.manifest_id
            revision = (manifest.sha256 or "")[:8]
            rollout.name = (
                f"{manifest.name} @ {revision}" if revision else manifest.name
            ) or _("New rollout")

    @api.depends(
        "manifest_id", "cluster_ids", "environment", "only_outdated", "app_domain"
    )
    def _compute_app_ids(self):
        for rollout in self:
            if rollout.state != "draft":
                rollout.app_ids = rollout.app_ids
                continue
            rollout.app_ids = rollout._proposed_apps()

    @api.depends("app_ids")
    def _compute_app_count(self):
        for rollout in self:
            rollout.app_count = len(rollout.app_ids)

    @api.depends("line_ids.state")
    def _compute_progress(self):
        for rollout in self:
            found = counts(rollout._core_lines())
            rollout.total_count = found["total"]
            rollout.done_count = found["done"]
            rollout.failed_count = found["failed"]
            rollout.skipped_count = found["skipped"] + found["cancelled"]
            rollout.running_count = sum(found[state] for state in STARTED)
            rollout.progress = (
                100.0 * found["finished"] / found["total"] if found["total"] else 0.0
            )

    @api.constrains(
        "batch_size",
        "max_concurrent",
        "max_failures",
        "max_failure_percent",
        "pause_minutes",
    )
    def _check_strategy(self):
        for rollout in self:
            try:
                rollout._strategy()
            except ValueError as error:
                raise ValidationError(
                    _("Invalid rollout strategy: %(error)s", error=error)
                ) from None

    @api.constrains("app_domain")
    def _check_app_domain(self):
        for rollout in self:
            try:
                rollout._app_domain()
            except Exception:  # noqa: BLE001 - any mistake in a typed domain
                raise ValidationError(
                    _(
                        "The filter %(domain)s is not a valid domain.",
                        domain=rollout.app_domain,
                    )
                ) from None

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_start(self):
        """Plan the batches (canaries first, inactive apps skipped) and start."""
        for rollout in self:
            if rollout.state != "draft":
                raise UserError(
                    _("Rollout %(name)s has started already.", name=rollout.name)
                )
            if not rollout.app_ids:
                raise UserError(
                    _("Rollout %(name)s has no apps to deploy.", name=rollout.name)
                )
            if not rollout.manifest_id.sha256:
                raise UserError(
                    _(
                        "Manifest %(name)s has no template yet: fetch it first.",
                        name=rollout.manifest_id.name,
                    )
                )
            rollout._start()
        return True

    def action_pause(self):
        """No further app starts; the apps in progress finish."""
        self._check_state("running", _("Only a running rollout can be paused."))
        self.write({"state": "paused"})
        for rollout in self:
            rollout.message_post(
                body=_("Paused: no further app starts; the apps in progress finish.")
            )
        return True

    def action_resume(self):
        """Go on where the rollout paused."""
        self._check_state("paused", _("Only a paused rollout can be resumed."))
        self.write({"state": "running"})
        for rollout in self:
            rollout.message_post(body=_("Resumed."))
            rollout._enqueue_step()
        return True

    def action_abort(self):
        """Stop for good: the apps not started yet are cancelled."""
        self._check_state(
            ("running", "paused"), _("Only a running or paused rollout can be aborted.")
        )
        for rollout in self:
            cancelled = rollout._cancel_waiting(_("the rollout was aborted"))
            rollout.write({"state": "aborted", "finished_at": fields.Datetime.now()})
            rollout.message_post(
                body=_(
                    "Aborted: %(count)s apps not started are cancelled; the apps "
                    "in progress finish.",
                    count=len(cancelled),
                )
            )
        return True

    def action_view_apps(self):
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id(
            "kubernetes_app.kubernetes_app_action"
        )
        action["domain"] = [("id", "in", (self.line_ids.app_id or self.app_ids).ids)]
        return action

    def _check_state(self, states, message):
        """Refuse unless every rollout is in ``states``; lock their rows, so
        the button never races the rollout's running step."""
        states = (states,) if isinstance(states, str) else states
        if any(rollout.state not in states for rollout in self):
            raise UserError(message)
        if not self._lock():
            raise UserError(
                _("The rollout is taking its next step right now: try again.")
            )

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------

    def _strategy(self):
        """The core's Strategy of this rollout (ValueError when nonsense)."""
        self.ensure_one()
        return Strategy(
            batch_size=self.batch_size,
            max_concurrent=self.max_concurrent,
            canaries=self.canaries,
            max_failures=self.max_failures,
            max_failure_percent=self.max_failure_percent,
            pause_seconds=max(self.pause_minutes, 0) * 60,
        )

    def _app_domain(self):
        domain = safe_eval(self.app_domain or "[]")
        if not isinstance(domain, list | tuple):
            raise ValueError("not a list")
        return list(domain)

    def _proposed_apps(self):
        """The apps matching the filters: by default the manifest's outdated apps."""
        self.ensure_one()
        Apps = self.env["kubernetes.app"]
        if not self.manifest_id:
            return Apps
        domain = [("manifest_line_ids.manifest_id", "=", self.manifest_id.id)]
        if self.cluster_ids:
            domain.append(("cluster_id", "in", self.cluster_ids.ids))
        if self.environment:
            domain.append(("environment", "=", self.environment))
        try:
            domain += self._app_domain()
        except Exception:  # noqa: BLE001 - reported by the constraint on save
            return Apps
        if self.only_outdated:  # the stored flag first: parse only those
            domain.append(("is_outdated", "=", True))
        apps = Apps.search(domain, order="name, id")
        if self.only_outdated:
            apps = apps.filtered(
                lambda app: self.manifest_id in app._outdated_manifests()
            )
        return apps

    def _start(self):
        self.ensure_one()
        apps = self.app_ids.sorted(lambda app: (app.name, app.id))
        found = plan(
            [
                Candidate(app.id, app.name, app.environment, app.lifecycle)
                for app in apps
            ],
            self._strategy(),
        )
        skipped = dict(found.skipped)
        Line = self.env["kubernetes.rollout.line"]
        values = []
        for app in apps:
            where = found.batch_of(app.id)
            line = {"app_id": app.id}
            if where is None:
                reason = Line._skip_text(app.lifecycle)
                line.update(state="skipped", message=reason, batch=0)
            else:
                line.update(batch=where[0] + 1, canary=where[1])
            values.append(line)
        self.write(
            {
                "state": "running",
                "revision": self.manifest_id.sha256,
                "line_ids": [fields.Command.create(line) for line in values],
                "batch": 1,
                "batch_count": len(found.batches),
                "started_at": fields.Datetime.now(),
                "halt_reason": False,
            }
        )
        self.message_post(
            body=_(
                "Started: %(count)s apps in %(batches)s batches (%(canaries)s canary "
                "batches first), %(skipped)s skipped; revision %(revision)s.",
                count=len(apps) - len(skipped),
                batches=len(found.batches),
                canaries=found.canary_batches,
                skipped=len(skipped),
                revision=(self.revision or "")[:12],
            )
        )
        self._enqueue_step()

    def _enqueue_step(self, eta=None):
        """Enqueue the rollout's step job (once: an identical pending job is kept)."""
        for rollout in self:
            rollout.with_delay(
                channel=CHANNEL,
                identity_key=identity_exact,
                eta=eta,
                description=_("Kubernetes: rollout %(name)s", name=rollout.name),
            )._job_step()

    def _core_lines(self):
        """The lines as the core's Line values (batch 0-based; skipped -1)."""
        self.ensure_one()
        return [
            Line(line.id, line.batch - 1, line.state, line.canary)
            for line in self.line_ids
        ]

    def _lock(self):
        """Lock the rollout row; False when another transaction holds it."""
        return lock_rows(self)

    def _job_step(self):
        """Start the lines of the current batch, go on, halt or finish.

        Idempotent: it decides from the lines' states in the database, and
        the lines it starts leave ``pending`` in the same transaction.
        """
        self.ensure_one()
        rollout = self.sudo()
        if rollout.state != "running":
            return f"Nothing to do: the rollout is {rollout.state}."
        if not rollout._lock():
            raise RetryableJobError(
                "The rollout is being changed by another transaction.",
                seconds=LOCK_RETRY_SECONDS,
                ignore_retry=True,
            )
        now = fields.Datetime.now()
        if rollout.resume_at and rollout.resume_at > now:
            rollout._enqueue_step(eta=rollout.resume_at)
            return f"Pausing between batches until {rollout.resume_at}."
        if rollout.manifest_id.sha256 != rollout.revision:
            rollout._halt(
                _(
                    "manifest %(name)s changed while the rollout ran (revision "
                    "%(old)s, now %(new)s): start a new rollout for the new revision",
                    name=rollout.manifest_id.name,
                    old=(rollout.revision or "")[:12],
                    new=(rollout.manifest_id.sha256 or "")[:12],
                )
            )
            return "Halted: the manifest changed."
        strategy = rollout._strategy()
        started = 0
        for _round in range(len(rollout.line_ids) + rollout.batch_count + 2):
            step = next_step(rollout._core_lines(), rollout.batch - 1, strategy)
            if step.action == "start":
                lines = rollout.line_ids.browse(step.start)
                lines.write({"state": "queued", "started_at": fields.Datetime.now()})
                lines.with_context(kubernetes_rollout_step=True)._advance()
                started += len(lines)
                continue
            if step.action == "next_batch":
                rollout._batch_finished(step)
                if step.pause_seconds:
                    return f"Batch done; {started} apps started; pausing."
                continue
            if step.action == "halt":
                rollout._halt(step.reason)
                return f"Halted: {step.reason}"
            if step.action == "done":
                rollout._finish()
                return "Done."
            break
        return f"{started} apps started; waiting for the apps in progress."

    def _batch_finished(self, step):
        """Post how the batch went; the next one comes now or after the pause."""
        finished = self.line_ids.filtered(lambda line: line.batch == self.batch)
        values = {"batch": step.batch + 1}
        if step.pause_seconds:
            values["resume_at"] = fields.Datetime.now() + datetime.timedelta(
                seconds=step.pause_seconds
            )
        self.message_post(
            body=_(
                "Batch %(batch)s of %(count)s finished: %(done)s done, %(failed)s "
                "failed.%(pause)s",
                batch=self.batch,
                count=self.batch_count,
                done=len(finished.filtered(lambda line: line.state == "done")),
                failed=len(finished.filtered(lambda line: line.state == "failed")),
                pause=_(
                    " The next batch starts in %(minutes)s minutes.",
                    minutes=self.pause_minutes,
                )
                if step.pause_seconds
                else "",
            )
        )
        self.write(values)
        if step.pause_seconds:
            self._enqueue_step(eta=values["resume_at"])

    def _cancel_waiting(self, reason):
        """Cancel the lines that have not begun any work; they are returned."""
        waiting = self.line_ids.filtered(
            lambda line: (
                line.state == "pending"
                or (line.state == "queued" and not line._deployments())
            )
        )._try_lock()
        waiting.write(
            {
                "state": "cancelled",
                "message": reason,
                "finished_at": fields.Datetime.now(),
            }
        )
        return waiting

    def _halt(self, reason):
        """Start nothing more; tell the operator why."""
        self.ensure_one()
        self._cancel_waiting(_("not started: the rollout halted"))
        self.write(
            {
                "state": "halted",
                "halt_reason": reason,
                "finished_at": fields.Datetime.now(),
            }
        )
        text = _(
            "Halted: %(reason)s. The apps in progress finish; the others were not "
            "touched. Fix the cause, then start a new rollout: it proposes the apps "
            "still outdated.",
            reason=reason,
        )
        self.message_post(body=text)
        self.activity_schedule(
            "mail.mail_activity_data_warning",
            summary=_("Rollout halted: %(name)s", name=self.name),
            note=text,
            user_id=(
                self.create_uid
                if self.create_uid.active
                else self.env.ref("base.user_admin")
            ).id,
        )

    def _finish(self):
        self.ensure_one()
        self.write({"state": "done", "finished_at": fields.Datetime.now()})
        found = counts(self._core_lines())
        self.message_post(
            body=_(
                "Done: %(done)s apps deployed, %(failed)s failed, %(skipped)s skipped.",
                done=found["done"],
                failed=found["failed"],
                skipped=found["skipped"] + found["cancelled"],
            )
        )

    @api.model
    def _cron_watch(self):
        """Keep open rollouts moving (after a restart, a lost or cancelled
        job): enqueue the step of each running rollout and the next step of
        each line in progress; identical pending jobs are not duplicated."""
        rollouts = self.search([("state", "in", _OPEN_STATES)])
        rollouts.filtered(lambda r: r.state == "running")._enqueue_step()
        lines = rollouts.line_ids.filtered(lambda line: line.state in STARTED)
        lines._recover()
        return len(rollouts)
