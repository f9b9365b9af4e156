# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The cluster's garbage collection: report first, delete when found again."""

from mintcloud.apply import apply_app
from mintcloud.kube import api_client

from .common import KubernetesAppCase, kubeconfig


class TestGarbageCollection(KubernetesAppCase):
    def _leftover(self, app_name, name):
        """An object of the app its inventory does not hold (a failed run's)."""
        with api_client(kubeconfig=kubeconfig(self.kube.url)) as client:
            doc = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}
            assert apply_app(client, app_name, "acme", [doc], prune=False).ok

    def test_a_leftover_is_reported_then_deleted(self):
        app = self._create_app("acme")
        self.assertTrue(app.last_deployment_id.inventory)
        self._leftover("acme", "half-done")
        before = {o["metadata"]["name"] for o in self._labelled("acme")}
        self.kube.reset_requests()

        found, deleted = self.cluster._collect_garbage()
        self.assertEqual([g["name"] for g in found], ["half-done"])
        self.assertEqual(deleted, [])
        self.assertIn(
            "ConfigMap acme/half-done of app acme", self.cluster.garbage_report
        )
        self.assertTrue(self.kube.get_object("v1", "ConfigMap", "half-done", "acme"))
        lists = [r for r in self.kube.requests if "labelSelector" in r.query]
        self.assertTrue(lists and all("/namespaces/" not in r.path for r in lists))

        found, deleted = self.cluster._collect_garbage()
        self.assertEqual([r.name for r in deleted], ["half-done"])
        self.assertIsNone(self.kube.get_object("v1", "ConfigMap", "half-done", "acme"))
        after = {o["metadata"]["name"] for o in self._labelled("acme")}
        self.assertEqual(after, before - {"half-done"}, "the app's objects stay")
        self.assertIn(
            "Deleted now: ConfigMap acme/half-done", self.cluster.garbage_report
        )
        found, deleted = self.cluster._collect_garbage()
        self.assertEqual((found, deleted), ([], []))
        self.assertEqual(self.cluster.garbage_report, "Nothing found.")

    def test_an_app_with_a_running_deployment_is_not_judged(self):
        app = self._create_app("acme")
        self._leftover("acme", "just-applied")
        self.cluster._collect_garbage()
        app.action_apply()  # queued: its job has not run
        found, deleted = self.cluster._collect_garbage()
        self.assertEqual((found, deleted), ([], []))
        self.assertTrue(self.kube.get_object("v1", "ConfigMap", "just-applied", "acme"))

    def test_the_first_deployment_reads_nothing_and_the_next_applies_from_it(self):
        self.kube.reset_requests()
        app = self._create_app("acme")
        objects = len(app.last_deployment_id.object_ids) - 1  # but the namespace
        gets = [
            r
            for r in self.kube.requests
            if r.method == "GET"
            and "/namespaces/acme/" in r.path
            and "labelSelector" not in r.query
        ]
        self.assertEqual(gets, [], "a new app's objects are not read first")
        self.kube.reset_requests()
        deployment = self._run("action_apply", app)
        self.assertEqual(deployment.summary.split(";")[0], f"{objects + 1} unchanged")
        writes = [
            r for r in self.kube.requests if r.method in ("PATCH", "POST", "DELETE")
        ]
        self.assertEqual(len(writes), objects)
