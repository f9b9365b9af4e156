# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The subscription drives its apps: closed or overdue suspends, reopened or
paid resumes, closed for long enough terminates; the customer is told."""

import datetime

from odoo import Command, fields
from odoo.tests import TransactionCase, tagged

from odoo.addons.kubernetes_app.tests.common import drain, fake_cluster

from .common import create_customer, create_hosting_fixture, create_order, manifest_url


@tagged("post_install", "-at_install")
class TestSubscriptionLifecycle(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.kube, cluster = fake_cluster(
            cls.env, cls.addClassCleanup, "Lifecycle cluster", domain="mint-cloud.ch"
        )
        cls.fixture = create_hosting_fixture(cls.env, "Lifecycle", cluster=cluster)
        backup = cls.env["kubernetes.manifest"].create(
            {
                "name": "Lifecycle backup",
                "url": manifest_url("backup-job"),
                "kind": "backup",
            }
        )
        cls.template = cls.fixture["template"]
        cls.template.kubernetes_manifest_line_ids = [
            Command.create({"sequence": 99, "manifest_id": backup.id})
        ]
        cls.partner = create_customer(cls.env)
        cls.closed = cls.env.ref("subscription_oca.subscription_stage_closed")
        cls.in_progress = cls.env.ref("subscription_oca.subscription_stage_in_progress")
        cls.today = fields.Date.context_today(cls.env.user)

    def setUp(self):
        super().setUp()
        self.kube.reset()

    # --- helpers ----------------------------------------------------------

    def _drain(self, call, *args, **kwargs):
        return drain(call, *args, **kwargs)

    def _buy(self, name):
        order = create_order(self.env, self.partner, self.fixture["product"], name)
        self._drain(order.action_confirm)
        subscription = order.subscription_ids
        self.assertEqual(len(subscription), 1)
        apps = subscription.kubernetes_app_ids
        self.assertEqual(len(apps), 2)
        for app in apps:
            self.assertEqual(
                app.last_deployment_id.state, "done", app.last_deployment_id.error
            )
        return subscription, apps

    def _replicas(self, app):
        obj = self.kube.get_object(
            "apps/v1", "Deployment", f"{app.name}-odoo", app.namespace
        )
        return obj["spec"]["replicas"]

    def _invoice(self, subscription, due):
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.partner.id,
                "subscription_id": subscription.id,
                "invoice_date": due - datetime.timedelta(days=10),
                "invoice_date_due": due,
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Hosting", "quantity": 1, "price_unit": 49.0}
                    )
                ],
            }
        )
        invoice.action_post()
        invoice.invoice_date_due = due
        return invoice

    def _mails(self, app, subject):
        return (
            self.env["mail.mail"]
            .search([("model", "=", "kubernetes.app"), ("res_id", "=", app.id)])
            .filtered(lambda m: subject in (m.subject or ""))
        )

    def _count(self, apps, trigger):
        return len(apps.deployment_ids.filtered(lambda d: d.trigger == trigger))

    # --- closed and reopened -----------------------------------------------

    def test_closing_suspends_both_apps_and_reopening_resumes_them(self):
        subscription, apps = self._buy("closeme")
        prod = apps.filtered(lambda a: a.environment == "prod")
        self._drain(subscription.write, {"stage_id": self.closed.id})

        self.assertEqual(subscription.kubernetes_closed_on, self.today)
        for app in apps:
            self.assertEqual(
                (app.lifecycle, app.lifecycle_reason), ("suspended", "closed")
            )
            self.assertEqual(app.state, "suspended")
            self.assertEqual(self._replicas(app), 0)
            self.assertTrue(
                self.kube.get_object(
                    "apps/v1", "Deployment", f"{app.name}-suspended", app.namespace
                )
            )
        mail = self._mails(prod, "is suspended")
        self.assertEqual(len(mail), 1)
        self.assertIn("subscription was closed", mail.body_html)
        self.assertIn(self.partner, mail.recipient_ids)

        # The same close event once more changes nothing.
        self._drain(subscription._kubernetes_apply_lifecycle)
        self._drain(subscription.write, {"stage_id": self.closed.id})
        self.assertEqual(self._count(apps, "suspend"), 2)
        self.assertEqual(len(self._mails(prod, "is suspended")), 1)

        self._drain(subscription.write, {"stage_id": self.in_progress.id})
        self.assertFalse(subscription.kubernetes_closed_on)
        for app in apps:
            self.assertEqual(app.lifecycle, "active")
            self.assertEqual(self._replicas(app), 1)
        self.assertEqual(len(self._mails(prod, "runs again")), 1)

    # --- overdue -------------------------------------------------------------

    def test_an_overdue_invoice_suspends_after_the_grace_period_and_paying_resumes(
        self,
    ):
        subscription, apps = self._buy("payme")
        prod = apps.filtered(lambda a: a.environment == "prod")
        invoice = self._invoice(subscription, self.today - datetime.timedelta(days=12))
        cron = self.env["sale.subscription"]._cron_kubernetes_lifecycle

        # 12 days overdue, grace 14, notice 3: a notice, no suspension yet.
        self._drain(cron, today=self.today)
        self.assertEqual(apps.mapped("lifecycle"), ["active", "active"])
        notice = self._mails(prod, "Please pay your invoice")
        self.assertEqual(len(notice), 1)
        self.assertIn(invoice.get_portal_url().split("?")[0], notice.body_html)
        self._drain(cron, today=self.today)
        self.assertEqual(len(self._mails(prod, "Please pay your invoice")), 1, "once")

        # Two days later the grace period is over.
        self._drain(cron, today=self.today + datetime.timedelta(days=2))
        for app in apps:
            self.assertEqual(
                (app.lifecycle, app.lifecycle_reason), ("suspended", "overdue")
            )
            self.assertEqual(self._replicas(app), 0)
        self.assertIn(
            invoice.get_portal_url().split("?")[0], prod._kubernetes_pay_url()
        )
        suspended = self._mails(prod, f"Your app {prod.hostname} is suspended")
        self.assertEqual(len(suspended), 1)
        self.assertIn("Pay the invoice", suspended.body_html)

        # Paying the invoice resumes both apps.
        payment = self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        )
        self._drain(lambda: payment.create({})._create_payments())
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        for app in apps:
            self.assertEqual(app.lifecycle, "active")
            self.assertEqual(self._replicas(app), 1)

    def test_no_suspension_for_overdue_when_the_grace_period_is_zero(self):
        self.template.kubernetes_grace_days = 0
        subscription, apps = self._buy("nograce")
        self._invoice(subscription, self.today - datetime.timedelta(days=90))
        self._drain(self.env["sale.subscription"]._cron_kubernetes_lifecycle)
        self.assertEqual(apps.mapped("lifecycle"), ["active", "active"])

    # --- terminate -------------------------------------------------------------

    def test_closed_for_long_enough_terminates_after_the_final_backup(self):
        subscription, apps = self._buy("byebye")
        prod = apps.filtered(lambda a: a.environment == "prod")
        self._drain(subscription.write, {"stage_id": self.closed.id})
        cron = self.env["sale.subscription"]._cron_kubernetes_lifecycle

        # Three days before the termination: the notice, once.
        self._drain(cron, today=self.today + datetime.timedelta(days=27))
        notice = self._mails(prod, "will be deleted on")
        self.assertEqual(len(notice), 1)
        self._drain(cron, today=self.today + datetime.timedelta(days=28))
        self.assertEqual(len(self._mails(prod, "will be deleted on")), 1)
        self.assertEqual(apps.mapped("lifecycle"), ["suspended", "suspended"])

        # 30 days after closing: the final backups run, then the deletion.
        self._drain(cron, today=self.today + datetime.timedelta(days=30))
        self.assertEqual(apps.mapped("lifecycle"), ["terminating", "terminating"])
        for app in apps:
            self.kube.finish_job(app.backup_job_name, app.namespace, succeeded=True)
            self._drain(app._job_await_backup)
        apps = apps.with_context(active_test=False)
        self.assertEqual(apps.mapped("lifecycle"), ["terminated", "terminated"])
        self.assertFalse(any(apps.mapped("active")))
        self.assertIsNone(self.kube.get_object("v1", "Namespace", "byebye"))
        self.assertEqual(subscription.kubernetes_app_count, 2, "records are kept")
        # Reopening the subscription does not bring terminated apps back.
        self._drain(subscription.write, {"stage_id": self.in_progress.id})
        self.assertEqual(apps.mapped("lifecycle"), ["terminated", "terminated"])
