# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The Cluster tab: objects, pods and events read on demand; logs in a dialog."""

from odoo.tests import Form, tagged

from .common import KubernetesAppCase

TIMEOUT = "kubernetes_app.cluster_read_timeout"


@tagged("post_install", "-at_install")
class TestClusterTab(KubernetesAppCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param(TIMEOUT, "0.5")

    def setUp(self):
        super().setUp()
        self.app = self._create_app("acme")
        self.secret = self._secrets(self.app)[0]
        (self.pod,) = self.kube.start_pods("Deployment", "acme-odoo", "acme")
        self.kube.mark_ready("Deployment", "acme-odoo", "acme")
        self.kube.add_log(self.pod, "acme", ["booting", "ready"], container="odoo")
        self.kube.crash_container(
            self.pod, "acme", "odoo", reason="OOMKilled", exit_code=137
        )
        self.kube.add_event(
            "acme",
            "Pod",
            self.pod,
            "BackOff",
            f"Back-off restarting failed container (password {self.secret})",
            type="Warning",
            count=5,
        )
        self.kube.add_event(
            "acme", "Deployment", "acme-odoo", "ScalingReplicaSet", "Up"
        )
        self.kube.reset_requests()

    def _tab(self, user=None):
        app = self.app.with_user(user or self.user)
        app.action_read_cluster()
        app.invalidate_recordset()
        return app

    def test_tab_is_read_on_demand_only(self):
        tab = self.app.with_user(self.user)
        Form(tab)  # the form loads: nothing is read from the cluster
        tab.read(["cluster_object_ids", "cluster_pod_ids", "cluster_event_ids"])
        self.assertEqual(self.kube.requests, [])
        self.assertFalse(tab.cluster_read_at)
        self.assertFalse(tab.cluster_object_ids)

    def test_read_from_cluster_shows_objects_pods_and_events(self):
        tab = self._tab()
        self.assertTrue(tab.cluster_read_at)
        self.assertFalse(tab.cluster_error)
        objects = {(o.kind, o.name): o for o in tab.cluster_object_ids}
        odoo = objects[("Deployment", "acme-odoo")]
        self.assertEqual((odoo.ready, odoo.status), ("1/1", "Available"))
        self.assertIn("Available=True", odoo.conditions)
        self.assertIn(("StatefulSet", "acme-db"), objects)
        self.assertIn(("PersistentVolumeClaim", "acme-filestore"), objects)
        self.assertIn(("Ingress", "acme"), objects)
        self.assertNotIn("Secret", {kind for kind, _name in objects})
        rows = {(p.pod, p.container): p for p in tab.cluster_pod_ids}
        main = rows[(self.pod, "odoo")]
        self.assertEqual(main.pod_status, "CrashLoopBackOff")
        self.assertEqual(main.state, "waiting: CrashLoopBackOff")
        self.assertEqual((main.restarts, main.last_reason), (1, "OOMKilled (137)"))
        self.assertTrue(main.problem)
        init = rows[(self.pod, "init-db")]
        self.assertTrue(init.is_init)
        self.assertFalse(init.problem)
        first = tab.cluster_event_ids[0]
        self.assertEqual((first.event_type, first.reason), ("Warning", "BackOff"))
        self.assertEqual(first.object, f"Pod/{self.pod}")
        self.assertEqual(first.count, 5)
        self.assertEqual(
            [e.reason for e in tab.cluster_event_ids], ["BackOff", "ScalingReplicaSet"]
        )
        paths = [r.path for r in self.kube.requests]
        self.assertTrue(all(r.method == "GET" for r in self.kube.requests))
        self.assertFalse([p for p in paths if "secrets" in p or "configmaps" in p])

    def test_secrets_never_shown_in_events_and_logs(self):
        tab = self._tab()
        message = tab.cluster_event_ids[0].message
        self.assertNotIn(self.secret, message)
        self.assertIn("(password ********)", message)
        self.kube.add_log(self.pod, "acme", f"FATAL: password {self.secret} refused")
        line = tab.cluster_pod_ids.filtered(lambda p: p.container == "odoo")
        action = line.action_logs()
        log = self.env["kubernetes.app.log"].browse(action["res_id"])
        self.assertEqual(action["target"], "new")
        self.assertFalse(log.error)
        self.assertEqual(log.text, "booting\nready\nFATAL: password ******** refused\n")
        self.assertNotIn(self.secret, log.text)

    def test_logs_dialog_options(self):
        self.kube.set_container_state(self.pod, "acme", "odoo", "running")
        self.kube.add_log(self.pod, "acme", "FATAL: out of memory", "odoo")
        self.kube.crash_container(self.pod, "acme", "odoo", back_off=False)
        self.kube.add_log(self.pod, "acme", [f"line {i}" for i in range(500)], "odoo")
        tab = self._tab(self.manager)
        line = tab.cluster_pod_ids.filtered(lambda p: p.container == "odoo")
        log = self.env["kubernetes.app.log"].browse(line.action_logs()["res_id"])
        self.assertEqual(len(log.text.splitlines()), 200)
        self.assertTrue(log.text.endswith("line 499\n"))
        log.write({"tail_lines": 5, "since_seconds": 600})
        log.action_refresh()
        self.assertEqual(log.text.splitlines(), [f"line {i}" for i in range(495, 500)])
        log.write({"previous": True, "since_seconds": 0})
        log.action_refresh()
        self.assertIn("FATAL", log.text)
        query = self.kube.requests[-1].query
        self.assertEqual((query["previous"], query["tailLines"]), ("true", "5"))
        self.assertEqual(query["container"], "odoo")

    def test_cluster_that_does_not_answer_gives_a_clear_message(self):
        self.kube.inject_fault("slow", times=1, delay=2)
        tab = self._tab()
        self.assertEqual(
            tab.cluster_error,
            "Cluster Fake cluster did not answer within 0.5 seconds: list "
            "Deployment in acme: the API server timed out. Try again later.",
        )
        self.assertFalse(tab.cluster_object_ids)
        # One attempt only: the read gave up after the first request.
        self.assertEqual(len(self.kube.requests), 1)
        line_log = self.env["kubernetes.app.log"].create(
            {"app_id": self.app.id, "pod": self.pod, "container": "odoo"}
        )
        self.kube.inject_fault("slow", times=1, delay=2, path_contains="/log")
        line_log._read_log()
        self.assertIn("did not answer within 0.5 seconds", line_log.error)
        self.assertIn(f"Logs of acme/{self.pod}/odoo", line_log.error)

    def test_refused_request_and_dry_run_cluster(self):
        self.kube.inject_fault(500, times=1)
        self.assertIn("did not answer", self._tab().cluster_error)
        missing = self.env["kubernetes.app.log"].create(
            {"app_id": self.app.id, "pod": "gone", "container": "odoo"}
        )
        missing._read_log()
        self.assertEqual(missing.error, 'Logs of acme/gone/odoo: pods "gone" not found')
        dry = self.env["kubernetes.app"].with_context(kubernetes_app_no_deploy=True)
        dry = dry.create({"name": "dryapp", "cluster_id": self.dry_cluster.id})
        dry.action_read_cluster()
        self.assertIn("dry-run", dry.cluster_error)

    def test_each_user_sees_their_last_read(self):
        self._tab(self.manager)
        self.assertFalse(self.app.with_user(self.user).cluster_read_at)
        self._tab()
        self._tab()
        Observation = self.env["kubernetes.app.observation"]
        self.assertEqual(
            Observation.search_count(
                [("app_id", "=", self.app.id), ("create_uid", "=", self.user.id)]
            ),
            1,
        )
