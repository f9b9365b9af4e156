# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The ordered manifests a hosting product deploys its apps from."""

from odoo import fields, models


class ProductKubernetesManifest(models.Model):
    _name = "product.kubernetes.manifest"
    _description = "Hosting Product Manifest"
    _order = "sequence, id"

    product_tmpl_id = fields.Many2one(
        "product.template",
        string="Product",
        required=True,
        ondelete="cascade",
        index=True,
    )
    sequence = fields.Integer(default=10)
    manifest_id = fields.Many2one(
        "kubernetes.manifest", string="Manifest", required=True, ondelete="restrict"
    )
    kind = fields.Selection(related="manifest_id.kind")
    url = fields.Char(related="manifest_id.url")

    _sql_constraints = [
        (
            "product_manifest_uniq",
            "unique(product_tmpl_id, manifest_id)",
            "A manifest can be used only once per product.",
        ),
    ]
