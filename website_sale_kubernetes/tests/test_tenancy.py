# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""A hosting product's default variables cannot move an app out of its tenant
boundary: the paid order's apps fail their deployment and nothing is applied."""

from odoo import Command
from odoo.tests import TransactionCase, tagged

from odoo.addons.kubernetes_app.tests.common import fake_cluster
from odoo.addons.kubernetes_app.tests.test_tenancy import ROGUE
from odoo.addons.queue_job.tests.common import trap_jobs

from .common import create_customer, create_hosting_fixture, create_order, manifest_url


@tagged("post_install", "-at_install")
class TestProductDefaultsStayInside(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.kube, cluster = fake_cluster(
            cls.env, cls.addClassCleanup, "Tenancy cluster", domain="mint-cloud.ch"
        )
        cls.fixture = create_hosting_fixture(cls.env, "Tenancy", cluster=cluster)
        rogue = cls.env["kubernetes.manifest"].create(
            {"name": "Rogue", "url": manifest_url("secret"), "sequence": 90}
        )
        rogue.content = ROGUE
        cls.template = cls.fixture["template"]
        cls.template.kubernetes_manifest_line_ids = [
            Command.create({"sequence": 90, "manifest_id": rogue.id})
        ]
        cls.partner = create_customer(cls.env)

    def setUp(self):
        super().setUp()
        self.kube.reset()

    def _buy(self, name):
        order = create_order(self.env, self.partner, self.fixture["product"], name)
        with trap_jobs() as trap:
            order.action_confirm()
            trap.assert_jobs_count(2)
            trap.perform_enqueued_jobs()
        return order.kubernetes_app_ids

    def _assert_refused(self, apps, message):
        self.assertEqual(len(apps), 2)
        for app in apps:
            deployment = app.last_deployment_id
            self.assertEqual(deployment.state, "failed", app.name)
            self.assertIn("nothing applied", deployment.error)
            self.assertIn(message, deployment.error)
        writes = [r for r in self.kube.requests if r.method not in ("GET", "HEAD")]
        self.assertEqual(writes, [], "nothing reached the API server")
        self.assertEqual(self.kube.list_objects(label_selector="mint-cloud.ch/app"), [])

    def test_a_product_default_with_a_foreign_namespace(self):
        self.template.kubernetes_variable_ids = [
            Command.create({"name": "target_namespace", "value": "globex"})
        ]
        apps = self._buy("tenantns")
        self._assert_refused(
            apps, "metadata.namespace: 'globex' is not the app's namespace 'tenantns'"
        )

    def test_a_product_default_adding_a_cluster_role_binding(self):
        self.template.kubernetes_variable_ids = [
            Command.create({"name": "grant_cluster_admin", "value": "yes"})
        ]
        apps = self._buy("tenantcrb")
        self._assert_refused(
            apps, "rbac.authorization.k8s.io/ClusterRoleBinding is cluster-scoped"
        )
