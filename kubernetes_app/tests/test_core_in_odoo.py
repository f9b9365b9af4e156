# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The core's deploy path works in Odoo's runtime against the local API server.

Odoo 17 pins old urllib3/requests; this proves the kubernetes client, the
renderer and server-side apply work with them, against the project's fake
Kubernetes API server (``tests/fakes/kube_api.py``), before the app models
use them.
"""

from odoo.tests import TransactionCase
from odoo.tools import file_open

from mintcloud.apply import APP_LABEL, apply_app
from mintcloud.kube import api_client
from mintcloud.render import render_manifests
from mintcloud.variables import Variables
from tests.fakes.kube_api import FakeKubeServer


class TestCoreInOdoo(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.kube = FakeKubeServer().start()
        cls.addClassCleanup(cls.kube.stop)

    def _docs(self, app):
        names = ["secret", "filestore-pvc", "postgres", "odoo", "ingress"]
        manifests = []
        for name in names:
            path = f"kubernetes_manifest/static/manifests/{name}.yaml"
            with file_open(path) as fh:
                manifests.append((name, fh.read()))
        variables = Variables(
            {
                "app_name": app,
                "namespace": app,
                "hostname": f"{app}.mint-cloud.ch",
                "partner_email": "customer@example.com",
            }
        )
        variables.set("admin_password", "admin-secret-1", secret=True)
        variables.set("db_password", "db-secret-1", secret=True)
        return render_manifests(manifests, variables)

    def test_apply_demo_set_to_local_api_server(self):
        client = api_client(host=self.kube.url)
        result = apply_app(client, "acme", "acme", self._docs("acme"))
        self.assertTrue(result.ok, result.errors)
        self.assertEqual(result.counts().get("created"), len(result.objects))
        deployment = self.kube.get_object("apps/v1", "Deployment", "acme-odoo", "acme")
        self.assertEqual(deployment["metadata"]["labels"][APP_LABEL], "acme")
        again = apply_app(client, "acme", "acme", self._docs("acme"))
        self.assertEqual(again.counts(), {"unchanged": len(again.objects)})
