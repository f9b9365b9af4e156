# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import fields, models


class SaleSubscription(models.Model):
    _inherit = "sale.subscription"

    kubernetes_app_ids = fields.One2many(
        "kubernetes.app", "subscription_id", string="Kubernetes Apps"
    )
    kubernetes_app_count = fields.Integer(
        string="Apps", compute="_compute_kubernetes_app_count"
    )

    def _compute_kubernetes_app_count(self):
        counts = dict(
            self.env["kubernetes.app"]
            .sudo()
            ._read_group(
                [("subscription_id", "in", self.ids)], ["subscription_id"], ["__count"]
            )
        )
        for subscription in self:
            subscription.kubernetes_app_count = counts.get(subscription, 0)

    def action_view_kubernetes_apps(self):
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id(
            "kubernetes_app.kubernetes_app_action"
        )
        action["domain"] = [("subscription_id", "=", self.id)]
        action["context"] = {"create": False}
        return action
