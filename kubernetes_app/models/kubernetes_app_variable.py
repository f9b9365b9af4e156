# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Variables of an app: key/value lines, secret or not.

A secret's value lives in ``secret_value``, readable by Kubernetes managers
only; everybody else sees ``display_value`` masked.  Built-in variables
(app_name, hostname, ...) are derived from the app and are not lines.
"""

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from mintcloud.appvars import check_line_name
from mintcloud.errors import MintCloudError
from mintcloud.variables import DEFAULT_MASK

MANAGER_GROUP = "kubernetes_manifest.group_kubernetes_manager"


class KubernetesAppVariable(models.Model):
    _name = "kubernetes.app.variable"
    _description = "Kubernetes App Variable"
    _order = "app_id, name, id"

    app_id = fields.Many2one(
        "kubernetes.app", string="App", required=True, ondelete="cascade", index=True
    )
    name = fields.Char(required=True)
    value = fields.Char(help="The value of a variable that is not secret.")
    secret = fields.Boolean(
        help="Secret values are readable by Kubernetes managers only and are "
        "masked in previews, deployments and exports for everybody else."
    )
    secret_value = fields.Char(groups=MANAGER_GROUP)
    display_value = fields.Char(string="Shown Value", compute="_compute_display_value")
    source = fields.Selection(
        [("builtin", "Built-in"), ("default", "Default"), ("override", "Override")],
        required=True,
        default="override",
        help="Default: set when the app was created (e.g. a generated "
        "password); Override: set for this app.",
    )

    _sql_constraints = [
        (
            "app_name_uniq",
            "unique(app_id, name)",
            "A variable name can be used only once per app.",
        ),
    ]

    @api.depends("value", "secret")
    @api.depends_context("uid")
    def _compute_display_value(self):
        is_manager = self.env.user.has_group(MANAGER_GROUP)
        for variable in self:
            if not variable.secret:
                variable.display_value = variable.value
            elif is_manager:
                variable.display_value = variable.sudo().secret_value
            else:
                variable.display_value = DEFAULT_MASK

    @api.constrains("name")
    def _check_name(self):
        for variable in self:
            try:
                check_line_name(variable.name)
            except MintCloudError as error:
                raise ValidationError(str(error)) from None

    @api.model_create_multi
    def create(self, vals_list):
        variables = super().create(vals_list)
        variables._store_values_by_secrecy()
        return variables

    def write(self, vals):
        result = super().write(vals)
        if {"value", "secret", "secret_value"} & set(vals):
            self._store_values_by_secrecy()
        return result

    def _store_values_by_secrecy(self):
        """A secret's value lives in ``secret_value``, any other in ``value``."""
        for variable in self.sudo():
            if variable.secret and variable.value:
                values = {"secret_value": variable.value, "value": False}
            elif not variable.secret and variable.secret_value:
                value = variable.value or variable.secret_value
                values = {"value": value, "secret_value": False}
            else:
                continue
            super(KubernetesAppVariable, variable).write(values)
