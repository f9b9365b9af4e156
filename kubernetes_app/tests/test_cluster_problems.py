# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The status refresh stores restarts, the last warning and the health per
app from one LIST of pods and one of events per cluster, and keeps why a
reset Job or a rollout failed on its deployment."""

from datetime import timedelta

from odoo import fields

from odoo.addons.queue_job.tests.common import trap_jobs

from .common import KubernetesAppCase, fake_cluster


class TestClusterProblems(KubernetesAppCase):
    def _start(self, app_name, namespace=None):
        """Play the controllers: the app's Odoo pod runs, its workloads are up."""
        namespace = namespace or app_name
        (pod,) = self.kube.start_pods("Deployment", f"{app_name}-odoo", namespace)
        for kind in ("Deployment", "StatefulSet"):
            for obj in self._labelled(app_name, kind):
                self.kube.mark_ready(kind, obj["metadata"]["name"], namespace)
        return pod

    def test_cron_stores_restarts_warnings_and_health_with_one_event_list(self):
        acme = self._create_app("acme")
        bravo = self._create_app("bravo")
        acme_pod = self._start("acme")
        self._start("bravo")
        other_kube, other_cluster = fake_cluster(
            self.env, self.addCleanup, name="Other cluster"
        )
        charlie = self.env["kubernetes.app"].with_context(kubernetes_app_no_deploy=True)
        charlie = charlie.create({"name": "charlie", "cluster_id": other_cluster.id})
        secret = self._secrets(acme)[0]
        self.kube.crash_container(acme_pod, "acme", "odoo", "OOMKilled", 137)
        self.kube.add_event(
            "acme", "Pod", acme_pod, "BackOff", f"Back-off ({secret})", "Warning", 3
        )
        self.kube.reset_requests()

        self.env["kubernetes.app"]._cron_refresh_status()

        # One LIST of events and one of pods per cluster: across its
        # namespaces, or in the namespace of a cluster's only app.
        for kube, prefix in (
            (self.kube, "/api/v1"),
            (other_kube, "/api/v1/namespaces/charlie"),
        ):
            events = [r for r in kube.requests if r.path.endswith("/events")]
            self.assertEqual(
                [(r.method, r.path, r.query) for r in events],
                [("GET", f"{prefix}/events", {"fieldSelector": "type=Warning"})],
            )
            pods = [r for r in kube.requests if r.path.endswith("/pods")]
            self.assertEqual([r.path for r in pods], [f"{prefix}/pods"])
        self.assertEqual(acme.pod_restarts, 1)
        self.assertEqual(
            acme.last_warning, f"BackOff on Pod/{acme_pod} (x3): Back-off (********)"
        )
        self.assertTrue(acme.last_warning_at)
        self.assertTrue(acme.has_problems)
        self.assertEqual(
            (acme.health_state, acme.health_reason), ("problem", "out_of_memory")
        )
        self.assertEqual(bravo.pod_restarts, 0)
        self.assertFalse(bravo.last_warning)
        self.assertFalse(bravo.has_problems)
        self.assertEqual(
            (bravo.health_state, bravo.health_reason), ("running", "running")
        )
        self.assertTrue(bravo.health_since)
        self.assertFalse(charlie.has_problems)
        problems = self.env["kubernetes.app"].search(
            [("has_problems", "=", True), ("id", "in", (acme | bravo | charlie).ids)]
        )
        self.assertEqual(problems, acme)

    def test_health_since_stays_while_the_state_stays(self):
        app = self._create_app("acme")
        self._start("acme")
        app._refresh_status()
        since = app.health_since
        self.assertEqual(app.health_state, "running")
        app._refresh_status()
        self.assertEqual(app.health_since, since)

    def test_status_is_stored_when_pods_and_events_cannot_be_read(self):
        app = self._create_app("acme")
        self._start("acme")
        app.pod_restarts = 7
        self.kube.inject_fault(500, times=1, path_contains="/pods")
        with self.assertLogs("odoo.addons.kubernetes_app", "WARNING") as logs:
            app._refresh_status()
        self.assertIn("Pods and events of Fake cluster", logs.output[0])
        self.assertEqual(app.state, "running")
        self.assertEqual(app.pod_restarts, 7)
        self.assertEqual(app.health_state, "running")

    def test_failed_reset_keeps_events_and_logs_and_tells_the_steps(self):
        prod = self._create_app("acme")
        self._start("acme")
        app = self._create_int_app(prod)
        secret = self._secrets(app)[0]
        reset = self._run("action_reset", app)
        job = app.reset_job_name
        (pod,) = self.kube.start_pods("Job", job, "acme")
        self.kube.set_container_state(pod, "acme", "copy-database", "terminated")
        self.kube.set_container_state(pod, "acme", "copy-filestore", "running")
        app._refresh_status()
        self.assertEqual(app.reset_state, "running")
        self.assertEqual(
            (app.reset_step, app.reset_step_total, app.reset_step_name),
            (2, 4, "copy-filestore"),
        )
        self.assertEqual(app.reset_step_job, job)
        self.kube.set_container_state(pod, "acme", "copy-filestore", "terminated")
        self.kube.add_log(pod, "acme", f"restoring with {secret}", "neutralize")
        self.kube.set_container_state(
            pod, "acme", "neutralize", "terminated", "OOMKilled", exit_code=137
        )
        self.kube.finish_job(job, "acme", succeeded=False)
        self.kube.add_event(
            "acme",
            "Job",
            job,
            "BackoffLimitExceeded",
            "Job has reached the specified backoff limit",
            "Warning",
            component="job-controller",
        )
        self.kube.add_event("acme", "Pod", "acme-odoo-x", "BackOff", "other", "Warning")
        self.assertFalse(reset.diagnosed_at)

        app._refresh_status()

        self.assertEqual(app.reset_state, "failed")
        self.assertEqual(
            (app.reset_step, app.reset_step_name, app.reset_failure),
            (3, "neutralize", "out_of_memory"),
        )
        self.assertTrue(reset.diagnosed_at)
        self.assertIn(f"Job/{job}: Job has reached", reset.diagnosis_events)
        self.assertNotIn("acme-odoo-x", reset.diagnosis_events)
        self.assertEqual(
            reset.diagnosis_logs, f"==> {pod}/neutralize <==\nrestoring with ********"
        )
        self.assertIn(f"Reset Job {job} failed", app.message_ids[0].body)
        # Once only: a later refresh keeps the first diagnosis.
        first = reset.diagnosed_at
        self.kube.reset_requests()
        app._refresh_status()
        self.assertEqual(reset.diagnosed_at, first)
        self.assertFalse([r for r in self.kube.requests if r.path.endswith("/log")])

    def test_failed_rollout_keeps_the_crashing_container_logs(self):
        app = self._create_app("acme")
        deployment = app.last_deployment_id
        pod = self._start("acme")
        self.kube.add_log(pod, "acme", ["Traceback", "MemoryError"], "odoo")
        self.kube.crash_container(pod, "acme", "odoo", "Error", 1)
        self.kube.add_event("acme", "Pod", pod, "BackOff", "Back-off", "Warning", 4)

        self.env["kubernetes.app"]._cron_refresh_status()

        self.assertEqual((app.health_state, app.health_reason), ("problem", "crashing"))
        self.assertEqual(
            deployment.diagnosis_logs, f"==> {pod}/odoo <==\nTraceback\nMemoryError"
        )
        self.assertIn(
            f"Warning  BackOff  Pod/{pod} (x4): Back-off", deployment.diagnosis_events
        )

    def test_an_old_deployment_is_not_blamed(self):
        app = self._create_app("acme")
        deployment = app.last_deployment_id
        deployment.finished_at = fields.Datetime.now() - timedelta(days=3)
        pod = self._start("acme")
        self.kube.crash_container(pod, "acme", "odoo")
        app._refresh_status()
        self.assertEqual(app.health_state, "problem")
        self.assertFalse(deployment.diagnosed_at)

    def test_deployment_job_writes_health_without_reading_pods(self):
        with trap_jobs() as trap:
            app = self.env["kubernetes.app"].create(self._app_values("acme"))
            self.assertEqual(app.state, "queued")
            trap.perform_enqueued_jobs()
        paths = {r.path for r in self.kube.requests}
        self.assertNotIn("/api/v1/pods", paths)
        self.assertNotIn("/api/v1/events", paths)
        self.assertEqual(app.health_state, "starting")
        self.assertTrue(app.health_since)
