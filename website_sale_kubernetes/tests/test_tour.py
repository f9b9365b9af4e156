# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""A visitor buys Odoo-Hosting in the browser; then the subscription, the two
apps and their deployments are checked, and the deployment jobs run."""

import unittest

from odoo.tests import HttpCase, tagged

from odoo.addons.queue_job.job import Job

from .common import create_hosting_fixture


@tagged("post_install", "-at_install")
class TestCheckoutTour(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        provider = cls.env.ref("payment.payment_provider_demo")
        if provider.code != "demo":
            raise unittest.SkipTest(
                "payment_demo must be installed for the checkout tour"
            )
        provider.write({"state": "test", "is_published": True})
        template = cls.env.ref(
            "website_sale_kubernetes.product_template_odoo_hosting",
            raise_if_not_found=False,
        )
        if not template:
            template = create_hosting_fixture(cls.env, "Odoo-Hosting")["template"]
        cls.template = template

    def test_visitor_buys_odoo_hosting(self):
        Order = self.env["sale.order"]
        before = Order.search([]).ids
        self.start_tour("/shop", "website_sale_kubernetes_checkout")

        order = Order.search([("id", "not in", before)])
        self.assertEqual(len(order), 1)
        self.assertEqual(order.state, "sale")
        line = order.order_line.filtered("is_kubernetes_hosting")
        self.assertEqual(line.kubernetes_app_name, "tourapp")
        self.assertEqual(len(order.subscription_ids), 1)
        subscription = order.subscription_ids
        self.assertEqual(subscription.partner_id, order.partner_id)

        apps = self.env["kubernetes.app"].search([("sale_line_id", "=", line.id)])
        self.assertEqual(len(apps), 2)
        self.assertEqual(
            sorted(apps.mapped(lambda a: (a.environment, a.name, a.hostname))),
            [
                ("int", "tourapp-int", "tourapp-int.mint-cloud.ch"),
                ("prod", "tourapp", "tourapp.mint-cloud.ch"),
            ],
        )
        for app in apps:
            self.assertEqual(app.subscription_id, subscription)
            self.assertEqual(app.partner_id, order.partner_id)
            self.assertEqual(app.product_id, line.product_id)
            self.assertEqual(app.state, "queued")
            self.assertEqual(app.deployment_ids.mapped("state"), ["queued"])
            self.assertTrue(app.last_deployment_id.job_uuid)

        # Run the queued jobs: the dry-run cluster records the documents.
        for app in apps:
            deployment = app.last_deployment_id
            Job.load(self.env, deployment.job_uuid).perform()
            self.assertEqual(deployment.state, "dry_run", deployment.error)
            self.assertTrue(deployment.object_ids)
            self.assertIn(f"host: {app.hostname}", deployment.rendered)
            self.assertEqual(app.state, "dry-run")
