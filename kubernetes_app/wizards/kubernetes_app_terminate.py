# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Confirmation of a termination: the operator types the app's name."""

from odoo import _, api, fields, models
from odoo.exceptions import UserError


class KubernetesAppTerminate(models.TransientModel):
    _name = "kubernetes.app.terminate"
    _description = "Terminate a Kubernetes App"

    app_id = fields.Many2one("kubernetes.app", string="App", required=True)
    app_name = fields.Char(related="app_id.name")
    backup_manifest_ids = fields.Many2many(related="app_id.backup_manifest_ids")
    confirm_name = fields.Char(
        string="Type the app name",
        help="Terminate takes a final backup, then deletes every object of the "
        "app; type its name to confirm.",
    )
    name_matches = fields.Boolean(compute="_compute_name_matches")

    @api.depends("confirm_name", "app_id.name")
    def _compute_name_matches(self):
        for wizard in self:
            wizard.name_matches = (
                wizard.confirm_name or ""
            ).strip() == wizard.app_id.name

    def action_confirm(self):
        self.ensure_one()
        if not self.name_matches:
            raise UserError(
                _(
                    "Type the app name %(name)s exactly to terminate it.",
                    name=self.app_id.name,
                )
            )
        self.app_id._request_lifecycle("terminate", "manual")
        return self.app_id._queued_notification(_("Termination queued"))
