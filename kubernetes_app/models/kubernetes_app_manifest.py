# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The ordered manifests an app is deployed from."""

from odoo import fields, models


class KubernetesAppManifest(models.Model):
    _name = "kubernetes.app.manifest"
    _description = "Kubernetes App Manifest"
    _order = "sequence, id"

    app_id = fields.Many2one(
        "kubernetes.app", string="App", required=True, ondelete="cascade", index=True
    )
    sequence = fields.Integer(default=10)
    manifest_id = fields.Many2one(
        "kubernetes.manifest",
        string="Manifest",
        required=True,
        ondelete="restrict",
        domain=[("kind", "=", "deploy")],
    )
    url = fields.Char(related="manifest_id.url")
    fetch_error = fields.Text(related="manifest_id.fetch_error")
    sha256 = fields.Char(related="manifest_id.sha256", string="SHA-256")

    _sql_constraints = [
        (
            "app_manifest_uniq",
            "unique(app_id, manifest_id)",
            "A manifest can be used only once per app.",
        ),
    ]
