# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Subscriptions drive their apps: closed or unpaid suspends, paid or
reopened resumes, closed for long enough terminates (mintcloud.lifecycle)."""

import logging

from odoo import api, fields, models

from mintcloud.lifecycle import Facts, plan, transition

_logger = logging.getLogger(__name__)


class SaleSubscription(models.Model):
    _inherit = "sale.subscription"

    kubernetes_app_ids = fields.One2many(
        "kubernetes.app", "subscription_id", string="Kubernetes Apps"
    )
    kubernetes_app_count = fields.Integer(
        string="Apps", compute="_compute_kubernetes_app_count"
    )
    kubernetes_closed_on = fields.Date(
        string="Closed On",
        readonly=True,
        copy=False,
        help="When the subscription entered its closed stage: its apps are "
        "terminated the product's number of days after it.",
    )

    def _compute_kubernetes_app_count(self):
        counts = dict(
            self.env["kubernetes.app"]
            .sudo()
            .with_context(active_test=False)
            ._read_group(
                [("subscription_id", "in", self.ids)], ["subscription_id"], ["__count"]
            )
        )
        for subscription in self:
            subscription.kubernetes_app_count = counts.get(subscription, 0)

    def write(self, values):
        if "stage_id" not in values:
            return super().write(values)
        was_closed = {sub.id: sub.stage_id.type == "post" for sub in self}
        result = super().write(values)
        changed = self.browse()
        for sub in self:
            closed = sub.stage_id.type == "post"
            if closed != was_closed[sub.id]:
                changed |= sub
                sub.kubernetes_closed_on = (
                    fields.Date.context_today(sub) if closed else False
                )
        if changed:
            changed._kubernetes_apply_lifecycle()
        return result

    def action_view_kubernetes_apps(self):
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id(
            "kubernetes_app.kubernetes_app_action"
        )
        action["domain"] = [("subscription_id", "=", self.id)]
        action["context"] = {"create": False, "active_test": False}
        return action

    # ------------------------------------------------------------------
    # Lifecycle
    # ------------------------------------------------------------------

    @api.model
    def _cron_kubernetes_lifecycle(self, today=None):
        """Daily: suspend for overdue invoices, terminate long-closed
        subscriptions, send the notices before both."""
        subscriptions = (
            self.with_context(active_test=False)
            .sudo()
            .search([("kubernetes_app_ids", "!=", False)])
        )
        subscriptions._kubernetes_apply_lifecycle(today)

    def _kubernetes_overdue_since(self, today):
        """Due date of the oldest invoice unpaid after it, or None."""
        self.ensure_one()
        invoices = self._kubernetes_overdue_invoices(today)
        return min(invoices.mapped("invoice_date_due")) if invoices else None

    def _kubernetes_overdue_invoices(self, today=None):
        self.ensure_one()
        today = today or fields.Date.context_today(self)
        return (
            self.env["account.move"]
            .sudo()
            .search(
                [
                    ("subscription_id", "=", self.id),
                    ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"),
                    ("payment_state", "in", ("not_paid", "partial")),
                    ("invoice_date_due", "<", today),
                ],
                order="invoice_date_due, id",
            )
        )

    def _kubernetes_facts(self, product, today):
        self.ensure_one()
        return Facts(
            today=today,
            closed_on=self.kubernetes_closed_on or None,
            overdue_since=self._kubernetes_overdue_since(today),
            grace_days=product.kubernetes_grace_days,
            terminate_after_days=product.kubernetes_terminate_after_days,
            notice_days=product.kubernetes_notice_days,
        )

    def _kubernetes_apply_lifecycle(self, today=None):
        """Bring every app of these subscriptions where its facts say.

        Each step is a queue job with an identity key, and a step that is
        not needed any more does nothing: running this twice changes nothing.
        """
        today = today or fields.Date.context_today(self)
        for sub in self.sudo():
            apps = sub.with_context(active_test=False).kubernetes_app_ids
            for app in apps.filtered(lambda a: a.lifecycle != "terminated"):
                product = app.product_id.product_tmpl_id
                planned = plan(sub._kubernetes_facts(product, today))
                step = transition(app.lifecycle, app.lifecycle_reason, planned)
                if step:
                    _logger.info(
                        "Subscription %s: %s app %s (%s)",
                        sub.display_name,
                        step,
                        app.name,
                        planned.reason,
                    )
                    app._request_lifecycle_if_needed(step, planned.reason)
                if planned.notice and planned.due_on:
                    app._kubernetes_notice(planned.notice, planned.due_on)
