# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Default variables of a hosting product.

Every app sold with the product renders its manifests with these values
(unless the app overrides them).  A variable marked *generate per app* has
no value here: each app gets its own random secret when it is created.
"""

from odoo import api, fields, models

#: Length of a secret generated per app.
GENERATED_LENGTH = 32


class ProductKubernetesVariable(models.Model):
    _name = "product.kubernetes.variable"
    _inherit = "kubernetes.variable.mixin"
    _description = "Hosting Product Default Variable"
    _order = "product_tmpl_id, name, id"
    _secrecy_fields = {"value", "secret", "secret_value", "generate"}

    product_tmpl_id = fields.Many2one(
        "product.template",
        string="Product",
        required=True,
        ondelete="cascade",
        index=True,
    )
    generate = fields.Boolean(
        string="Generate per App",
        help="Each app gets its own random secret (32 characters) when it is "
        "created; the value here is not used.",
    )

    _sql_constraints = [
        (
            "product_name_uniq",
            "unique(product_tmpl_id, name)",
            "A variable name can be used only once per product.",
        ),
    ]

    @api.depends("value", "secret", "generate")
    @api.depends_context("uid")
    def _compute_display_value(self):
        return super()._compute_display_value()

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("generate"):
                vals["secret"] = True
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("generate"):
            vals = dict(vals, secret=True)
        return super().write(vals)

    def _secret_is_shown(self):
        return not self.generate

    def _values_by_secrecy(self):
        """A generated secret keeps no value here."""
        if self.generate:
            return {"value": False, "secret_value": False}
        return super()._values_by_secrecy()

    def _default_lines(self):
        """``[(name, value, secret)]`` of the variables that are not generated."""
        return [
            (v.name, (v.secret_value if v.secret else v.value) or "", v.secret)
            for v in self.sudo()
            if not v.generate
        ]
