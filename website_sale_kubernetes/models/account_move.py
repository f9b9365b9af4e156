# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import models


class AccountMove(models.Model):
    _inherit = "account.move"

    def _invoice_paid_hook(self):
        """Paying the invoice that suspended a subscription's apps resumes them."""
        result = super()._invoice_paid_hook()
        subscriptions = self.sudo().subscription_id
        if subscriptions:
            subscriptions._kubernetes_apply_lifecycle()
        return result
