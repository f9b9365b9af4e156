# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Kubernetes clusters the apps are deployed to.

A cluster without a connection works in dry-run mode: deployments are
rendered, validated and recorded, nothing is sent.  The kubeconfig is
readable by Kubernetes managers only and never appears in a message.
"""

import json
import logging
import re

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from mintcloud.domains import ip_addresses
from mintcloud.errors import KubePermanentError, MintCloudError
from mintcloud.garbage import delete_garbage, find_garbage
from mintcloud.kube import api_client, server_version
from mintcloud.names import DEFAULT_DOMAIN, resource_prefix
from mintcloud.tenancy import (
    DEFAULT_ALLOWED_KINDS,
    DEFAULT_CLUSTER_ROLES,
    TenantPolicy,
    parse_cluster_roles,
    parse_kinds,
)
from mintcloud.validate import DEFAULT_KUBERNETES_VERSION, resolve_version
from mintcloud.variables import Variables

_logger = logging.getLogger(__name__)

# Lowercase DNS labels, at least two: "mint-cloud.ch".
_DOMAIN = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]([-a-z0-9]*[a-z0-9])?$")

CONNECTIONS = [
    ("dry_run", "None (dry-run)"),
    ("kubeconfig", "Kubeconfig"),
    ("in_cluster", "In-cluster service account"),
]


class KubernetesCluster(models.Model):
    _name = "kubernetes.cluster"
    _description = "Kubernetes Cluster"
    _order = "name, id"

    name = fields.Char(required=True)
    domain = fields.Char(
        string="Base Domain",
        required=True,
        default=DEFAULT_DOMAIN,
        help="Apps are served as <app name>.<base domain>.",
    )
    ingress_addresses = fields.Char(
        help="Public IP addresses of the cluster's ingress controller, "
        "comma-separated (IPv4 and IPv6): customers point the A/AAAA records "
        "of an apex custom domain (customer.com) there. Empty: the address "
        "the app's Ingress reports.",
    )
    connection = fields.Selection(
        CONNECTIONS,
        required=True,
        default="dry_run",
        help="Without a connection deployments are rendered, validated and "
        "recorded, but nothing is sent to a cluster.",
    )
    kubeconfig = fields.Text(
        groups="kubernetes_manifest.group_kubernetes_manager",
        help="The kubeconfig file (YAML) used to reach the API server; its "
        "current context is used.",
    )
    kubernetes_version = fields.Char(
        required=True,
        default=DEFAULT_KUBERNETES_VERSION,
        help="Kubernetes version whose schemas validate the rendered documents "
        "before they are applied, e.g. 1.29.",
    )
    allowed_kinds = fields.Text(
        required=True,
        default="\n".join(DEFAULT_ALLOWED_KINDS),
        help="What the rendered documents of an app may create, one kind a "
        "line: Kind for the core group (ConfigMap), group/Kind otherwise "
        "(apps/Deployment). Every object must also live in the app's "
        "namespace; cluster-scoped kinds are never allowed, except the app's "
        "own Namespace.",
    )
    allowed_cluster_roles = fields.Char(
        string="Bindable ClusterRoles",
        default=", ".join(DEFAULT_CLUSTER_ROLES),
        help="ClusterRoles a RoleBinding of an app may bind in its namespace, "
        "comma-separated; empty allows none. A RoleBinding to a Role of the "
        "app's namespace is always allowed.",
    )
    backup_storage_class = fields.Char(
        help="StorageClass of the final backup's volume claim; give one whose "
        "reclaimPolicy is Retain, so the backup outlives the app's namespace. "
        "Empty: the cluster's default class.",
    )
    backup_s3_endpoint = fields.Char(
        string="S3 Endpoint",
        help="An S3-compatible endpoint (https://...): the final backups are "
        "also uploaded there. Empty: volume claim only.",
    )
    backup_s3_bucket = fields.Char(string="S3 Bucket")
    backup_s3_prefix = fields.Char(string="S3 Prefix", default="mint-cloud")
    backup_s3_access_key = fields.Char(
        string="S3 Access Key", groups="kubernetes_manifest.group_kubernetes_manager"
    )
    backup_s3_secret_key = fields.Char(
        string="S3 Secret Key", groups="kubernetes_manifest.group_kubernetes_manager"
    )
    garbage_checked_at = fields.Datetime(string="Garbage Checked On", readonly=True)
    garbage_report = fields.Text(
        readonly=True,
        help="What the last garbage collection found: objects labelled with an "
        "app that its inventory does not hold (left by a failed deployment). "
        "They are deleted when the next collection finds them again.",
    )
    #: JSON list of the objects found by the last collection (deleted when
    #: the next one finds them again, same uid).
    garbage_pending = fields.Text(readonly=True)
    active = fields.Boolean(default=True)
    is_dry_run = fields.Boolean(
        string="Dry-run", compute="_compute_is_dry_run", store=True
    )
    app_ids = fields.One2many("kubernetes.app", "cluster_id", string="Apps")
    app_count = fields.Integer(compute="_compute_app_count", string="Apps Count")

    _sql_constraints = [
        ("name_uniq", "unique(name)", "A cluster with this name already exists."),
    ]

    # ------------------------------------------------------------------
    # Compute and constraints
    # ------------------------------------------------------------------

    @api.depends("connection")
    def _compute_is_dry_run(self):
        for cluster in self:
            cluster.is_dry_run = cluster.connection == "dry_run"

    def _compute_app_count(self):
        counts = dict(
            self.env["kubernetes.app"]._read_group(
                [("cluster_id", "in", self.ids)], ["cluster_id"], ["__count"]
            )
        )
        for cluster in self:
            cluster.app_count = counts.get(cluster, 0)

    @api.constrains("kubernetes_version")
    def _check_kubernetes_version(self):
        for cluster in self:
            try:
                resolve_version(cluster.kubernetes_version)
            except MintCloudError as error:
                raise ValidationError(str(error)) from None

    @api.constrains("allowed_kinds", "allowed_cluster_roles")
    def _check_tenant_boundary(self):
        for cluster in self:
            try:
                parse_kinds(cluster.allowed_kinds)
                parse_cluster_roles(cluster.allowed_cluster_roles)
            except MintCloudError as error:
                raise ValidationError(str(error)) from None

    @api.constrains("ingress_addresses")
    def _check_ingress_addresses(self):
        for cluster in self.filtered("ingress_addresses"):
            words = cluster.ingress_addresses.replace(",", " ").split()
            if not all(any(ip_addresses([word])) for word in words):
                raise ValidationError(
                    _(
                        "Ingress addresses are IP addresses separated by commas, "
                        "e.g. 203.0.113.7, 2001:db8::7."
                    )
                )

    @api.constrains("domain")
    def _check_domain(self):
        for cluster in self:
            if not _DOMAIN.match(cluster.domain or ""):
                raise ValidationError(
                    _("%(domain)s is not a valid base domain.", domain=cluster.domain)
                )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_test_connection(self):
        """Ask the API server for its version; show it or the exact error."""
        self.ensure_one()
        if self.is_dry_run:
            ok, message = (
                False,
                _("This cluster has no connection: it works in dry-run mode."),
            )
        else:
            try:
                with self._api_client() as client:
                    version = server_version(client)
            except MintCloudError as error:
                ok, message = False, str(error)
            else:
                ok, message = (
                    True,
                    _("Connected: Kubernetes %(version)s.", version=version),
                )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Test connection: %(name)s", name=self.name),
                "message": message,
                "type": "success" if ok else "danger",
                "sticky": not ok,
            },
        }

    def action_view_apps(self):
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id(
            "kubernetes_app.kubernetes_app_action"
        )
        action["domain"] = [("cluster_id", "=", self.id)]
        action["context"] = {"default_cluster_id": self.id}
        return action

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------

    @api.model
    def _cron_collect_garbage(self):
        """Every connected cluster: one label-selected LIST per kind."""
        for cluster in self.search([("connection", "!=", "dry_run")]):
            try:
                cluster._collect_garbage()
            except MintCloudError as error:
                _logger.warning(
                    "Garbage collection of cluster %s: %s", cluster.name, error
                )

    def _collect_garbage(self):
        """Report what the apps' inventories missed; delete what the previous
        run reported already (same uid): a deployment still applying never
        loses an object it has just created.  Apps with a queued or running
        deployment are not judged."""
        self.ensure_one()
        apps = self.env["kubernetes.app"].sudo().search([("cluster_id", "=", self.id)])
        busy = apps._busy_deployments().app_id
        inventories = {}
        judged = apps - busy
        last_deploys = judged._last_deploys()  # one query for the cluster
        for app in judged:
            last = last_deploys.get(app)
            inventories[app.name] = (
                json.loads(last.inventory) if last and last.inventory else None
            )
        with self._api_client() as client:
            found = find_garbage(client, inventories)
            pending = {item["uid"] for item in json.loads(self.garbage_pending or "[]")}
            doomed = [item for item in found if item["uid"] in pending]
            results = delete_garbage(client, doomed)
        deleted = [r for r in results if r.action == "pruned"]
        lines = [
            _(
                "%(kind)s %(ns)s/%(name)s of app %(app)s",
                kind=g["kind"],
                ns=g["namespace"],
                name=g["name"],
                app=g["app"],
            )
            for g in found
        ]
        report = (
            _("Not in their apps' inventories (deleted when found again):")
            + "\n"
            + "\n".join(lines)
            if lines
            else _("Nothing found.")
        )
        if deleted:
            report += "\n" + _(
                "Deleted now: %(objects)s",
                objects=", ".join(f"{r.kind} {r.namespace}/{r.name}" for r in deleted),
            )
            _logger.info(
                "Garbage collection of cluster %s deleted %s object(s)",
                self.name,
                len(deleted),
            )
        if found:
            _logger.info(
                "Garbage collection of cluster %s found %s object(s)",
                self.name,
                len(found),
            )
        remaining = [item for item in found if item not in doomed]
        self.write(
            {
                "garbage_checked_at": fields.Datetime.now(),
                "garbage_report": report,
                "garbage_pending": json.dumps(remaining),
            }
        )
        return found, deleted

    def _tenant_policy(self, namespace):
        """The tenant boundary of an app of this cluster living in ``namespace``."""
        self.ensure_one()
        return TenantPolicy(
            namespace,
            allowed_kinds=parse_kinds(self.allowed_kinds),
            allowed_cluster_roles=parse_cluster_roles(self.allowed_cluster_roles),
        )

    def _backup_variables(self):
        """The variables the backup manifests get from this cluster (secrets marked)."""
        self.ensure_one()
        cluster = self.sudo()
        variables = Variables()
        if cluster.backup_storage_class:
            variables["backup_storage_class"] = cluster.backup_storage_class
        if cluster.backup_s3_endpoint and cluster.backup_s3_bucket:
            variables["backup_s3"] = {
                "endpoint": cluster.backup_s3_endpoint,
                "bucket": cluster.backup_s3_bucket,
                "prefix": cluster.backup_s3_prefix or "mint-cloud",
            }
            variables.set(
                "backup_s3_access_key", cluster.backup_s3_access_key or "", secret=True
            )
            variables.set(
                "backup_s3_secret_key", cluster.backup_s3_secret_key or "", secret=True
            )
        return variables

    def _backup_location(self, app, backup_id):
        """Where backup ``backup_id`` of ``app`` lies, in words an operator reads."""
        self.ensure_one()
        cluster = self.sudo()
        claim_name = resource_prefix(app.name) + "-backup"
        claim = _(
            "volume claim %(ns)s/%(claim)s, folder %(folder)s/",
            ns=app.namespace,
            claim=claim_name,
            folder=backup_id,
        )
        if cluster.backup_s3_endpoint and cluster.backup_s3_bucket:
            prefix = cluster.backup_s3_prefix or "mint-cloud"
            return (
                f"s3://{cluster.backup_s3_bucket}/{prefix}/{app.name}/{backup_id}/ "
                f"({cluster.backup_s3_endpoint}); {claim}"
            )
        return claim

    def _api_client(self, **options):
        """A new API client for this cluster (close it after use).

        ``options`` go to :func:`mintcloud.kube.api_client` (``timeout``,
        ``retries``).  Raises the core's KubePermanentError when the
        connection is missing or unusable; the message never quotes the
        kubeconfig.
        """
        self.ensure_one()
        cluster = self.sudo()
        if cluster.connection == "in_cluster":
            return api_client(in_cluster=True, **options)
        if cluster.connection == "kubeconfig":
            return api_client(kubeconfig=cluster.kubeconfig or None, **options)
        raise KubePermanentError(f"Cluster {self.name} has no connection (dry-run)")
