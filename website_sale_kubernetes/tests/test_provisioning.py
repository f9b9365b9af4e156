# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Payment -> confirmation -> subscription -> two apps, idempotent, race-safe."""

from unittest.mock import patch

from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from odoo.addons.kubernetes_app.tests.common import kubeconfig
from odoo.addons.queue_job.tests.common import trap_jobs

from tests.fakes.kube_api import FakeKubeServer

from ..models.sale_order import PROVISION_CONSTRAINT
from .common import create_customer, create_hosting_fixture, create_order

APP_MODEL = "odoo.addons.kubernetes_app.models.kubernetes_app.KubernetesApp"
ORDER_MODEL = "odoo.addons.website_sale_kubernetes.models.sale_order.SaleOrder"


@tagged("post_install", "-at_install")
class TestProvisioning(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.fixture = create_hosting_fixture(cls.env)
        cls.product = cls.fixture["product"]
        cls.partner = create_customer(cls.env)
        cls.other_partner = create_customer(cls.env, "Bob Other", "bob@example.com")

    def _confirm(self, order):
        with trap_jobs() as trap:
            order.action_confirm()
        return trap

    def _activities(self, order):
        return order.activity_ids.filtered(
            lambda a: a.summary and "Apps not created" in a.summary
        )

    # --- the happy path ---------------------------------------------------

    def test_confirm_creates_subscription_and_two_apps(self):
        order = create_order(self.env, self.partner, self.product, "shopapp")
        with trap_jobs() as trap:
            order.action_confirm()
            trap.assert_jobs_count(2)
            self.assertEqual(order.state, "sale")
            self.assertEqual(len(order.subscription_ids), 1)
            apps = order.kubernetes_app_ids
            self.assertEqual(len(apps), 2)
            prod = apps.filtered(lambda a: a.environment == "prod")
            staging = apps - prod
            line = order.order_line
            self.assertEqual(
                (prod.name, prod.hostname, staging.name, staging.hostname),
                (
                    "shopapp",
                    "shopapp.mint-cloud.ch",
                    "shopapp-int",
                    "shopapp-int.mint-cloud.ch",
                ),
            )
            self.assertEqual(staging.environment, "int")
            self.assertEqual(staging.prod_app_id, prod)
            self.assertEqual(staging.namespace, "shopapp")
            for app in apps:
                self.assertEqual(app.partner_id, self.partner)
                self.assertEqual(app.product_id, self.product)
                self.assertEqual(app.subscription_id, order.subscription_ids)
                self.assertEqual(app.sale_line_id, line)
                self.assertEqual(app.cluster_id, self.fixture["cluster"])
                self.assertEqual(
                    app.manifest_line_ids.manifest_id, self.fixture["manifests"]
                )
                self.assertEqual(app.state, "queued")
                self.assertEqual(app.last_deployment_id.state, "queued")
            self.assertEqual(staging.reset_manifest_ids, self.fixture["reset"])
            self.assertFalse(prod.reset_manifest_ids)
            self.assertTrue(line.kubernetes_provisioned)
            self.assertFalse(order.kubernetes_apps_missing)
            self.assertEqual(order.kubernetes_app_count, 2)
            self.assertEqual(order.subscription_ids.kubernetes_app_count, 2)
            self.assertFalse(self._activities(order))
            trap.perform_enqueued_jobs()
        for app in apps:
            deployment = app.last_deployment_id
            self.assertEqual(deployment.state, "dry_run", deployment.error)
            self.assertEqual(app.state, "dry-run")
            self.assertIn(f"name: {app.name}-odoo", deployment.rendered)
        self.assertNotIn("s3cret-smtp", prod.last_deployment_id.rendered)

    def test_apps_reach_the_local_kubernetes_api_server(self):
        kube = FakeKubeServer().start()
        self.addCleanup(kube.stop)
        cluster = self.fixture["cluster"]
        cluster.write({"connection": "kubeconfig", "kubeconfig": kubeconfig(kube.url)})
        order = create_order(self.env, self.partner, self.product, "liveapp")
        with trap_jobs() as trap:
            order.action_confirm()
            trap.assert_jobs_count(2)
            trap.perform_enqueued_jobs()
        for app in order.kubernetes_app_ids:
            self.assertEqual(
                app.last_deployment_id.state, "done", app.last_deployment_id.error
            )
        prod = kube.get_object("apps/v1", "Deployment", "liveapp-odoo", "liveapp")
        staging = kube.get_object(
            "apps/v1", "Deployment", "liveapp-int-odoo", "liveapp"
        )
        self.assertTrue(prod and staging)
        ingress = kube.get_object(
            "networking.k8s.io/v1", "Ingress", "liveapp-int", "liveapp"
        )
        self.assertEqual(
            ingress["spec"]["rules"][0]["host"], "liveapp-int.mint-cloud.ch"
        )

    # --- idempotency -------------------------------------------------------

    def test_confirming_twice_creates_no_more_apps(self):
        order = create_order(self.env, self.partner, self.product, "twiceapp")
        self._confirm(order)
        with self.assertRaises(UserError):
            order.action_confirm()
        with trap_jobs() as trap:
            order._kubernetes_create_apps()
            order.action_kubernetes_create_apps()
            trap.assert_jobs_count(0)
        self.assertEqual(len(order.kubernetes_app_ids), 2)
        self.assertEqual(len(order.subscription_ids), 1)
        self.assertFalse(self._activities(order))

    def test_database_constraint_refuses_a_third_app_for_a_line(self):
        order = create_order(self.env, self.partner, self.product, "constrapp")
        self._confirm(order)
        with (
            trap_jobs(),
            mute_logger("odoo.sql_db"),
            self.assertRaises(IntegrityError) as caught,
            self.env.cr.savepoint(),
        ):
            self.env["kubernetes.app"].create(
                {
                    "name": "otherapp",
                    "cluster_id": self.fixture["cluster"].id,
                    "sale_line_id": order.order_line.id,
                    "environment": "prod",
                }
            )
        self.assertEqual(caught.exception.diag.constraint_name, PROVISION_CONSTRAINT)

    def test_provisioning_a_line_again_is_stopped_by_the_constraint(self):
        """Even when the search misses the apps (a concurrent transaction),
        the unique constraint stops a second pair, without an activity."""
        order = create_order(self.env, self.partner, self.product, "firstname")
        self._confirm(order)
        line = order.order_line
        line.kubernetes_app_name = "secondname"
        with (
            patch(f"{ORDER_MODEL}._kubernetes_lines_to_provision", return_value=line),
            trap_jobs() as trap,
            mute_logger("odoo.sql_db"),
        ):
            self.assertFalse(order._kubernetes_provision_line(line))
            trap.assert_jobs_count(0)
        self.assertEqual(
            sorted(order.kubernetes_app_ids.mapped("name")),
            ["firstname", "firstname-int"],
        )
        self.assertFalse(
            self.env["kubernetes.app"].search([("name", "=", "secondname")])
        )
        self.assertFalse(self._activities(order))

    def test_replayed_payment_notification_creates_no_more_apps(self):
        provider = self.env.ref("payment.payment_provider_demo")
        if provider.code != "demo":
            self.skipTest("payment_demo is not installed")
        order = create_order(self.env, self.partner, self.product, "paidapp")
        transaction = self.env["payment.transaction"].create(
            {
                "provider_id": provider.id,
                "payment_method_id": self.env.ref(
                    "payment_demo.payment_method_demo"
                ).id,
                "amount": order.amount_total,
                "currency_id": order.currency_id.id,
                "partner_id": self.partner.id,
                "reference": "WSK-REPLAY-1",
                "operation": "online_direct",
                "sale_order_ids": [Command.set(order.ids)],
            }
        )
        notification = {
            "reference": transaction.reference,
            "payment_details": "4242",
            "simulated_state": "done",
        }
        Transaction = self.env["payment.transaction"].sudo()
        with trap_jobs() as trap:
            Transaction._handle_notification_data("demo", notification)
            transaction._finalize_post_processing()
            self.assertEqual(order.state, "sale")
            trap.assert_jobs_count(2)
            Transaction._handle_notification_data("demo", notification)
            transaction._finalize_post_processing()
            transaction._reconcile_after_done()
            trap.assert_jobs_count(2)
        self.assertEqual(len(order.kubernetes_app_ids), 2)
        self.assertEqual(len(order.subscription_ids), 1)

    # --- race and failures --------------------------------------------------

    def test_name_taken_between_checkout_and_payment(self):
        first = create_order(self.env, self.partner, self.product, "raceapp")
        second = create_order(self.env, self.other_partner, self.product, "raceapp")
        self._confirm(first)
        trap = self._confirm(second)
        trap.assert_jobs_count(0)
        self.assertEqual(second.state, "sale", "the paid order is confirmed")
        self.assertEqual(len(second.subscription_ids), 1)
        self.assertFalse(second.kubernetes_app_ids)
        self.assertTrue(second.kubernetes_apps_missing)
        [activity] = self._activities(second)
        self.assertIn("raceapp", activity.summary)
        self.assertIn("already taken", activity.note)
        self.assertEqual(activity.user_id, self.env.ref("base.user_admin"))
        self.assertEqual(
            self.env["kubernetes.app"].search_count(
                [("name", "in", ("raceapp", "raceapp-int"))]
            ),
            2,
        )
        # The operator picks another name and creates the apps.
        second.order_line.kubernetes_app_name = "raceapp-two"
        with trap_jobs() as trap:
            action = second.action_kubernetes_create_apps()
            trap.assert_jobs_count(2)
        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(
            sorted(second.kubernetes_app_ids.mapped("name")),
            ["raceapp-two", "raceapp-two-int"],
        )

    def test_archived_app_still_holds_its_name(self):
        with trap_jobs():
            app = self.env["kubernetes.app"].create(
                {"name": "oldapp", "cluster_id": self.fixture["cluster"].id}
            )
        app.active = False
        order = create_order(self.env, self.partner, self.product, "oldapp")
        self._confirm(order)
        self.assertFalse(order.kubernetes_app_ids)
        self.assertTrue(self._activities(order))

    def test_no_half_pair_when_the_integration_app_fails(self):
        order = create_order(self.env, self.partner, self.product, "halfapp")

        def refuse(app):
            raise ValidationError("integration app refused")

        with patch(f"{APP_MODEL}._check_int_name", refuse):
            self._confirm(order)
        self.assertEqual(order.state, "sale")
        self.assertFalse(
            self.env["kubernetes.app"]
            .with_context(active_test=False)
            .search([("name", "in", ("halfapp", "halfapp-int"))])
        )
        self.assertFalse(
            self.env["kubernetes.deployment"].search([("app_id.name", "=", "halfapp")]),
            "the production app's deployment is rolled back with it",
        )
        [activity] = self._activities(order)
        self.assertIn("integration app refused", activity.note)
        with trap_jobs():
            order.action_kubernetes_create_apps()
        self.assertEqual(len(order.kubernetes_app_ids), 2)

    def test_name_taken_by_a_concurrent_insert_is_a_race(self):
        """The name check passed, yet the insert hits the cluster's unique
        name: the pair is rolled back and the operator gets an activity."""
        order = create_order(self.env, self.partner, self.product, "lateapp")
        with trap_jobs():
            self.env["kubernetes.app"].create(
                {"name": "lateapp", "cluster_id": self.fixture["cluster"].id}
            )
        with (
            patch(
                "odoo.addons.website_sale_kubernetes.models.sale_order_line.SaleOrderLine"
                "._kubernetes_taken_names",
                return_value=set(),
            ),
            mute_logger("odoo.sql_db"),
        ):
            trap = self._confirm(order)
        trap.assert_jobs_count(0)
        self.assertFalse(order.kubernetes_app_ids)
        [activity] = self._activities(order)
        self.assertIn("taken meanwhile", activity.note)

    def test_line_without_name_gets_an_activity(self):
        order = create_order(self.env, self.partner, self.product)
        self._confirm(order)
        self.assertFalse(order.kubernetes_app_ids)
        [activity] = self._activities(order)
        self.assertIn("no app name", activity.note)

    def test_invalid_name_cannot_be_stored_on_a_line(self):
        order = create_order(self.env, self.partner, self.product)
        with self.assertRaisesRegex(ValidationError, "lowercase"):
            order.order_line.kubernetes_app_name = "BadName"

    # --- cart rules -----------------------------------------------------------

    def test_quantity_of_a_hosting_line_stays_one(self):
        order = create_order(self.env, self.partner, self.product)
        quantity, warning = order._verify_updated_quantity(
            order.order_line, self.product.id, 3
        )
        self.assertEqual(quantity, 1)
        self.assertIn("one app", warning)

    def test_cart_is_ready_to_be_paid_only_with_a_free_valid_name(self):
        order = create_order(self.env, self.partner, self.product)
        with self.assertRaisesRegex(ValidationError, "valid app name"):
            order._check_cart_is_ready_to_be_paid()
        order.order_line.kubernetes_app_name = "readyapp"
        order._check_cart_is_ready_to_be_paid()
        with trap_jobs():
            self.env["kubernetes.app"].create(
                {"name": "readyapp", "cluster_id": self.fixture["cluster"].id}
            )
        with self.assertRaisesRegex(ValidationError, "valid app name"):
            order._check_cart_is_ready_to_be_paid()

    def test_open_orders_hold_their_names_until_line_removed_or_cancelled(self):
        Line = self.env["sale.order.line"]

        def codes(name):
            return [
                p["code"]
                for p in Line._kubernetes_app_name_problems(name, "mint-cloud.ch")
            ]

        order = create_order(self.env, self.partner, self.product, "holdme")
        self.assertEqual(codes("holdme"), ["taken"])
        self.assertEqual(
            Line._kubernetes_app_name_problems(
                "holdme", "mint-cloud.ch", exclude_order_ids=order.ids
            ),
            [],
            "the order's own lines do not block it",
        )
        order.order_line.unlink()
        self.assertEqual(codes("holdme"), [])
        again = create_order(self.env, self.partner, self.product, "holdme")
        self.assertEqual(codes("holdme"), ["taken"])
        again.action_cancel()
        self.assertEqual(codes("holdme"), [])

    def test_names_on_another_domain_do_not_clash(self):
        other = self.env["kubernetes.cluster"].create(
            {"name": "Elsewhere", "domain": "example.org"}
        )
        with trap_jobs():
            self.env["kubernetes.app"].create(
                {"name": "twinapp", "cluster_id": other.id}
            )
        Line = self.env["sale.order.line"]
        self.assertEqual(
            Line._kubernetes_app_name_problems("twinapp", "mint-cloud.ch"), []
        )
        self.assertEqual(
            [
                p["code"]
                for p in Line._kubernetes_app_name_problems("twinapp", "example.org")
            ],
            ["taken"],
        )
