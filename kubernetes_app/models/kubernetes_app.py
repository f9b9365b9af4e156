# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Apps: one customer instance on a cluster, deployed from its manifests.

A production app ``acme`` and its integration app ``acme-int`` share the
namespace ``acme``; every object carries its own app's label, so each app is
applied, pruned and reported on its own.  Deployments run as queue jobs
(:mod:`kubernetes_deployment`); this model enqueues them, holds the
variables and shows the live status.
"""

import collections
import datetime
import json
import logging

from psycopg2.errors import LockNotAvailable, SerializationFailure

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import format_date, mute_logger

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import identity_exact

from mintcloud.appstate import app_state, live_fields, nothing_deployed, reset_progress
from mintcloud.appvars import (
    app_variables,
    builtin_variables,
    generated_secret_lines,
)
from mintcloud.domains import custom_domain_variables
from mintcloud.errors import MintCloudError, PermanentError
from mintcloud.lifecycle import refusal
from mintcloud.names import check_app_name, int_name, resource_prefix
from mintcloud.observe import Health, collect_problems, health, reset_steps
from mintcloud.status import collect_status
from mintcloud.variables import dump_vars_yml

from .kubernetes_deployment import NOT_DEPLOYS

_logger = logging.getLogger(__name__)


def _aware(value):
    """An Odoo datetime (naive UTC) as an aware one; None stays None."""
    return value.replace(tzinfo=datetime.timezone.utc) if value else None


def _naive(value):
    """An aware datetime as Odoo stores it (naive UTC, whole seconds)."""
    if not value:
        return False
    return value.astimezone(datetime.timezone.utc).replace(tzinfo=None, microsecond=0)


def _warning_text(row):
    """``BackOff on Pod/acme-odoo-x (x5): Back-off restarting failed container``."""
    count = f" (x{row['count']})" if row["count"] > 1 else ""
    return f"{row['reason']} on {row['object']}{count}: {row['message']}"[:250]


APP_STATES = [
    ("draft", "Draft"),
    ("queued", "Queued"),
    ("deploying", "Deploying"),
    ("running", "Running"),
    ("degraded", "Degraded"),
    ("error", "Error"),
    ("dry-run", "Dry-run"),
    ("suspended", "Suspended"),
    ("terminated", "Terminated"),
]
LIFECYCLES = [
    ("active", "Active"),
    ("suspended", "Suspended"),
    ("terminating", "Terminating"),
    ("terminated", "Terminated"),
]
LIFECYCLE_REASONS = [
    ("closed", "Subscription closed"),
    ("overdue", "Invoice overdue"),
    ("manual", "Suspended by an operator"),
]
BACKUP_STATES = [
    ("running", "Running"),
    ("succeeded", "Succeeded"),
    ("failed", "Failed"),
]
#: queue_job channel of the lifecycle steps (the deployments' channel).
LIFECYCLE_CHANNEL = "root.kubernetes"
#: A final backup that has not finished after this long has failed.
BACKUP_TIMEOUT_HOURS = 6
RESET_STATES = [
    ("queued", "Queued"),
    ("running", "Running"),
    ("succeeded", "Succeeded"),
    ("failed", "Failed"),
]
HEALTH_STATES = [
    ("running", "Running"),
    ("starting", "Starting"),
    ("problem", "Problem"),
]
#: Why an app is healthy or not, in its customer's words.
HEALTH_REASONS = [
    ("running", "Your app is running."),
    ("deploying", "Your app is being deployed."),
    ("starting", "Your app is starting."),
    ("not_ready", "Your app has not become ready in time."),
    ("crashing", "Your app stops unexpectedly and is being restarted."),
    ("out_of_memory", "Your app ran out of memory and is being restarted."),
    ("image", "A program your app needs could not be downloaded."),
    ("config", "Your app cannot start: its configuration is incomplete."),
    ("job_failed", "A maintenance task of your app failed."),
    ("failed", "The last change to your app could not be applied."),
]
#: Why a reset Job failed, in its customer's words.
RESET_FAILURES = [
    ("out_of_memory", "the step ran out of memory"),
    ("deadline", "the reset took longer than allowed"),
    ("image", "a program the reset needs could not be downloaded"),
    ("config", "its configuration is incomplete"),
    ("error", "the step failed"),
]
MANAGER_GROUP = "kubernetes_manifest.group_kubernetes_manager"
#: Context key that skips the first deployment on create (imports, tests).
NO_DEPLOY = "kubernetes_app_no_deploy"
#: Custom domains an app may have when nothing else (its product) says.
DEFAULT_CUSTOM_DOMAIN_LIMIT = 3
#: Waiting for a busy app before applying it again with new values (its
#: domains, its Mailgun credentials): every 15 s, for up to 10 minutes.
APPLY_AGAIN_WAIT_SECONDS = 15
APPLY_AGAIN_WAIT_RETRIES = 40


def lock_rows(records):
    """Lock the rows of ``records`` for this transaction (``FOR NO KEY UPDATE
    NOWAIT``, in a savepoint): False when another transaction holds one of
    them, or changed it since this one began; the caller retries later."""
    try:
        # A lock conflict is expected here: keep "bad query" out of the log.
        with mute_logger("odoo.sql_db"), records.env.cr.savepoint(flush=False):
            records.env.cr.execute(
                f"SELECT id FROM {records._table} WHERE id IN %s "  # noqa: S608
                "FOR NO KEY UPDATE NOWAIT",
                (tuple(records.ids),),
            )
    except (LockNotAvailable, SerializationFailure):
        return False
    return True


class KubernetesApp(models.Model):
    _name = "kubernetes.app"
    _description = "Kubernetes App"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "name, id"

    name = fields.Char(
        required=True,
        tracking=True,
        index=True,
        help="Used as the sub-domain and in every Kubernetes object name.",
    )
    hostname = fields.Char(compute="_compute_hostname", store=True)
    environment = fields.Selection(
        [("prod", "Production"), ("int", "Integration")],
        required=True,
        default="prod",
        tracking=True,
    )
    prod_app_id = fields.Many2one(
        "kubernetes.app",
        string="Production App",
        domain="[('environment', '=', 'prod'), ('cluster_id', '=', cluster_id)]",
        ondelete="restrict",
        index=True,
        help="The production app an integration app is a copy of.",
    )
    int_app_ids = fields.One2many(
        "kubernetes.app", "prod_app_id", string="Integration Apps"
    )
    partner_id = fields.Many2one("res.partner", string="Customer", tracking=True)
    cluster_id = fields.Many2one(
        "kubernetes.cluster",
        required=True,
        ondelete="restrict",
        tracking=True,
        default=lambda self: self.env["kubernetes.cluster"].search([], limit=1),
    )
    is_dry_run = fields.Boolean(related="cluster_id.is_dry_run", string="Dry-run")
    namespace = fields.Char(
        compute="_compute_namespace",
        store=True,
        help="The production app's name: an integration app lives in the "
        "namespace of its production app.",
    )
    manifest_line_ids = fields.One2many(
        "kubernetes.app.manifest", "app_id", string="Manifests", copy=True
    )
    reset_manifest_ids = fields.Many2many(
        "kubernetes.manifest",
        "kubernetes_app_reset_manifest_rel",
        "app_id",
        "manifest_id",
        string="Reset Manifests",
        domain=[("kind", "=", "reset")],
        help="Applied by Reset: they copy the production app into this "
        "integration app.",
    )
    variable_ids = fields.One2many(
        "kubernetes.app.variable", "app_id", string="Variables"
    )
    # The customer's own domains (kubernetes.app.domain): the verified ones
    # are the built-in custom_domains.
    custom_domain_ids = fields.One2many(
        "kubernetes.app.domain", "app_id", string="Custom Domains"
    )
    custom_domain_limit = fields.Integer(
        string="Custom Domains Allowed", compute="_compute_custom_domain_limit"
    )
    builtin_variables_yaml = fields.Text(
        string="Built-in and Default Variables",
        compute="_compute_builtin_variables_yaml",
    )
    state = fields.Selection(
        APP_STATES, required=True, default="draft", tracking=True, copy=False
    )
    active = fields.Boolean(default=True)

    # Live status, as last read from the cluster.
    ingress_hosts = fields.Char(readonly=True, copy=False)
    ingress_address = fields.Char(readonly=True, copy=False)
    tls_ready = fields.Boolean(string="TLS Ready", readonly=True, copy=False)
    replicas_ready = fields.Integer(string="Ready Replicas", readonly=True, copy=False)
    replicas_desired = fields.Integer(
        string="Desired Replicas", readonly=True, copy=False
    )
    status_message = fields.Char(readonly=True, copy=False)
    status_checked_at = fields.Datetime(
        string="Status Checked On", readonly=True, copy=False
    )

    deployment_ids = fields.One2many(
        "kubernetes.deployment", "app_id", string="Deployments"
    )
    deployment_count = fields.Integer(compute="_compute_deployment_count")
    last_deployment_id = fields.Many2one(
        "kubernetes.deployment", readonly=True, copy=False
    )
    last_deployment_state = fields.Selection(
        related="last_deployment_id.state", string="Last Deployment State"
    )
    is_busy = fields.Boolean(
        compute="_compute_is_busy",
        help="A deployment of this app is queued or running.",
    )
    # Revisions: what the app runs, compared with its manifests.
    revision_deployment_id = fields.Many2one(
        "kubernetes.deployment",
        string="Current Revision",
        readonly=True,
        copy=False,
        help="The last successful deployment of the app's deploy manifests: "
        "the revisions it rendered are what the app runs.",
    )
    is_outdated = fields.Boolean(
        string="Outdated",
        compute="_compute_is_outdated",
        store=True,
        index=True,
        help="One of the app's manifests has a newer revision than its last "
        "successful deployment: a rollout (or Apply) brings it up to date.",
    )
    upgrade_manifest_ids = fields.Many2many(
        "kubernetes.manifest",
        "kubernetes_app_upgrade_manifest_rel",
        "app_id",
        "manifest_id",
        string="Upgrade Manifests",
        domain=[("kind", "=", "upgrade")],
        help="Applied by a rollout that changes the app's code (a new Odoo "
        "image), before the new pods serve: they update the app's database.",
    )

    # The last reset and the progress of its Job.
    reset_deployment_id = fields.Many2one(
        "kubernetes.deployment", string="Last Reset", readonly=True, copy=False
    )
    reset_job_name = fields.Char(readonly=True, copy=False)
    reset_state = fields.Selection(
        RESET_STATES, string="Reset Progress", readonly=True, copy=False
    )
    reset_message = fields.Char(string="Reset Message", readonly=True, copy=False)
    # The reset Job in steps (its containers), for the customer's words;
    # valid for the Job reset_step_job only.
    reset_step = fields.Integer(readonly=True, copy=False)
    reset_step_total = fields.Integer(readonly=True, copy=False)
    reset_step_name = fields.Char(readonly=True, copy=False)
    reset_step_job = fields.Char(readonly=True, copy=False)
    reset_failure = fields.Selection(
        RESET_FAILURES, string="Reset Failure", readonly=True, copy=False
    )

    # What happens inside the app, as the status refresh last saw it.
    health_state = fields.Selection(
        HEALTH_STATES,
        string="Health",
        readonly=True,
        copy=False,
        help="What the customer sees: running, starting or a problem.",
    )
    health_reason = fields.Selection(
        HEALTH_REASONS, string="Health Reason", readonly=True, copy=False
    )
    health_since = fields.Datetime(readonly=True, copy=False)
    pod_restarts = fields.Integer(
        string="Restarts",
        readonly=True,
        copy=False,
        help="Restarts of the containers of the app's pods.",
    )
    last_warning = fields.Char(readonly=True, copy=False)
    last_warning_at = fields.Datetime(
        string="Last Warning On", readonly=True, copy=False
    )
    has_problems = fields.Boolean(
        string="Problems",
        readonly=True,
        copy=False,
        index=True,
        help="A Warning event or a container restart in the last hour, or a "
        "problem the customer sees.",
    )
    # The Cluster tab: the current user's last read of the app (on demand;
    # no field depends on the transient rows, nothing is read on load).
    cluster_read_at = fields.Datetime(compute="_compute_cluster_observation")
    cluster_error = fields.Char(compute="_compute_cluster_observation")
    cluster_object_ids = fields.Many2many(
        "kubernetes.app.observation.object",
        string="Cluster Objects",
        compute="_compute_cluster_observation",
    )
    cluster_pod_ids = fields.Many2many(
        "kubernetes.app.observation.pod",
        string="Cluster Pods",
        compute="_compute_cluster_observation",
    )
    cluster_event_ids = fields.Many2many(
        "kubernetes.app.observation.event",
        string="Cluster Events",
        compute="_compute_cluster_observation",
    )

    # Subscription lifecycle: suspend, resume, terminate (after a final backup).
    lifecycle = fields.Selection(
        LIFECYCLES,
        required=True,
        default="active",
        tracking=True,
        copy=False,
        help="Suspended: the app keeps its data but runs no Odoo; its address "
        "shows a 'suspended' page. Terminated: its final backup was taken and "
        "its objects were deleted; the record is kept, archived.",
    )
    lifecycle_reason = fields.Selection(
        LIFECYCLE_REASONS, string="Reason", tracking=True, copy=False
    )
    lifecycle_changed_on = fields.Datetime(
        string="Lifecycle Changed On", readonly=True, copy=False
    )
    #: Key of the last notice the customer got (e.g. "overdue:2026-12-24").
    lifecycle_notice = fields.Char(readonly=True, copy=False)
    backup_manifest_ids = fields.Many2many(
        "kubernetes.manifest",
        "kubernetes_app_backup_manifest_rel",
        "app_id",
        "manifest_id",
        string="Backup Manifests",
        domain=[("kind", "=", "backup")],
        help="Applied before the app is terminated: the final backup of its "
        "database and filestore. Without one, Terminate is refused.",
    )
    backup_id = fields.Char(string="Backup ID", readonly=True, copy=False)
    backup_job_name = fields.Char(readonly=True, copy=False)
    backup_state = fields.Selection(BACKUP_STATES, readonly=True, copy=False)
    backup_started_at = fields.Datetime(readonly=True, copy=False)
    backup_location = fields.Char(
        readonly=True, copy=False, help="Where the final backup of the app lies."
    )

    _sql_constraints = [
        (
            "cluster_name_uniq",
            "unique(cluster_id, name)",
            "An app with this name already exists on this cluster.",
        ),
    ]

    # ------------------------------------------------------------------
    # Compute and constraints
    # ------------------------------------------------------------------

    @api.depends("name", "cluster_id.domain")
    def _compute_hostname(self):
        for app in self:
            domain = app.cluster_id.domain
            app.hostname = f"{app.name}.{domain}" if app.name and domain else False

    @api.depends("name", "environment", "prod_app_id.name")
    def _compute_namespace(self):
        for app in self:
            if app.environment == "int":
                app.namespace = app.prod_app_id.name or False
            else:
                app.namespace = app.name or False

    @api.depends(
        "name",
        "hostname",
        "environment",
        "namespace",
        "partner_id.email",
        "partner_id.lang",
        "prod_app_id.name",
        "custom_domain_ids.state",
        "custom_domain_ids.is_primary",
    )
    def _compute_builtin_variables_yaml(self):
        for app in self:
            if not app.name or not app.cluster_id:  # a new app, not named yet
                app.builtin_variables_yaml = False
                continue
            try:
                variables = app_variables(
                    app._get_builtin_variables(), app._get_variable_defaults()
                )
            except MintCloudError as error:
                app.builtin_variables_yaml = str(error)
                continue
            app.builtin_variables_yaml = dump_vars_yml(variables, redact=True)

    def _compute_deployment_count(self):
        counts = dict(
            self.env["kubernetes.deployment"]
            .sudo()
            ._read_group([("app_id", "in", self.ids)], ["app_id"], ["__count"])
        )
        for app in self:
            app.deployment_count = counts.get(app, 0)

    def _compute_is_busy(self):
        busy = self._busy_deployments().app_id
        for app in self:
            app.is_busy = app in busy

    @api.depends(
        "manifest_line_ids.manifest_id.sha256",
        "manifest_line_ids.manifest_id.active",
        "revision_deployment_id.manifest_revisions",
    )
    def _compute_is_outdated(self):
        for app in self:
            app.is_outdated = bool(app._outdated_manifests())

    def _outdated_manifests(self):
        """The app's active deploy manifests whose revision differs from the
        one its last successful deployment rendered (none before the first
        one, or when that deployment recorded no revisions)."""
        self.ensure_one()
        text = self.revision_deployment_id.manifest_revisions
        if not text:
            return self.env["kubernetes.manifest"]
        deployed = json.loads(text)
        manifests = self.manifest_line_ids.manifest_id.filtered("active")
        return manifests.filtered(lambda m: deployed.get(str(m.id)) != m.sha256)

    @api.depends_context("uid")
    def _compute_cluster_observation(self):
        """The current user's last read of each app (no cluster request)."""
        Observation = self.env["kubernetes.app.observation"]
        for app in self:
            seen = Observation.browse()
            if app.id:
                seen = Observation.search(
                    [("app_id", "=", app.id), ("create_uid", "=", self.env.uid)],
                    order="id desc",
                    limit=1,
                )
            app.cluster_read_at = seen.read_at
            app.cluster_error = seen.error
            app.cluster_object_ids = seen.object_ids
            app.cluster_pod_ids = seen.pod_ids
            app.cluster_event_ids = seen.event_ids

    @api.constrains("name", "environment", "prod_app_id", "cluster_id")
    def _check_name(self):
        for app in self:
            if app.environment == "int":
                app._check_int_name()
            else:
                app._check_prod_name()

    def _check_prod_name(self):
        if self.prod_app_id:
            raise ValidationError(
                _("A production app cannot have a production app of its own.")
            )
        problems = check_app_name(self.name, domain=self.cluster_id.domain)
        if problems:
            raise ValidationError(
                _(
                    "Invalid app name %(name)s: %(problems)s",
                    name=self.name,
                    problems="; ".join(problems),
                )
            )
        clash = self.search_count(
            [
                ("cluster_id", "=", self.cluster_id.id),
                ("name", "=", int_name(self.name)),
                ("prod_app_id", "!=", self.id),
            ]
        )
        if clash:
            raise ValidationError(
                _(
                    "The name %(name)s is already taken: %(int)s exists on this cluster.",
                    name=self.name,
                    int=int_name(self.name),
                )
            )

    def _check_int_name(self):
        prod = self.prod_app_id
        if not prod or prod.environment != "prod":
            raise ValidationError(
                _("Integration app %(name)s needs a production app.", name=self.name)
            )
        if prod.cluster_id != self.cluster_id:
            raise ValidationError(
                _(
                    "Integration app %(name)s must be on the cluster of its "
                    "production app.",
                    name=self.name,
                )
            )
        if self.name != int_name(prod.name):
            raise ValidationError(
                _(
                    "The integration app of %(prod)s must be named %(name)s.",
                    prod=prod.name,
                    name=int_name(prod.name),
                )
            )

    # ------------------------------------------------------------------
    # Onchange and CRUD
    # ------------------------------------------------------------------

    @api.onchange("prod_app_id")
    def _onchange_prod_app_id(self):
        prod = self.prod_app_id
        if not prod:
            return
        self.environment = "int"
        self.name = int_name(prod.name)
        self.cluster_id = prod.cluster_id
        self.partner_id = prod.partner_id
        if not self.manifest_line_ids:
            self.manifest_line_ids = prod._manifest_line_commands()

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._prepare_int_values(vals)
        apps = super().create(vals_list)
        apps._create_generated_secrets()
        if not self.env.context.get(NO_DEPLOY):
            apps._enqueue_deployment("create")
        return apps

    @api.model
    def _prepare_int_values(self, vals):
        """An integration app takes cluster, customer and manifests from its prod."""
        if not vals.get("prod_app_id"):
            return
        prod = self.browse(vals["prod_app_id"])
        vals.setdefault("environment", "int")
        vals.setdefault("cluster_id", prod.cluster_id.id)
        vals.setdefault("partner_id", prod.partner_id.id)
        if "manifest_line_ids" not in vals:
            vals["manifest_line_ids"] = prod._manifest_line_commands()
        if "backup_manifest_ids" not in vals:
            vals["backup_manifest_ids"] = [
                fields.Command.set(prod.backup_manifest_ids.ids)
            ]
        if "upgrade_manifest_ids" not in vals:
            vals["upgrade_manifest_ids"] = [
                fields.Command.set(prod.upgrade_manifest_ids.ids)
            ]

    def _manifest_line_commands(self):
        self.ensure_one()
        return [
            fields.Command.create(
                {"sequence": line.sequence, "manifest_id": line.manifest_id.id}
            )
            for line in self.manifest_line_ids
        ]

    def _create_generated_secrets(self):
        """Generate the secret defaults (passwords) once per app."""
        commands = []
        for app in self:
            existing = app.sudo().variable_ids.mapped("name")
            for name, value, _secret in generated_secret_lines(existing):
                commands.append(
                    {
                        "app_id": app.id,
                        "name": name,
                        "secret": True,
                        "secret_value": value,
                        "source": "default",
                    }
                )
        if commands:
            self.env["kubernetes.app.variable"].sudo().create(commands)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_apply(self):
        """Render with the cached manifests, validate, apply, prune, read status."""
        self._enqueue_deployment("apply")
        return self._queued_notification(_("Apply queued"))

    def action_update(self):
        """Like Apply, but fetch the manifests again first."""
        self._enqueue_deployment("update")
        return self._queued_notification(_("Update queued"))

    def action_reset(self):
        """Apply the reset manifests (integration apps only)."""
        if any(app.environment != "int" for app in self):
            raise UserError(_("Only integration apps can be reset."))
        for app in self:
            if not app.reset_manifest_ids:
                raise UserError(
                    _("App %(name)s has no reset manifests.", name=app.name)
                )
        self._enqueue_deployment("reset")
        return self._queued_notification(_("Reset queued"))

    def action_check_status(self):
        """Read the live status from the cluster (in a job)."""
        if any(app.cluster_id.is_dry_run for app in self):
            raise UserError(
                _(
                    "The cluster of this app works in dry-run mode: nothing is "
                    "deployed, there is no status to check."
                )
            )
        self._enqueue_deployment("status")
        return self._queued_notification(_("Status check queued"))

    def action_preview(self):
        """Render and validate now; show the documents (and a server dry run)."""
        self.ensure_one()
        preview = self.env["kubernetes.app.preview"].create({"app_id": self.id})
        preview._run()
        return {
            "type": "ir.actions.act_window",
            "name": _("Preview of %(name)s", name=self.name),
            "res_model": "kubernetes.app.preview",
            "res_id": preview.id,
            "view_mode": "form",
            "target": "new",
        }

    def action_view_deployments(self):
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id(
            "kubernetes_app.kubernetes_deployment_action"
        )
        action["domain"] = [("app_id", "=", self.id)]
        action["context"] = {"default_app_id": self.id}
        return action

    def action_export_yaml(self):
        """Download the app's Ansible ``vars.yml`` (Action menu)."""
        if len(self) != 1:
            raise UserError(_("Select exactly one app to export."))
        return {
            "type": "ir.actions.act_url",
            "url": f"/kubernetes/app/{self.id}/vars.yml",
            "target": "download",
        }

    def action_suspend(self):
        """Suspend by hand (managers): Odoo stops, the data stays."""
        self._request_lifecycle("suspend", "manual")
        return self._queued_notification(_("Suspension queued"))

    def action_resume(self):
        """Resume a suspended app (managers)."""
        self._request_lifecycle("resume")
        return self._queued_notification(_("Resumption queued"))

    def action_terminate(self):
        """Open the confirmation in which the app name is typed (managers)."""
        self.ensure_one()
        self._check_lifecycle_access()
        self._check_lifecycle_step("terminate")
        return {
            "type": "ir.actions.act_window",
            "name": _("Terminate %(name)s", name=self.name),
            "res_model": "kubernetes.app.terminate",
            "view_mode": "form",
            "target": "new",
            "context": {"default_app_id": self.id},
        }

    def action_read_cluster(self):
        """Read the app's objects, pods and events from its cluster now (the
        Cluster tab); a cluster that does not answer is reported there."""
        self.ensure_one()
        self.env["kubernetes.app.observation"]._read_app(self)

    def _queued_notification(self, title):
        names = ", ".join(self.mapped("name"))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": title,
                "message": _(
                    "%(names)s: the deployment runs in the background.", names=names
                ),
                "type": "info",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    # ------------------------------------------------------------------
    # Variables
    # ------------------------------------------------------------------

    def _get_builtin_variables(self):
        """The built-in variables (app_name, hostname, ... prod_app_name, and
        custom_domains while the app has verified domains)."""
        self.ensure_one()
        variables = builtin_variables(
            self.name,
            self.hostname,
            self.environment,
            self.namespace,
            self.partner_id.email,
            self.partner_id.lang,
            self.prod_app_id.name if self.environment == "int" else None,
            suspended=self.lifecycle in ("suspended", "terminating"),
        )
        domains = self._custom_domain_values()
        if domains:
            variables["custom_domains"] = domains
        return variables

    def _get_variable_defaults(self):
        """Default variables (a dict or a mintcloud Variables); extended by
        other modules, e.g. with the defaults of the app's product."""
        self.ensure_one()
        return {}

    def _get_variables(self):
        """All variables of the app: built-ins, defaults, then its lines.

        The values the manifests are rendered with and the ``vars.yml``
        export holds; secrets are marked.
        """
        self.ensure_one()
        lines = [
            (line.name, line.secret_value if line.secret else line.value, line.secret)
            for line in self.sudo().variable_ids
        ]
        return app_variables(
            self._get_builtin_variables(), self._get_variable_defaults(), lines
        )

    def _get_manifests(self, reset=False, backup=False, upgrade=False):
        """The active deploy (or reset, backup, upgrade) manifests of the app,
        in order.

        Raises the core's PermanentError when there is none: applying no
        document would prune every object of the app.
        """
        self.ensure_one()
        if backup:
            manifests = self.backup_manifest_ids.sorted(lambda m: (m.sequence, m.id))
            if not manifests.filtered("active"):
                raise PermanentError(
                    _("App %(app)s has no backup manifests.", app=self.name)
                )
        elif upgrade:
            manifests = self.upgrade_manifest_ids.sorted(lambda m: (m.sequence, m.id))
        elif reset:
            manifests = self.reset_manifest_ids.sorted(lambda m: (m.sequence, m.id))
        else:
            lines = self.manifest_line_ids.sorted(lambda line: (line.sequence, line.id))
            manifests = lines.manifest_id
        manifests = manifests.filtered("active")
        if not manifests:
            kind = _("reset") if reset else _("upgrade") if upgrade else _("deploy")
            raise PermanentError(
                _("App %(app)s has no %(kind)s manifests.", app=self.name, kind=kind)
            )
        return manifests

    def _vars_yml(self, redact=None):
        """The ``vars.yml`` text; secrets masked unless the user is a manager."""
        self.ensure_one()
        if redact is None:
            redact = not self.env.user.has_group(MANAGER_GROUP)
        header = f"Ansible variables of Kubernetes app {self.name} ({self.hostname})"
        if redact:
            header += "\nSecret values are redacted."
        return dump_vars_yml(self._get_variables(), redact=redact, header=header)

    # ------------------------------------------------------------------
    # Custom domains (see kubernetes.app.domain)
    # ------------------------------------------------------------------

    def _compute_custom_domain_limit(self):
        for app in self:
            app.custom_domain_limit = (
                app._custom_domain_limit() if app.environment == "prod" else 0
            )

    def _custom_domain_limit(self):
        """How many custom domains the app may have; extended where the app's
        product says (website_sale_kubernetes)."""
        self.ensure_one()
        return DEFAULT_CUSTOM_DOMAIN_LIMIT

    def _check_custom_domain_allowed(self):
        """Raise a UserError when a domain cannot be added to this app now."""
        self.ensure_one()
        if self.environment != "prod":
            raise UserError(
                _(
                    "Only production apps have custom domains: %(app)s is a "
                    "staging (integration) app.",
                    app=self.name,
                )
            )
        if self.lifecycle in ("terminating", "terminated"):
            raise UserError(
                _("App %(app)s is terminated: it gets no new domains.", app=self.name)
            )

    def _check_custom_domain_count(self):
        self.ensure_one()
        limit = self._custom_domain_limit()
        if len(self.sudo().custom_domain_ids) > limit:
            raise UserError(
                _(
                    "App %(app)s may have at most %(limit)s custom domains.",
                    app=self.name,
                    limit=limit,
                )
            )

    def _custom_domain_values(self):
        """The built-in ``custom_domains``: the verified domains (prod only)."""
        self.ensure_one()
        if self.environment != "prod":
            return []
        domains = self.sudo().custom_domain_ids.filtered(
            lambda d: d.state == "verified"
        )
        return custom_domain_variables(
            [(d.name, d.is_primary) for d in domains], resource_prefix(self.name)
        )

    def _custom_domains_changed(self, note):
        """The served domains changed: apply the app again (see _apply_again)."""
        return self._apply_again(note)

    def _apply_again(self, note):
        """Values the manifests render changed: apply the app again, once.

        The change is a new ``kubernetes.app.change`` (its id the version;
        never a write on the app's row, which a running deployment holds);
        each deployment notes the version it rendered.  A terminating or terminated app is left alone; an app
        never deployed gets them with its first deployment.  While a
        deployment is queued or running (it may render from before this
        transaction commits), a job waits for it and applies again unless a
        later change took over or a finished deployment rendered them.
        ``note`` goes to the chatter when the app is applied again.
        """
        self.ensure_one()
        app = self.sudo()
        if app.lifecycle in ("terminating", "terminated"):
            return
        version = (
            self.env["kubernetes.app.change"]
            .sudo()
            .create({"app_id": app.id, "note": note})
            .id
        )
        if app._busy_deployments():
            app.with_delay(
                channel=LIFECYCLE_CHANNEL,
                identity_key=identity_exact,
                max_retries=APPLY_AGAIN_WAIT_RETRIES,
                description=_("Kubernetes: apply %(app)s again", app=app.name),
            )._job_apply_again(version, note)
            return
        deployed = app.deployment_ids.filtered(
            lambda d: d.trigger != "status" and d.state in ("done", "dry_run")
        )
        if deployed:  # else the first deployment renders them
            app._enqueue_deployment("apply")
            app.message_post(body=note)

    def _job_apply_again(self, version, note):
        """Apply the app again once its busy deployment finished.

        Idempotent: nothing when the app is gone or terminating, when a later
        change (a later ``kubernetes.app.change``) has its own job, or when a
        finished deployment rendered ``version`` or a later one.
        """
        self.ensure_one()
        app = self.sudo()
        if not app.exists() or app.lifecycle in ("terminating", "terminated"):
            return "Nothing to do: the app is gone or terminated."
        Change = self.env["kubernetes.app.change"].sudo()
        if Change.search_count([("app_id", "=", app.id), ("id", ">", version)]):
            return "Nothing to do: a later change applies the app."
        if app._busy_deployments(mark_lost=True):
            if self.env["kubernetes.deployment"]._is_last_attempt():
                text = _(
                    "The app's values changed while a deployment ran that did "
                    "not finish in time: apply the app again."
                )
                app.message_post(body=text)
                return text
            raise RetryableJobError(
                "A deployment of the app is queued or running; applying after it.",
                seconds=APPLY_AGAIN_WAIT_SECONDS,
            )
        rendered = app.deployment_ids.filtered(
            lambda d: (
                d.trigger != "status"
                and d.state in ("done", "dry_run", "failed")
                and d.vars_version >= version
            )
        )
        if rendered:
            return "Nothing to do: a deployment rendered the new values."
        app._enqueue_deployment("apply")
        app.message_post(body=note)
        return note

    # ------------------------------------------------------------------
    # Deployments
    # ------------------------------------------------------------------

    def _last_deploy(self):
        """The last successful deployment of the app's deploy manifests (not
        a reset, a backup, a status check or a termination): its objects and
        inventory are what the app has on the cluster."""
        self.ensure_one()
        return self._last_deploys().get(self, self.env["kubernetes.deployment"])

    def _last_deploys(self):
        """:meth:`_last_deploy` of each of these apps, in one query:
        ``{app: deployment}`` (apps never deployed are left out)."""
        if not self:
            return {}
        Deployment = self.env["kubernetes.deployment"].sudo()
        Deployment.flush_model(["app_id", "state", "trigger"])
        self.env.cr.execute(
            "SELECT DISTINCT ON (app_id) app_id, id FROM kubernetes_deployment "
            "WHERE app_id IN %s AND state = 'done' AND trigger NOT IN %s "
            "ORDER BY app_id, id DESC",
            (tuple(self.ids), tuple(NOT_DEPLOYS)),
        )
        found = dict(self.env.cr.fetchall())
        deployments = Deployment.browse(list(found.values()))
        by_id = {d.id: d for d in deployments}
        return {app: by_id[found[app.id]] for app in self if app.id in found}

    def _busy_deployments(self, mark_lost=False):
        """The queued or running deployments of these apps whose job is alive.

        With ``mark_lost`` the deployments whose job ended without finishing
        them are marked failed, so they no longer block the app.
        """
        deployments = (
            self.env["kubernetes.deployment"]
            .sudo()
            .search(
                [("app_id", "in", self.ids), ("state", "in", ("queued", "running"))]
            )
        )
        alive = deployments.filtered(lambda d: d._job_alive())
        if mark_lost:
            (deployments - alive)._mark_lost()
        return alive

    def _enqueue_deployment(self, trigger):
        """Create one deployment per app and enqueue its job; refuse busy apps.

        The caller's write access on the apps is checked; the records are
        then written with sudo (users may not create deployments directly).
        """
        self.check_access_rights("write")
        self.check_access_rule("write")
        busy = self._busy_deployments(mark_lost=True)
        if busy:
            raise UserError(
                _(
                    "A deployment of %(names)s is already queued or running; "
                    "wait until it has finished.",
                    names=", ".join(busy.app_id.mapped("name")),
                )
            )
        deployments = self.env["kubernetes.deployment"]
        for app in self.sudo():
            deployment = deployments.sudo().create(
                {
                    "app_id": app.id,
                    "trigger": trigger,
                    "dry_run": app.cluster_id.is_dry_run,
                }
            )
            values = {"last_deployment_id": deployment.id}
            if trigger != "status":
                values["state"] = "queued"
            if trigger == "reset":
                values.update(
                    reset_deployment_id=deployment.id,
                    reset_state="queued",
                    reset_job_name=False,
                    reset_message=False,
                )
            app.write(values)
            deployment._enqueue()
            deployments |= deployment
        return deployments

    def _lock_for_job(self):
        """Lock the app rows for a job; False when another transaction holds them."""
        return lock_rows(self)

    # ------------------------------------------------------------------
    # Lifecycle: suspend, resume, terminate
    # ------------------------------------------------------------------

    def _check_lifecycle_access(self):
        if not self.env.su and not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                _("Only Kubernetes managers suspend, resume or terminate apps.")
            )

    def _check_lifecycle_step(self, step):
        """Raise a UserError naming the app when ``step`` cannot be asked."""
        messages = {
            "terminated": _(
                "App %(name)s is terminated: it cannot be resumed, suspended or "
                "terminated again. Its final backup lies in %(location)s."
            ),
            "terminating": _(
                "App %(name)s is being terminated; wait until its final backup "
                "has finished."
            ),
            "not-suspended": _("App %(name)s is not suspended."),
            "suspended": _("App %(name)s is already suspended."),
        }
        for app in self:
            why = refusal(app.lifecycle, step)
            if why:
                raise UserError(
                    messages[why]
                    % {"name": app.name, "location": app.backup_location or "-"}
                )
            if step == "terminate" and not app.cluster_id.is_dry_run:
                if not app.backup_manifest_ids.filtered("active"):
                    raise UserError(
                        _(
                            "App %(name)s has no backup manifest: it cannot be "
                            "terminated without its final backup.",
                            name=app.name,
                        )
                    )

    def _request_lifecycle(self, step, reason=None):
        """Ask for ``step`` (suspend, resume, terminate) as a queue job per app.

        The job has an identity key: asking twice before it ran enqueues
        once, and the job checks on entry whether the step is still needed
        (a subscription closed twice suspends once).
        """
        self._check_lifecycle_access()
        self._check_lifecycle_step(step)
        self.check_access_rights("write")
        self.check_access_rule("write")
        for app in self.sudo():
            app.with_delay(
                channel=LIFECYCLE_CHANNEL,
                identity_key=identity_exact,
                description=_("Kubernetes: %(step)s %(app)s", step=step, app=app.name),
            )._job_lifecycle(step, reason)
            app.message_post(
                body=_(
                    "%(step)s requested (%(reason)s).",
                    step=step.capitalize(),
                    reason=dict(LIFECYCLE_REASONS).get(reason) or _("by an operator"),
                )
            )

    def _request_lifecycle_if_needed(self, step, reason=None):
        """Like :meth:`_request_lifecycle` for automation: skips apps for
        which ``step`` is not possible (already there, terminated)."""
        apps = self.filtered(lambda app: not refusal(app.lifecycle, step))
        if step == "terminate":
            apps = apps.filtered(
                lambda app: (
                    app.cluster_id.is_dry_run
                    or app.backup_manifest_ids.filtered("active")
                )
            )
        if apps:
            apps._request_lifecycle(step, reason)
        return apps

    def _job_lifecycle(self, step, reason=None):
        """The job of one lifecycle step; idempotent, waits for a busy app."""
        self.ensure_one()
        app = self.sudo()
        why = refusal(app.lifecycle, step)
        if why:
            return f"Nothing to do: {step} of a {app.lifecycle} app ({why})."
        if not app._lock_for_job():
            raise RetryableJobError(
                "The app is being changed by another transaction.",
                seconds=10,
                ignore_retry=True,
            )
        if app._busy_deployments(mark_lost=True):
            raise RetryableJobError(
                "Another deployment of the app runs; the step waits for it.",
                seconds=30,
                ignore_retry=True,
            )
        now = fields.Datetime.now()
        if step == "suspend":
            app.write(
                {
                    "lifecycle": "suspended",
                    "lifecycle_reason": reason or "manual",
                    "lifecycle_changed_on": now,
                }
            )
            app._enqueue_deployment("suspend")
            app._send_lifecycle_mail("suspended")
        elif step == "resume":
            app.write(
                {
                    "lifecycle": "active",
                    "lifecycle_reason": False,
                    "lifecycle_changed_on": now,
                    "lifecycle_notice": False,
                }
            )
            app._enqueue_deployment("resume")
            app._send_lifecycle_mail("resumed")
        elif step == "terminate":
            app.write(
                {
                    "lifecycle": "terminating",
                    "lifecycle_reason": reason or app.lifecycle_reason or "manual",
                    "lifecycle_changed_on": now,
                }
            )
            if app.cluster_id.is_dry_run:
                app._finish_termination(
                    _("dry-run cluster: nothing to back up or to delete")
                )
            else:
                # Stop Odoo first (a suspended app's deployment again), then
                # take the final backup: see kubernetes.deployment._deploy.
                app._enqueue_deployment("suspend")
        return f"{step}: done for {app.name}"

    def _job_await_backup(self):
        """Wait for the final backup Job; terminate after it, or stop."""
        self.ensure_one()
        app = self.sudo()
        if app.lifecycle != "terminating" or not app.backup_job_name:
            return "Nothing to do: no final backup is awaited."
        with app.cluster_id._api_client() as client:
            statuses = collect_status(
                client, namespaces=[app.namespace], kinds=("Job",)
            )
        progress, message = reset_progress(statuses.get(app.name), app.backup_job_name)
        started = app.backup_started_at or fields.Datetime.now()
        too_long = fields.Datetime.now() - started > datetime.timedelta(
            hours=BACKUP_TIMEOUT_HOURS
        )
        if progress == "succeeded":
            app.backup_state = "succeeded"
            app._enqueue_deployment("terminate")
            return f"Final backup {app.backup_job_name} succeeded: terminating."
        if progress == "failed" or too_long:
            app._backup_failed(
                message
                or (
                    _("the backup Job did not finish in %(hours)s hours")
                    % {"hours": BACKUP_TIMEOUT_HOURS}
                    if too_long
                    else _("the backup Job failed")
                )
            )
            return "Final backup failed: nothing deleted."
        raise RetryableJobError(
            f"Backup Job {app.backup_job_name} is still running.",
            seconds=30,
            ignore_retry=True,
        )

    def _backup_failed(self, reason):
        """Nothing is deleted: the app stays suspended; the operator is told."""
        self.ensure_one()
        self.write({"lifecycle": "suspended", "backup_state": "failed"})
        text = _(
            "The final backup of %(name)s failed: %(reason)s. Nothing was deleted; "
            "the app stays suspended. Fix the cause, then terminate it again.",
            name=self.name,
            reason=reason,
        )
        self.message_post(body=text)
        self.activity_schedule(
            "mail.mail_activity_data_warning",
            summary=_("Final backup failed: %(name)s", name=self.name),
            note=text,
            user_id=self._lifecycle_responsible().id,
        )

    def _lifecycle_responsible(self):
        """Who gets the operator's activities: the app's last writer if a
        Kubernetes manager, else the first manager, else the admin."""
        group = self.env.ref(MANAGER_GROUP)
        users = group.sudo().users.filtered(lambda u: u.active and not u.share)
        if self.write_uid in users:
            return self.write_uid
        return users[:1] or self.env.ref("base.user_admin")

    def _finish_termination(self, note):
        """Mark terminated and archive; a namespace all of whose apps are
        terminated is removed by the caller; features hook in here."""
        self.ensure_one()
        self.write(
            {
                "lifecycle": "terminated",
                "state": "terminated",
                "lifecycle_changed_on": fields.Datetime.now(),
                "active": False,
            }
        )
        self.message_post(
            body=_(
                "Terminated (%(note)s). The final backup lies in %(location)s.",
                note=note,
                location=self.backup_location or "-",
            )
        )
        self._on_terminated()

    def _on_terminated(self):
        """Hook: the app was terminated (e.g. remove its Mailgun domain)."""

    def _namespace_apps(self):
        """Every app (archived included) living in this app's namespace."""
        self.ensure_one()
        return (
            self.with_context(active_test=False)
            .sudo()
            .search(
                [
                    ("cluster_id", "=", self.cluster_id.id),
                    ("namespace", "=", self.namespace),
                ]
            )
        )

    def _kubernetes_pay_url(self):
        """Where the customer pays what suspended the app (False: nowhere).

        Extended where invoices are known (website_sale_kubernetes)."""
        return False

    def _kubernetes_notice(self, kind, due_on):
        """Tell the customer once that ``kind`` (overdue, termination) comes on
        ``due_on``; a second call for the same notice sends nothing."""
        key = f"{kind}:{due_on.isoformat()}"
        for app in self.sudo().filtered(
            lambda a: a.environment == "prod" and a.lifecycle_notice != key
        ):
            app._send_lifecycle_mail(
                kind,
                lifecycle_due_on=format_date(
                    app.env, due_on, lang_code=app.partner_id.lang or None
                ),
            )
            app.lifecycle_notice = key

    def _send_lifecycle_mail(self, kind, **values):
        """Tell the customer of a production app (``kind``: suspended,
        resumed, overdue, termination); the mail is queued."""
        template = self.env.ref(
            f"kubernetes_app.mail_template_app_{kind}", raise_if_not_found=False
        )
        for app in self.sudo().filtered(
            lambda a: a.environment == "prod" and a.partner_id.email
        ):
            pay_url = app._kubernetes_pay_url()
            app._send_customer_mail(
                template,
                {
                    "lifecycle_kind": kind,
                    "lifecycle_pay_url": pay_url or "",
                    **values,
                },
            )

    def _send_customer_mail(self, template, values):
        """Send ``template`` to the app's customer in their language, through
        Odoo's mail server (mailgun_domain sends it from the app's domain)."""
        self.ensure_one()
        template.with_context(lang=self.partner_id.lang, **values).send_mail(
            self.id, email_layout_xmlid="mail.mail_notification_light"
        )

    def unlink(self):
        """Apps that may still have objects on a connected cluster are
        terminated, not deleted; a production app goes after its copies."""
        for app in self:
            live = (
                not app.cluster_id.is_dry_run
                and app.lifecycle != "terminated"
                and app.sudo().deployment_ids.filtered(
                    lambda d: d.state == "done" and d.trigger != "status"
                )
            )
            if live:
                raise UserError(
                    _(
                        "App %(name)s may still run on cluster %(cluster)s: "
                        "terminate it (Terminate takes a final backup, then "
                        "deletes its objects) instead of deleting the record.",
                        name=app.name,
                        cluster=app.cluster_id.name,
                    )
                )
            copies = app.with_context(active_test=False).sudo().int_app_ids - self
            if copies:
                raise UserError(
                    _(
                        "Delete or terminate the integration app %(copies)s of "
                        "%(name)s first.",
                        copies=", ".join(copies.mapped("name")),
                        name=app.name,
                    )
                )
        return super().unlink()

    # ------------------------------------------------------------------
    # Status
    # ------------------------------------------------------------------

    @api.model
    def _cron_refresh_status(self):
        """Refresh every app of every connected cluster: one LIST per kind."""
        clusters = self.env["kubernetes.cluster"].search(
            [("connection", "!=", "dry_run")]
        )
        for cluster in clusters:
            apps = self.search([("cluster_id", "=", cluster.id)])
            if not apps:
                continue
            try:
                apps._refresh_status()
            except MintCloudError as error:
                # Kubernetes errors name objects and reasons, never secrets.
                _logger.warning("Status of cluster %s: %s", cluster.name, error)

    def _refresh_status(self):
        """Read the status of these apps (one collect per cluster) and store it.

        Raises the core's KubeApiError when the cluster cannot be read.
        """
        for cluster in self.cluster_id:
            apps = self.filtered(lambda app, c=cluster: app.cluster_id == c)
            if cluster.is_dry_run:
                continue
            namespaces = set(apps.mapped("namespace"))
            with cluster._api_client() as client:
                statuses = collect_status(client, namespaces=namespaces)
                problems = apps._collect_problems(client, statuses, namespaces)
                apps._apply_statuses(statuses, problems)
                self.env["kubernetes.app.domain"]._refresh_tls(apps, client, statuses)
                if problems is not None:
                    apps._diagnose_failures(client, problems)

    def _collect_problems(self, client, statuses, namespaces):
        """Pods and Warning events of every app (one LIST each per cluster),
        or None when they cannot be read: the status is stored anyway."""
        by_name = {app.name: app for app in self}

        def secrets(name):
            app = by_name.get(name)
            return app._secret_values() if app else ()

        try:
            return collect_problems(client, statuses, namespaces, secrets=secrets)
        except MintCloudError as error:
            _logger.warning("Pods and events of %s: %s", self.cluster_id.name, error)
            return None

    def _secret_values(self):
        """The app's secret values, to mask them in what the cluster says."""
        self.ensure_one()
        try:
            return self._get_variables().secret_values()
        except MintCloudError:
            return self.sudo().variable_ids.filtered("secret").mapped("secret_value")

    def _diagnose_failures(self, client, problems):
        """Keep events and logs on the reset or deployment that just failed."""
        deployments = self.reset_deployment_id | self.last_deployment_id
        deployments._diagnose(client, problems)

    def _apply_statuses(self, statuses, problems=None):
        """Write the live fields and states from ``{app name: AppStatus}``.

        ``problems`` (``{app name: AppProblems}``, None when not read) adds
        restarts, the last warning and the pods the health is judged by.
        Apps whose values did not change are not written; apps with the
        same new values are written together.
        """
        now = fields.Datetime.now()
        groups = collections.defaultdict(lambda: self.browse())
        for app in self:
            values = app._status_values(statuses.get(app.name))
            values.update(
                app._observed_values(
                    statuses.get(app.name),
                    values["state"],
                    problems if problems is None else problems.get(app.name),
                    problems is not None,
                )
            )
            changed = {
                name: value for name, value in values.items() if app[name] != value
            }
            changed["status_checked_at"] = now
            groups[tuple(sorted(changed.items()))] |= app
        for items, apps in groups.items():
            apps.sudo().write(dict(items))

    def _status_values(self, status):
        """Field values from one AppStatus (None: nothing found on the cluster)."""
        self.ensure_one()
        values = live_fields(status)
        values["state"] = app_state(
            status.state if status is not None else "pending",
            self.state,
            nothing_deployed(status),
        )
        if self.reset_job_name:
            progress, message = reset_progress(status, self.reset_job_name)
            if progress:
                values.update(reset_state=progress, reset_message=message or False)
        return values

    def _observed_values(self, status, state, problems, read):
        """Health, restarts, last warning and reset steps of one app.

        ``problems`` is its AppProblems when the pods and events were
        ``read`` (then None means none found), else None: restarts and the
        last warning stay, the health is judged without pods.
        """
        self.ensure_one()
        pods = problems.pods if problems is not None else ([] if read else None)
        previous = None
        if self.health_state:
            previous = Health(
                self.health_state, self.health_reason, _aware(self.health_since)
            )
        found = health(status, pods, state, previous)
        values = {"health_state": False, "health_reason": False, "health_since": False}
        if found is not None:
            values.update(
                health_state=found.state,
                health_reason=found.reason,
                # Unknown since: from now on (a kept state keeps its since).
                health_since=_naive(found.since) or fields.Datetime.now(),
            )
        problem = found is not None and found.state == "problem"
        if read:
            warning = problems.warning if problems is not None else None
            values.update(
                pod_restarts=problems.restarts if problems is not None else 0,
                last_warning=_warning_text(warning) if warning else False,
                last_warning_at=_naive(warning["last_seen"]) if warning else False,
                has_problems=problem
                or bool(problems is not None and problems.has_problems),
            )
        elif problem:
            values["has_problems"] = True
        job = next(
            (
                j
                for j in (status.jobs if status else [])
                if j["name"] == self.reset_job_name
            ),
            None,
        )
        known = self.reset_step_job == self.reset_job_name
        if job is not None and (pods is not None or not known):
            steps = reset_steps(job, pods or [])
            values.update(
                reset_step_job=self.reset_job_name,
                reset_step=steps.step,
                reset_step_total=steps.total,
                reset_step_name=steps.step_name or False,
                reset_failure=steps.failure or False,
            )
        return values
