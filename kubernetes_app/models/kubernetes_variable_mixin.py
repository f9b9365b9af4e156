# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""A key/value variable line, secret or not (apps and hosting products).

A secret's value lives in ``secret_value``, readable by Kubernetes managers
only; everybody else sees ``display_value`` masked.
"""

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from mintcloud.appvars import check_line_name
from mintcloud.errors import MintCloudError
from mintcloud.variables import DEFAULT_MASK

MANAGER_GROUP = "kubernetes_manifest.group_kubernetes_manager"


class KubernetesVariableMixin(models.AbstractModel):
    _name = "kubernetes.variable.mixin"
    _description = "Kubernetes Variable Line"

    #: Fields whose change may move a value between value and secret_value.
    _secrecy_fields = {"value", "secret", "secret_value"}

    name = fields.Char(required=True)
    value = fields.Char(help="The value of a variable that is not secret.")
    secret = fields.Boolean(
        help="Secret values are readable by Kubernetes managers only and are "
        "masked in previews, deployments and exports for everybody else."
    )
    secret_value = fields.Char(groups=MANAGER_GROUP)
    display_value = fields.Char(string="Shown Value", compute="_compute_display_value")

    @api.depends("value", "secret")
    @api.depends_context("uid")
    def _compute_display_value(self):
        is_manager = self.env.user.has_group(MANAGER_GROUP)
        for variable in self:
            if not variable.secret:
                variable.display_value = variable.value
            elif is_manager and variable._secret_is_shown():
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
        if self._secrecy_fields & set(vals):
            self._store_values_by_secrecy()
        return result

    def _secret_is_shown(self):
        """Whether a manager sees this secret's value (hook)."""
        return True

    def _values_by_secrecy(self):
        """The values that put this line's value in the right field, or None."""
        if self.secret and self.value:
            return {"secret_value": self.value, "value": False}
        if not self.secret and self.secret_value:
            return {"value": self.value or self.secret_value, "secret_value": False}
        return None

    def _store_values_by_secrecy(self):
        """A secret's value lives in ``secret_value``, any other in ``value``."""
        for variable in self.sudo():
            values = variable._values_by_secrecy()
            if values and any(variable[k] != v for k, v in values.items()):
                super(KubernetesVariableMixin, variable).write(values)
