# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The demo manifest set ships with the module and works inside Odoo.

Odoo serves the templates from the module's static files (so the demo works
offline), and the core package renders and validates them in Odoo's Python
environment (with Odoo's pinned libraries).
"""

import os

from odoo.modules.module import get_module_path
from odoo.tests import HttpCase, TransactionCase, tagged
from odoo.tools import file_open

from mintcloud.fetch import preview_documents
from mintcloud.render import render_manifests
from mintcloud.validate import validate_documents
from mintcloud.variables import load_vars_yml

DEPLOY_SET = ["secret", "filestore-pvc", "postgres", "odoo", "ingress"]


def _repo_file(*parts):
    root = os.path.dirname(get_module_path("kubernetes_manifest"))
    return os.path.join(root, *parts)


def _manifest(name):
    with file_open(f"kubernetes_manifest/static/manifests/{name}.yaml") as fh:
        return fh.read()


class TestDemoManifests(TransactionCase):
    def test_demo_set_renders_and_validates(self):
        with open(_repo_file("tests", "data", "demo_vars.yml")) as fh:
            variables = load_vars_yml(fh.read())
        docs = render_manifests(
            [(name, _manifest(name)) for name in DEPLOY_SET], variables
        )
        kinds = sorted({doc["kind"] for doc in docs})
        self.assertEqual(
            kinds,
            [
                "Deployment",
                "Ingress",
                "PersistentVolumeClaim",
                "Secret",
                "Service",
                "StatefulSet",
            ],
        )
        self.assertEqual(validate_documents(docs, kubernetes_version="1.29"), [])
        ingress = next(doc for doc in docs if doc["kind"] == "Ingress")
        self.assertEqual(ingress["spec"]["rules"][0]["host"], "acme.mint-cloud.ch")

    def test_preview_names_the_documents(self):
        preview = preview_documents(_manifest("odoo"))
        self.assertIn("Deployment", [doc["kind"] for doc in preview])


class TestDemoRecords(TransactionCase):
    """The demo manifests are loaded with their templates at install."""

    def setUp(self):
        super().setUp()
        if not self.env.ref("kubernetes_manifest.manifest_demo_odoo", False):
            self.skipTest("installed without demo data")

    def test_demo_manifests_have_content_after_install(self):
        Manifest = self.env["kubernetes.manifest"]
        deploy = Manifest.search([("kind", "=", "deploy")])
        xmlids = [f"manifest_demo_{name.replace('-', '_')}" for name in DEPLOY_SET]
        expected = [self.env.ref(f"kubernetes_manifest.{xmlid}") for xmlid in xmlids]
        self.assertEqual(
            [m for m in deploy if m in expected], expected, "applied in this order"
        )
        reset = self.env.ref("kubernetes_manifest.manifest_demo_reset_job")
        self.assertEqual(reset.kind, "reset")
        for manifest in [*expected, reset]:
            self.assertFalse(manifest.fetch_error, manifest.name)
            self.assertEqual(manifest.etag, manifest.sha256)
            self.assertTrue(manifest.fetched_at)
        self.assertEqual(expected[0].content, _manifest("secret"))

    def test_preview_of_the_odoo_manifest(self):
        odoo = self.env.ref("kubernetes_manifest.manifest_demo_odoo")
        self.assertEqual(odoo.name, "Odoo: Deployment and Services")
        # Every document the template can render: the suspended page's
        # Deployment and Service too (rendered only while the app is suspended).
        self.assertEqual(odoo.document_count, 5)
        self.assertEqual(odoo.document_preview.count("<td>Service</td>"), 3)
        self.assertEqual(odoo.document_preview.count("<td>Deployment</td>"), 2)
        self.assertIn("{{ prefix }}-websocket", odoo.document_preview)
        self.assertIn("{{ prefix }}-suspended", odoo.document_preview)


@tagged("post_install", "-at_install")
class TestManifestsServed(HttpCase):
    def test_static_manifest_is_served_to_anonymous_clients(self):
        response = self.url_open(
            "/kubernetes_manifest/static/manifests/ingress.yaml",
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("kind: Ingress", response.text)
        self.assertIn("{{ hostname }}", response.text)
