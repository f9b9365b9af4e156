# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""What one deployment did to one Kubernetes object."""

from odoo import fields, models


class KubernetesDeploymentObject(models.Model):
    _name = "kubernetes.deployment.object"
    _description = "Kubernetes Deployment Object"
    _order = "deployment_id, sequence, id"

    deployment_id = fields.Many2one(
        "kubernetes.deployment",
        string="Deployment",
        required=True,
        ondelete="cascade",
        index=True,
    )
    sequence = fields.Integer()
    kind = fields.Char()
    name = fields.Char()
    namespace = fields.Char()
    api_version = fields.Char(string="API Version")
    action = fields.Selection(
        [
            ("created", "Created"),
            ("configured", "Configured"),
            ("unchanged", "Unchanged"),
            ("pruned", "Pruned"),
            ("failed", "Failed"),
            ("dry_run", "Dry run (not sent)"),
        ],
        required=True,
    )
    message = fields.Text()
