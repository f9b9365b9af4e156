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
import logging

from psycopg2.errors import LockNotAvailable

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import mute_logger

from mintcloud.appstate import app_state, live_fields, nothing_deployed, reset_progress
from mintcloud.appvars import (
    app_variables,
    builtin_variables,
    generated_secret_lines,
)
from mintcloud.errors import MintCloudError, PermanentError
from mintcloud.names import check_app_name, int_name
from mintcloud.status import collect_status
from mintcloud.variables import dump_vars_yml

_logger = logging.getLogger(__name__)

APP_STATES = [
    ("draft", "Draft"),
    ("queued", "Queued"),
    ("deploying", "Deploying"),
    ("running", "Running"),
    ("degraded", "Degraded"),
    ("error", "Error"),
    ("dry-run", "Dry-run"),
]
RESET_STATES = [
    ("queued", "Queued"),
    ("running", "Running"),
    ("succeeded", "Succeeded"),
    ("failed", "Failed"),
]
MANAGER_GROUP = "kubernetes_manifest.group_kubernetes_manager"
#: Context key that skips the first deployment on create (imports, tests).
NO_DEPLOY = "kubernetes_app_no_deploy"


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

    # The last reset and the progress of its Job.
    reset_deployment_id = fields.Many2one(
        "kubernetes.deployment", string="Last Reset", readonly=True, copy=False
    )
    reset_job_name = fields.Char(readonly=True, copy=False)
    reset_state = fields.Selection(
        RESET_STATES, string="Reset Progress", readonly=True, copy=False
    )
    reset_message = fields.Char(string="Reset Message", readonly=True, copy=False)

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
        """The built-in variables (app_name, hostname, ... prod_app_name)."""
        self.ensure_one()
        return builtin_variables(
            self.name,
            self.hostname,
            self.environment,
            self.namespace,
            self.partner_id.email,
            self.partner_id.lang,
            self.prod_app_id.name if self.environment == "int" else None,
        )

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

    def _get_manifests(self, reset=False):
        """The active deploy (or reset) manifests of the app, in order.

        Raises the core's PermanentError when there is none: applying no
        document would prune every object of the app.
        """
        self.ensure_one()
        if reset:
            manifests = self.reset_manifest_ids.sorted(lambda m: (m.sequence, m.id))
        else:
            lines = self.manifest_line_ids.sorted(lambda line: (line.sequence, line.id))
            manifests = lines.manifest_id
        manifests = manifests.filtered("active")
        if not manifests:
            kind = _("reset") if reset else _("deploy")
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
    # Deployments
    # ------------------------------------------------------------------

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
        try:
            # A lock conflict is expected here: keep "bad query" out of the log.
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    "SELECT id FROM kubernetes_app WHERE id IN %s FOR NO KEY UPDATE NOWAIT",
                    (tuple(self.ids),),
                )
        except LockNotAvailable:
            return False
        return True

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
            apps._apply_statuses(statuses)

    def _apply_statuses(self, statuses):
        """Write the live fields and states from ``{app name: AppStatus}``.

        Apps whose values did not change are not written; apps with the
        same new values are written together.
        """
        now = fields.Datetime.now()
        groups = collections.defaultdict(lambda: self.browse())
        for app in self:
            values = app._status_values(statuses.get(app.name))
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
