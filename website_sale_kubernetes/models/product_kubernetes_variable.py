# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Default variables of a hosting product.

Every app sold with the product renders its manifests with these values
(unless the app overrides them).  A variable marked *generate per app* has
no value here: each app gets its own random secret when it is created.
"""

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from mintcloud.appvars import check_line_name
from mintcloud.errors import MintCloudError
from mintcloud.variables import DEFAULT_MASK

MANAGER_GROUP = "kubernetes_manifest.group_kubernetes_manager"
#: Length of a secret generated per app.
GENERATED_LENGTH = 32


class ProductKubernetesVariable(models.Model):
    _name = "product.kubernetes.variable"
    _description = "Hosting Product Default Variable"
    _order = "product_tmpl_id, name, id"

    product_tmpl_id = fields.Many2one(
        "product.template",
        string="Product",
        required=True,
        ondelete="cascade",
        index=True,
    )
    name = fields.Char(required=True)
    value = fields.Char(help="The value of a variable that is not secret.")
    secret = fields.Boolean(
        help="Secret values are readable by Kubernetes managers only and are "
        "masked in previews, deployments and exports."
    )
    secret_value = fields.Char(groups=MANAGER_GROUP)
    generate = fields.Boolean(
        string="Generate per App",
        help="Each app gets its own random secret (32 characters) when it is "
        "created; the value here is not used.",
    )
    display_value = fields.Char(string="Shown Value", compute="_compute_display_value")

    _sql_constraints = [
        (
            "product_name_uniq",
            "unique(product_tmpl_id, name)",
            "A variable name can be used only once per product.",
        ),
    ]

    # ------------------------------------------------------------------
    # Compute and constraints
    # ------------------------------------------------------------------

    @api.depends("value", "secret", "generate")
    @api.depends_context("uid")
    def _compute_display_value(self):
        is_manager = self.env.user.has_group(MANAGER_GROUP)
        for variable in self:
            if not variable.secret:
                variable.display_value = variable.value
            elif variable.generate or not is_manager:
                variable.display_value = DEFAULT_MASK
            else:
                variable.display_value = variable.sudo().secret_value

    @api.constrains("name")
    def _check_name(self):
        for variable in self:
            try:
                check_line_name(variable.name)
            except MintCloudError as error:
                raise ValidationError(str(error)) from None

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("generate"):
                vals["secret"] = True
        variables = super().create(vals_list)
        variables._store_values_by_secrecy()
        return variables

    def write(self, vals):
        if vals.get("generate"):
            vals = dict(vals, secret=True)
        result = super().write(vals)
        if {"value", "secret", "secret_value", "generate"} & set(vals):
            self._store_values_by_secrecy()
        return result

    def _store_values_by_secrecy(self):
        """A secret's value lives in ``secret_value``, any other in ``value``;
        a generated secret keeps none."""
        for variable in self.sudo():
            if variable.generate:
                values = {"value": False, "secret_value": False}
            elif variable.secret and variable.value:
                values = {"secret_value": variable.value, "value": False}
            elif not variable.secret and variable.secret_value:
                values = {
                    "value": variable.value or variable.secret_value,
                    "secret_value": False,
                }
            else:
                continue
            if any(variable[name] != value for name, value in values.items()):
                super(ProductKubernetesVariable, variable).write(values)

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------

    def _default_lines(self):
        """``[(name, value, secret)]`` of the variables that are not generated."""
        return [
            (v.name, (v.secret_value if v.secret else v.value) or "", v.secret)
            for v in self.sudo()
            if not v.generate
        ]
