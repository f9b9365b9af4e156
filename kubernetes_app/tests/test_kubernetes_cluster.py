# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Clusters: Test connection, dry-run mode and validation of the fields."""

import socket

from odoo.exceptions import ValidationError
from odoo.tools import mute_logger

from .common import KubernetesAppCase, kubeconfig


def _closed_port_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


class TestKubernetesCluster(KubernetesAppCase):
    def _params(self, action):
        self.assertEqual(action["tag"], "display_notification")
        return action["params"]

    def test_test_connection_shows_the_server_version(self):
        params = self._params(self.cluster.action_test_connection())
        self.assertEqual(params["type"], "success")
        self.assertIn("v1.29.0", params["message"])

    @mute_logger("urllib3.connectionpool")
    def test_test_connection_shows_the_exact_error_without_the_kubeconfig(self):
        url = _closed_port_url()
        cluster = self.cluster.copy(
            {"name": "Unreachable", "kubeconfig": kubeconfig(url) + "# token-xyz\n"}
        )
        params = self._params(cluster.action_test_connection())
        self.assertEqual(params["type"], "danger")
        self.assertIn("cannot reach the API server", params["message"])
        self.assertNotIn("token-xyz", params["message"])
        broken = self.cluster.copy({"name": "Broken", "kubeconfig": "a: [b"})
        params = self._params(broken.action_test_connection())
        self.assertEqual(params["type"], "danger")
        self.assertIn("not valid YAML", params["message"])

    def test_dry_run_cluster(self):
        self.assertTrue(self.dry_cluster.is_dry_run)
        self.assertFalse(self.cluster.is_dry_run)
        self.assertEqual(self.dry_cluster.domain, "example.org")
        self.assertEqual(self.dry_cluster.kubernetes_version, "1.29")
        params = self._params(self.dry_cluster.action_test_connection())
        self.assertIn("dry-run", params["message"])
        demo = self.env.ref("kubernetes_app.cluster_demo", raise_if_not_found=False)
        if demo:
            self.assertTrue(demo.is_dry_run)
            self.assertEqual(demo.domain, "mint-cloud.ch")

    def test_field_checks(self):
        with self.assertRaises(ValidationError):
            self.dry_cluster.kubernetes_version = "latest"
        for domain in ("localhost", "Mint-Cloud.ch", "a..ch", "-a.ch"):
            with self.subTest(domain=domain), self.assertRaises(ValidationError):
                self.dry_cluster.domain = domain

    def test_app_count_and_view_apps(self):
        self.env["kubernetes.app"].with_context(kubernetes_app_no_deploy=True).create(
            self._app_values("acme")
        )
        self.assertEqual(self.cluster.app_count, 1)
        action = self.cluster.action_view_apps()
        self.assertEqual(action["domain"], [("cluster_id", "=", self.cluster.id)])
