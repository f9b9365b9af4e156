# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The Kubernetes tab of a hosting product and the defaults apps get from it."""

from odoo.exceptions import ValidationError
from odoo.tests import Form, TransactionCase, new_test_user

from odoo.addons.queue_job.tests.common import trap_jobs

from .common import create_customer, create_hosting_fixture

MANAGER_GROUP = "kubernetes_manifest.group_kubernetes_manager"
USER_GROUP = "kubernetes_manifest.group_kubernetes_user"


class TestHostingProduct(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.fixture = create_hosting_fixture(cls.env)
        cls.template = cls.fixture["template"]
        cls.partner = create_customer(cls.env)

    def _app(self, name, product=None):
        with trap_jobs():
            return self.env["kubernetes.app"].create(
                {
                    "name": name,
                    "cluster_id": self.fixture["cluster"].id,
                    "partner_id": self.partner.id,
                    "product_id": (product or self.fixture["product"]).id,
                }
            )

    def test_hosting_product_needs_a_cluster_and_a_subscription(self):
        with self.assertRaisesRegex(ValidationError, "needs a cluster"):
            self.template.copy({"kubernetes_cluster_id": False})
        with self.assertRaisesRegex(ValidationError, "Subscribable"):
            self.template.write({"subscribable": False})

    def test_variable_names_follow_the_core_rules(self):
        for bad in ("app_name", "bad-name", "1st", "vars"):
            with self.subTest(name=bad), self.assertRaises(ValidationError):
                self.template.write(
                    {"kubernetes_variable_ids": [(0, 0, {"name": bad, "value": "x"})]}
                )

    def test_secret_and_generated_values_are_stored_apart(self):
        variables = {v.name: v for v in self.template.kubernetes_variable_ids}
        smtp, token, workers = (
            variables["smtp_password"],
            variables["api_token"],
            variables["odoo_workers"],
        )
        self.assertFalse(smtp.value)
        self.assertEqual(smtp.secret_value, "s3cret-smtp")
        self.assertTrue(token.secret, "a generated variable is a secret")
        self.assertFalse(token.value or token.secret_value)
        self.assertEqual(workers.value, "3")
        user = new_test_user(
            self.env, login="k8s_reader", groups=f"base.group_user,{USER_GROUP}"
        )
        self.assertEqual(smtp.with_user(user).display_value, "********")
        self.assertEqual(workers.with_user(user).display_value, "3")

    def test_manifests_split_by_kind_in_order(self):
        deploy = self.template._kubernetes_manifests("deploy").manifest_id
        self.assertEqual(deploy, self.fixture["manifests"])
        self.assertEqual(
            deploy.mapped("url")[0], "/kubernetes_manifest/static/manifests/secret.yaml"
        )
        self.assertEqual(
            self.template._kubernetes_manifests("reset").manifest_id,
            self.fixture["reset"],
        )

    def test_apps_get_the_product_defaults_and_their_own_generated_secret(self):
        first, second = self._app("defaults-one"), self._app("defaults-two")
        variables = first._get_variables()
        self.assertEqual(variables["odoo_workers"], "3")
        self.assertEqual(variables["smtp_password"], "s3cret-smtp")
        self.assertTrue(variables.is_secret("smtp_password"))
        self.assertTrue(variables.is_secret("api_token"))
        self.assertEqual(len(variables["api_token"]), 32)
        self.assertNotEqual(
            variables["api_token"], second._get_variables()["api_token"]
        )
        # The generated secrets of kubernetes_app are still there.
        self.assertIn("admin_password", variables)
        # A per-app override wins over the product default.
        first.write({"variable_ids": [(0, 0, {"name": "odoo_workers", "value": "8"})]})
        self.assertEqual(first._get_variables()["odoo_workers"], "8")
        self.assertNotIn("s3cret-smtp", first._vars_yml(redact=True))

    def test_app_without_product_has_no_product_defaults(self):
        with trap_jobs():
            app = self.env["kubernetes.app"].create(
                {"name": "plainapp", "cluster_id": self.fixture["cluster"].id}
            )
        self.assertNotIn("odoo_workers", app._get_variables())

    def test_choosing_the_product_fills_cluster_and_manifests(self):
        other = self.env["kubernetes.cluster"].create(
            {"name": "Other", "domain": "example.org"}
        )
        app = self.env["kubernetes.app"].new(
            {"name": "formapp", "cluster_id": other.id}
        )
        app.product_id = self.fixture["product"]
        app._onchange_product_id()
        self.assertEqual(app.cluster_id, self.fixture["cluster"])
        self.assertEqual(app.manifest_line_ids.manifest_id, self.fixture["manifests"])
        self.assertEqual(app.manifest_line_ids.mapped("sequence"), [10, 20, 30, 40, 50])

    def test_product_form_has_the_kubernetes_tab(self):
        manager = new_test_user(
            self.env,
            login="k8s_product_manager",
            groups=f"sales_team.group_sale_manager,{MANAGER_GROUP}",
        )
        arch = (
            self.env["product.template"]
            .with_user(manager)
            .get_view(view_type="form")["arch"]
        )
        for field in (
            "kubernetes_hosting",
            "kubernetes_cluster_id",
            "kubernetes_manifest_line_ids",
            "kubernetes_variable_ids",
            "secret_value",
        ):
            self.assertIn(f'name="{field}"', arch)
        with Form(self.env["product.template"].with_user(manager)) as form:
            form.name = "Form Hosting"
            form.subscribable = True
            form.kubernetes_hosting = True
            self.assertEqual(form.detailed_type, "service")
            form.kubernetes_cluster_id = self.fixture["cluster"]
            with form.kubernetes_manifest_line_ids.new() as line:
                line.manifest_id = self.fixture["manifests"][0]
        self.assertEqual(form.record.kubernetes_domain, "mint-cloud.ch")
