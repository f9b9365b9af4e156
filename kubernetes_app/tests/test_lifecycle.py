# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Suspend, resume and terminate apps against the fake API server."""

from unittest.mock import patch

from odoo.exceptions import AccessError, UserError

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.tests.common import trap_jobs

from mintcloud.kube import api_client

from .common import KubernetesAppCase, drain, manifest_url


class TestLifecycle(KubernetesAppCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backup = cls.env["kubernetes.manifest"].create(
            {
                "name": "Test backup",
                "url": manifest_url("backup-job"),
                "kind": "backup",
            }
        )

    # --- helpers ----------------------------------------------------------

    def _app(self, name="acme"):
        app = self._create_app(name, backup_manifest_ids=[(6, 0, self.backup.ids)])
        self.assertEqual(app.last_deployment_id.state, "done")
        return app

    def _int(self, prod):
        app = self._create_int_app(prod)
        app.backup_manifest_ids = self.backup
        return app

    def _drain(self, call, *args, **kwargs):
        return drain(call, *args, **kwargs)

    def _deployment(self, app, trigger):
        return app.deployment_ids.filtered(lambda d: d.trigger == trigger)[:1]

    def _odoo(self, app="acme"):
        return self.kube.get_object("apps/v1", "Deployment", f"{app}-odoo", "acme")

    def _backend_services(self, app="acme"):
        ingress = self.kube.get_object("networking.k8s.io/v1", "Ingress", app, "acme")
        paths = ingress["spec"]["rules"][0]["http"]["paths"]
        return [path["backend"]["service"]["name"] for path in paths]

    def _mails(self, app, subject):
        return (
            self.env["mail.mail"]
            .search([("model", "=", "kubernetes.app"), ("res_id", "=", app.id)])
            .filtered(lambda m: subject in (m.subject or ""))
        )

    # --- suspend and resume -------------------------------------------------

    def test_suspend_runs_no_odoo_and_serves_the_suspended_page(self):
        app = self._app()
        self.assertEqual(self._odoo()["spec"]["replicas"], 1)
        self._drain(app.with_user(self.manager).action_suspend)

        self.assertEqual((app.lifecycle, app.lifecycle_reason), ("suspended", "manual"))
        self.assertEqual(app.state, "suspended")
        deployment = self._deployment(app, "suspend")
        self.assertEqual(deployment.state, "done", deployment.error)
        self.assertEqual(self._odoo()["spec"]["replicas"], 0)
        page = self.kube.get_object("apps/v1", "Deployment", "acme-suspended", "acme")
        env = {
            e["name"]: e["value"]
            for e in page["spec"]["template"]["spec"]["containers"][0]["env"]
        }
        self.assertIn("This app is suspended", env["PAGE"])
        self.assertTrue(self.kube.get_object("v1", "Service", "acme-suspended", "acme"))
        self.assertEqual(self._backend_services(), ["acme-suspended"])
        # the data stays
        self.assertTrue(
            self.kube.get_object(
                "v1", "PersistentVolumeClaim", "acme-filestore", "acme"
            )
        )
        self.assertTrue(
            self.kube.get_object("apps/v1", "StatefulSet", "acme-db", "acme")
        )
        self.assertTrue(self.kube.get_object("v1", "Secret", "acme-secrets", "acme"))
        # the customer is told, and the status cron keeps the state
        self.assertEqual(len(self._mails(app, "is suspended")), 1)
        self.env["kubernetes.app"]._cron_refresh_status()
        self.assertEqual(app.state, "suspended")
        # An Apply of a suspended app keeps it suspended.
        self._run("action_apply", app)
        self.assertEqual(
            (app.state, self._odoo()["spec"]["replicas"]), ("suspended", 0)
        )

    def test_resume_brings_odoo_back_and_removes_the_page(self):
        app = self._app()
        self._drain(app.with_user(self.manager).action_suspend)
        self._drain(app.with_user(self.manager).action_resume)

        self.assertEqual((app.lifecycle, app.lifecycle_reason), ("active", False))
        self.assertEqual(self._deployment(app, "resume").state, "done")
        self.assertEqual(self._odoo()["spec"]["replicas"], 1)
        self.assertIsNone(
            self.kube.get_object("apps/v1", "Deployment", "acme-suspended", "acme")
        )
        self.assertIsNone(
            self.kube.get_object("v1", "Service", "acme-suspended", "acme")
        )
        self.assertEqual(self._backend_services(), ["acme-websocket", "acme-odoo"])
        self.assertEqual(app.state, "deploying")
        self.assertEqual(len(self._mails(app, "runs again")), 1)

    def test_only_managers_change_the_lifecycle(self):
        app = self._app()
        with self.assertRaises(AccessError):
            app.with_user(self.user).action_suspend()
        with self.assertRaises(AccessError):
            app.with_user(self.user).action_terminate()
        self.assertEqual(app.lifecycle, "active")

    def test_a_step_asked_twice_runs_once(self):
        app = self._app()
        with trap_jobs() as trap:
            app._request_lifecycle_if_needed("suspend", "closed")
            app._request_lifecycle_if_needed("suspend", "closed")
            trap.assert_jobs_count(1, only=app._job_lifecycle)
            trap.perform_enqueued_jobs()
            trap.perform_enqueued_jobs()
        self.assertEqual(app.lifecycle, "suspended")
        # The same step once more: the job sees nothing to do; automation
        # does not even enqueue it; an operator is told.
        self.assertIn("Nothing to do", app._job_lifecycle("suspend", "closed"))
        with trap_jobs() as trap:
            self.assertFalse(app._request_lifecycle_if_needed("suspend", "closed"))
            trap.assert_jobs_count(0)
        with self.assertRaisesRegex(UserError, "already suspended"):
            app.with_user(self.manager).action_suspend()
        self.assertEqual(
            len(app.deployment_ids.filtered(lambda d: d.trigger == "suspend")), 1
        )

    def test_a_step_waits_for_a_busy_app(self):
        app = self._app()
        with trap_jobs() as trap:
            app.action_apply()  # queued, its job not run yet
            with self.assertRaises(RetryableJobError):
                app._job_lifecycle("suspend", "manual")
            trap.perform_enqueued_jobs()
        self.assertEqual(app.lifecycle, "active", "nothing changed while busy")
        self._drain(app._job_lifecycle, "suspend", "manual")
        self.assertEqual(app.lifecycle, "suspended")

    def test_a_fault_while_suspending_is_retried_then_converges(self):
        app = self._app()
        self.kube.inject_fault(500, times=1, method="PATCH")
        with trap_jobs() as trap:
            app.with_user(self.manager).action_suspend()
            trap.perform_enqueued_jobs()  # the lifecycle step
            with self.assertRaises(RetryableJobError):
                trap.perform_enqueued_jobs()  # the suspend deployment: 500
        # The failed attempt was rolled back, as queue_job does; the app is
        # suspended (the step's own job) and its deployment waits for a retry.
        deployment = self._deployment(app, "suspend")
        self.assertEqual((deployment.state, app.lifecycle), ("queued", "suspended"))
        self.assertEqual(self._odoo()["spec"]["replicas"], 1)
        deployment._job_run()  # the retry
        self.assertEqual(deployment.state, "done", deployment.error)
        self.assertEqual(self._odoo()["spec"]["replicas"], 0)

    # --- terminate ----------------------------------------------------------

    def _terminate(self, app, name=None):
        wizard = (
            self.env["kubernetes.app.terminate"]
            .with_user(self.manager)
            .create({"app_id": app.id, "confirm_name": name or app.name})
        )
        self._drain(wizard.action_confirm)
        return self._deployment(app, "backup")

    def test_terminate_takes_the_backup_first_then_deletes_everything(self):
        prod = self._app()
        staging = self._int(prod)
        self.assertTrue(
            self.kube.get_object("apps/v1", "Deployment", "acme-int-odoo", "acme")
        )

        backup = self._terminate(staging)
        self.assertEqual(backup.state, "done", backup.error)
        # Odoo was stopped before the backup: a consistent copy.
        suspend = self._deployment(staging, "suspend")
        self.assertLess(suspend.id, backup.id)
        self.assertEqual(self._odoo("acme-int")["spec"]["replicas"], 0)
        job_name = f"acme-int-backup-{backup.backup_id}"
        self.assertEqual(staging.backup_job_name, job_name)
        self.assertEqual(staging.lifecycle, "terminating")
        self.assertTrue(self.kube.get_object("batch/v1", "Job", job_name, "acme"))
        claim = self.kube.get_object(
            "v1", "PersistentVolumeClaim", "acme-int-backup", "acme"
        )
        self.assertEqual(claim["metadata"]["labels"]["mint-cloud.ch/retain"], "true")
        # Nothing is deleted while the backup runs.
        with self.assertRaises(RetryableJobError):
            staging._job_await_backup()
        self.assertTrue(
            self.kube.get_object("apps/v1", "Deployment", "acme-int-odoo", "acme")
        )

        self.kube.finish_job(job_name, "acme", succeeded=True)
        self._drain(staging._job_await_backup)
        terminate = self._deployment(staging, "terminate")
        self.assertEqual(terminate.state, "done", terminate.error)
        self.assertEqual(
            (staging.lifecycle, staging.state, staging.active),
            ("terminated", "terminated", False),
        )
        left = {o["metadata"]["name"] for o in self._labelled("acme-int")}
        self.assertEqual(left, {"acme-int-backup"}, "only the backup claim stays")
        self.assertTrue(self._labelled("acme"), "the production app is untouched")
        self.assertIsNotNone(self.kube.get_object("v1", "Namespace", "acme"))
        self.assertIn("acme-int-backup", staging.backup_location)
        self.assertIn(backup.backup_id, staging.backup_location)
        self.assertGreaterEqual(len(staging.deployment_ids), 3, "history kept")
        with self.assertRaisesRegex(UserError, "terminated"):
            staging.with_user(self.manager).action_resume()

        # The production app too: then the namespace goes.
        backup = self._terminate(prod)
        self.kube.finish_job(f"acme-backup-{backup.backup_id}", "acme", succeeded=True)
        self._drain(prod._job_await_backup)
        self.assertEqual(prod.lifecycle, "terminated")
        self.assertIsNone(self.kube.get_object("v1", "Namespace", "acme"))
        self.assertIn(
            "namespace acme deleted", self._deployment(prod, "terminate").summary
        )

    def test_a_failed_backup_deletes_nothing(self):
        app = self._app()
        before = sorted(o["metadata"]["name"] for o in self._labelled("acme"))
        backup = self._terminate(app)
        self.kube.finish_job(f"acme-backup-{backup.backup_id}", "acme", succeeded=False)
        self._drain(app._job_await_backup)

        self.assertEqual((app.lifecycle, app.backup_state), ("suspended", "failed"))
        self.assertEqual(app.state, "suspended")
        self.assertFalse(self._deployment(app, "terminate"))
        after = {o["metadata"]["name"] for o in self._labelled("acme")}
        self.assertLessEqual(set(before), after, "nothing was deleted")
        self.assertIn("acme-backup", after)
        activity = app.activity_ids.filtered(
            lambda a: "Final backup failed" in (a.summary or "")
        )
        self.assertEqual(len(activity), 1)
        self.assertIn("Nothing was deleted", activity.note)

    def test_a_timeout_while_deleting_is_retried(self):
        app = self._app()
        backup = self._terminate(app)
        self.kube.finish_job(f"acme-backup-{backup.backup_id}", "acme", succeeded=True)
        # The API server answers the first DELETE after the client gave up.
        self.kube.inject_fault("slow", times=1, method="DELETE", delay=2.0)
        short = patch.object(
            type(self.cluster),
            "_api_client",
            lambda cluster: api_client(
                kubeconfig=cluster.sudo().kubeconfig, timeout=1, retries=False
            ),
        )
        with trap_jobs() as trap, short:
            app._job_await_backup()
            with self.assertRaisesRegex(RetryableJobError, "(?i)timed out|timeout"):
                trap.perform_enqueued_jobs()
        terminate = self._deployment(app, "terminate")
        self.assertEqual(app.lifecycle, "terminating")
        terminate._job_run()
        self.assertEqual(terminate.state, "done", terminate.error)
        self.assertEqual(app.lifecycle, "terminated")

    def test_terminate_needs_the_typed_name_and_a_backup_manifest(self):
        app = self._app()
        wizard = (
            self.env["kubernetes.app.terminate"]
            .with_user(self.manager)
            .create({"app_id": app.id, "confirm_name": "acm"})
        )
        with self.assertRaisesRegex(UserError, "exactly"):
            wizard.action_confirm()
        app.backup_manifest_ids = False
        with self.assertRaisesRegex(UserError, "no backup manifest"):
            app.with_user(self.manager).action_terminate()
        self.assertEqual(app.lifecycle, "active")

    def test_a_dry_run_app_is_terminated_without_backup(self):
        app = self._create_app("dryapp", cluster_id=self.dry_cluster.id)
        self._drain(app._job_lifecycle, "terminate", "manual")
        self.assertEqual((app.lifecycle, app.active), ("terminated", False))

    # --- no orphans ---------------------------------------------------------

    def test_deleting_a_live_app_is_refused(self):
        prod = self._app()
        staging = self._int(prod)
        with self.assertRaisesRegex(UserError, "terminate it"):
            staging.unlink()
        with self.assertRaisesRegex(UserError, "terminate it"):
            prod.unlink()
        dry = self._create_app("dryapp", cluster_id=self.dry_cluster.id)
        dry_int = self._create_int_app(dry)
        with self.assertRaisesRegex(UserError, "integration app dryapp-int"):
            dry.unlink()
        (dry_int | dry).unlink()
        self.assertFalse(dry.exists())
