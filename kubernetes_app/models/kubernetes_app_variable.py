# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Variables of an app: key/value lines, secret or not.

Built-in variables (app_name, hostname, ...) are derived from the app and
are not lines.
"""

from odoo import fields, models


class KubernetesAppVariable(models.Model):
    _name = "kubernetes.app.variable"
    _inherit = "kubernetes.variable.mixin"
    _description = "Kubernetes App Variable"
    _order = "app_id, name, id"

    app_id = fields.Many2one(
        "kubernetes.app", string="App", required=True, ondelete="cascade", index=True
    )
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
