# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The status cron reads every app of a cluster with one LIST per kind."""

import re

from mintcloud.apply import apply_app
from mintcloud.kube import api_client

from .common import KubernetesAppCase

APPS = 1000
# A collection path: /apis/<group>/<version>/<plural> or /api/v1/<plural>,
# cluster-wide (no namespace, no name).
LIST_PATH = re.compile(r"^/apis?/(?:[^/]+/)?v1/(?P<plural>[a-z]+)$")


def _docs(name):
    labels = {"app.kubernetes.io/instance": name}
    return [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": f"{name}-odoo"},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "odoo", "image": "odoo:17.0"}]},
                },
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": name},
            "spec": {
                "rules": [{"host": f"{name}.mint-cloud.ch"}],
                "tls": [{"hosts": [f"{name}.mint-cloud.ch"]}],
            },
        },
    ]


class TestStatusCron(KubernetesAppCase):
    def test_one_list_per_kind_for_a_thousand_apps(self):
        Apps = self.env["kubernetes.app"].with_context(kubernetes_app_no_deploy=True)
        apps = Apps.create(
            [
                {"name": f"app{index:04d}", "cluster_id": self.cluster.id}
                for index in range(APPS)
            ]
        )
        apps.write({"state": "running"})
        # Three apps really run on the cluster; the fake plays the controllers.
        with api_client(host=self.kube.url) as client:
            for name in ("app0000", "app0001", "app0002"):
                result = apply_app(client, name, name, _docs(name))
                self.assertTrue(result.ok, result.errors)
        for name in ("app0000", "app0001"):
            self.kube.mark_ready("Deployment", f"{name}-odoo", name)
            self.kube.set_ingress_address(name, name)
        self.kube.mark_ready("Deployment", "app0002-odoo", "app0002", ready=0)
        dry = self.env["kubernetes.app"].with_context(kubernetes_app_no_deploy=True)
        dry = dry.create({"name": "dryapp", "cluster_id": self.dry_cluster.id})
        self.kube.reset_requests()

        self.env["kubernetes.app"]._cron_refresh_status()

        lists = [
            LIST_PATH.match(r.path).group("plural")
            for r in self.kube.requests
            if r.method == "GET" and LIST_PATH.match(r.path)
        ]
        self.assertTrue(lists)
        self.assertEqual(len(lists), len(set(lists)), f"one LIST per kind: {lists}")
        # Deployments, StatefulSets, Ingresses, Jobs; then pods and Warning
        # events for restarts and the last warning (mintcloud.observe).
        self.assertLessEqual(len(lists), 6)
        self.assertFalse([r for r in self.kube.requests if r.method != "GET"])
        by_name = {app.name: app for app in apps}
        self.assertEqual(by_name["app0000"].state, "running")
        self.assertTrue(by_name["app0000"].tls_ready)
        self.assertEqual(by_name["app0000"].ingress_address, "203.0.113.10")
        self.assertEqual(by_name["app0002"].state, "degraded")
        self.assertEqual(by_name["app0002"].replicas_ready, 0)
        self.assertEqual(by_name["app0999"].state, "degraded")
        self.assertEqual(by_name["app0999"].status_message, "nothing deployed yet")
        self.assertEqual(len(apps.filtered("status_checked_at")), APPS)
        self.assertEqual(dry.state, "draft")
        self.assertFalse(dry.status_checked_at)

    def test_unreachable_cluster_is_logged_and_skipped(self):
        app = self.env["kubernetes.app"].with_context(kubernetes_app_no_deploy=True)
        app = app.create({"name": "acme", "cluster_id": self.cluster.id})
        self.kube.inject_fault(503, times=10)
        with self.assertLogs("odoo.addons.kubernetes_app", level="WARNING") as logs:
            self.env["kubernetes.app"]._cron_refresh_status()
        self.assertIn("Status of cluster Fake cluster", logs.output[0])
        self.assertFalse(app.status_checked_at)
