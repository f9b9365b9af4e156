# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Deployment jobs against the fake API server: apply, prune, reset, faults."""

import logging

from kubernetes.dynamic import DynamicClient

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import Job
from odoo.addons.queue_job.tests.common import trap_jobs

from mintcloud.apply import APP_LABEL
from mintcloud.kube import api_client

from .common import KubernetesAppCase

APP_KINDS = {
    "Secret",
    "PersistentVolumeClaim",
    "Service",
    "StatefulSet",
    "Deployment",
    "Ingress",
}


class _Capture(logging.Handler):
    """Collects every formatted log record (all loggers, INFO and up)."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))


class TestKubernetesDeployment(KubernetesAppCase):
    def _names(self, app_name, kind=None):
        return sorted(
            (o["kind"], o["metadata"]["name"]) for o in self._labelled(app_name, kind)
        )

    def test_create_applies_the_app_and_reads_its_status(self):
        app = self._create_app("acme")
        deployment = app.last_deployment_id
        self.assertEqual(deployment.state, "done", deployment.error)
        self.assertEqual(deployment.trigger, "create")
        self.assertEqual(deployment.summary, "9 created")
        self.assertTrue(deployment.started_at and deployment.finished_at)
        self.assertGreaterEqual(deployment.duration, 0)
        self.assertEqual(
            deployment.object_ids.mapped("action"), ["created"] * 9, "namespace + 8"
        )
        objects = self._labelled("acme")
        self.assertEqual({o["kind"] for o in objects}, APP_KINDS)
        self.assertEqual(len(objects), 8)
        for obj in objects:
            self.assertEqual(obj["metadata"]["namespace"], "acme")
            self.assertEqual(obj["metadata"]["labels"][APP_LABEL], "acme")
        # Nothing reported yet by the controllers: still rolling out.
        self.assertEqual(app.state, "deploying")
        self.assertEqual(app.ingress_hosts, "acme.mint-cloud.ch")
        self.assertFalse(app.tls_ready)
        self.assertTrue(app.status_checked_at)
        # The controllers catch up; Check status shows it.
        self.kube.mark_ready("Deployment", "acme-odoo", "acme")
        self.kube.mark_ready("StatefulSet", "acme-db", "acme")
        self.kube.set_ingress_address("acme", "acme", ip="203.0.113.7")
        status = self._run("action_check_status", app)
        self.assertEqual(status.trigger, "status")
        self.assertEqual(status.state, "done")
        self.assertEqual(app.state, "running")
        self.assertEqual(app.ingress_address, "203.0.113.7")
        self.assertTrue(app.tls_ready)
        self.assertEqual((app.replicas_ready, app.replicas_desired), (2, 2))
        self.assertEqual(status.summary, "Running")

    def test_apply_again_is_idempotent(self):
        app = self._create_app("acme")
        again = self._run("action_apply", app)
        self.assertEqual(again.state, "done")
        self.assertEqual(again.summary, "9 unchanged")
        self.assertEqual(len(self._labelled("acme")), 8)

    def test_update_applies_changes_and_prunes_removed_manifests(self):
        app = self._create_app("acme")
        app.manifest_line_ids.filtered(
            lambda line: line.manifest_id == self.manifests["ingress"]
        ).unlink()
        app.variable_ids = [(0, 0, {"name": "odoo_replicas", "value": "3"})]
        deployment = self._run("action_update", app)
        self.assertEqual(deployment.state, "done", deployment.error)
        self.assertEqual(deployment.trigger, "update")
        self.assertEqual(deployment.summary, "1 configured, 7 unchanged, 1 pruned")
        pruned = deployment.object_ids.filtered(lambda o: o.action == "pruned")
        self.assertEqual((pruned.kind, pruned.name), ("Ingress", "acme"))
        self.assertIsNone(
            self.kube.get_object("networking.k8s.io/v1", "Ingress", "acme", "acme")
        )
        odoo = self.kube.get_object("apps/v1", "Deployment", "acme-odoo", "acme")
        self.assertEqual(odoo["spec"]["replicas"], 3)

    def test_int_app_shares_the_namespace_and_is_pruned_on_its_own(self):
        prod = self._create_app("acme")
        int_app = self._create_int_app(prod)
        self.assertEqual(int_app.last_deployment_id.state, "done")
        self.assertEqual(len(self._labelled("acme-int")), 8)
        self.assertTrue(
            all(
                o["metadata"]["namespace"] == "acme" for o in self._labelled("acme-int")
            )
        )
        int_app.manifest_line_ids.filtered(
            lambda line: line.manifest_id == self.manifests["ingress"]
        ).unlink()
        self._run("action_apply", int_app)
        self.assertEqual(self._names("acme-int", "Ingress"), [])
        self.assertEqual(self._names("acme", "Ingress"), [("Ingress", "acme")])

    def test_reset_applies_the_reset_job_and_shows_its_progress(self):
        prod = self._create_app("acme")
        int_app = self._create_int_app(prod)
        deployment = self._run("action_reset", int_app)
        self.assertEqual(deployment.state, "done", deployment.error)
        self.assertEqual(deployment.trigger, "reset")
        self.assertTrue(deployment.reset_id)
        job_name = f"acme-int-reset-{deployment.reset_id}"
        self.assertEqual(int_app.reset_job_name, job_name)
        self.assertEqual(int_app.reset_deployment_id, deployment)
        self.assertEqual(int_app.reset_state, "running")
        job = self.kube.get_object("batch/v1", "Job", job_name, "acme")
        self.assertEqual(job["metadata"]["labels"][APP_LABEL], "acme-int")
        self.assertEqual(
            job["metadata"]["labels"]["mintcloud.io/source-instance"], "acme"
        )
        # A reset does not prune the app's other objects.
        self.assertEqual(len(self._labelled("acme-int")), 9)
        self.kube.finish_job(job_name, "acme", succeeded=True)
        self.env["kubernetes.app"]._cron_refresh_status()
        self.assertEqual(int_app.reset_state, "succeeded")
        # The next Apply keeps the reset Job (Jobs are not pruned by deploys).
        self._run("action_apply", int_app)
        self.assertTrue(self.kube.get_object("batch/v1", "Job", job_name, "acme"))
        # A second reset uses a new Job name; a failed Job shows as failed.
        second = self._run("action_reset", int_app)
        self.assertNotEqual(second.reset_id, deployment.reset_id)
        second_name = int_app.reset_job_name
        self.assertNotEqual(second_name, job_name)
        self.kube.finish_job(second_name, "acme", succeeded=False)
        self.env["kubernetes.app"]._cron_refresh_status()
        self.assertEqual(int_app.reset_state, "failed")
        self.assertIn("backoff limit", int_app.reset_message)

    def test_transient_fault_is_retried_and_the_rerun_converges(self):
        with trap_jobs() as trap:
            app = self.env["kubernetes.app"].create(self._app_values("acme"))
            job = trap.enqueued_jobs[0]
        deployment = app.last_deployment_id
        self.kube.inject_fault(503, times=1, method="PATCH", path_contains="services")
        with self.assertRaises(RetryableJobError) as caught:
            with self.env.cr.savepoint():
                job.perform()
        self.assertIn("unable to handle the request", str(caught.exception))
        self.assertIn(deployment.state, ("queued", "running"))
        self.assertTrue(self._labelled("acme"), "the first run got half way")
        self.kube.clear_faults()
        job.perform()
        self.assertEqual(deployment.state, "done", deployment.error)
        objects = self._labelled("acme")
        self.assertEqual(len(objects), 8, "no duplicate objects")
        self.assertEqual(len({o["metadata"]["uid"] for o in objects}), 8)
        self.assertEqual(app.state, "deploying")

    def test_transient_fault_on_the_last_attempt_fails_the_deployment(self):
        app = self.env["kubernetes.app"].with_context(kubernetes_app_no_deploy=True)
        app = app.create(self._app_values("acme"))
        app.action_apply()  # a stored job, as the job runner would load it
        deployment = app.last_deployment_id
        record = self.env["queue.job"].search([("uuid", "=", deployment.job_uuid)])
        record.retry = record.max_retries - 1
        self.kube.inject_fault(503, times=100)
        Job.load(self.env, deployment.job_uuid).perform()
        self.assertEqual(deployment.state, "failed")
        self.assertIn("Gave up after", deployment.error)
        self.assertIn("unable to handle the request", deployment.error)
        self.assertEqual(app.state, "error")

    def test_permanent_fault_fails_at_once_with_the_api_message(self):
        app = self._create_app("acme")
        # Another field manager takes over the Ingress class: a conflict.
        with api_client(host=self.kube.url) as client:
            ingresses = DynamicClient(client).resources.get(
                api_version="networking.k8s.io/v1", kind="Ingress"
            )
            ingresses.server_side_apply(
                body={
                    "apiVersion": "networking.k8s.io/v1",
                    "kind": "Ingress",
                    "metadata": {"name": "acme", "namespace": "acme"},
                    "spec": {"ingressClassName": "traefik"},
                },
                namespace="acme",
                field_manager="someone-else",
                force_conflicts=True,
            )
        deployment = self._run("action_apply", app)
        self.assertEqual(deployment.state, "failed")
        self.assertIn("Ingress acme/acme", deployment.error)
        self.assertIn("conflict", deployment.error)
        self.assertIn("prune skipped", deployment.summary)
        failed = deployment.object_ids.filtered(lambda o: o.action == "failed")
        self.assertEqual(failed.kind, "Ingress")
        self.assertEqual(app.state, "error")
        message = app.message_ids[:1]
        self.assertIn("failed", message.body)
        self.assertIn("conflict", message.body)

    def test_render_and_validation_errors_fail_with_plain_words(self):
        app = self._create_app("acme")
        app.variable_ids.filtered(lambda v: v.name == "admin_password").unlink()
        deployment = self._run("action_apply", app)
        self.assertEqual(deployment.state, "failed")
        self.assertIn("undefined variable 'admin_password'", deployment.error)
        self.assertEqual(app.state, "error")
        app._create_generated_secrets()
        app.variable_ids = [(0, 0, {"name": "odoo_image", "value": "odoo:17.0 beta"})]
        deployment = self._run("action_apply", app)
        self.assertEqual(deployment.state, "failed")
        self.assertIn("validation error", deployment.error)
        self.assertIn("Deployment/acme-odoo", deployment.error)
        self.assertIn("odoo:17.0 beta", deployment.rendered, "rendered docs are kept")
        self.assertFalse(deployment.object_ids, "nothing was sent")
        app.variable_ids.filtered(lambda v: v.name == "odoo_image").unlink()
        self.assertEqual(self._run("action_apply", app).state, "done")
        self.assertEqual(app.state, "deploying")

    def test_secrets_never_leak(self):
        capture = _Capture()
        root = logging.getLogger()
        root.addHandler(capture)
        self.addCleanup(root.removeHandler, capture)
        app = self._create_app("acme")
        secrets = self._secrets(app)
        self.assertEqual(len(secrets), 2)
        # A failure caused by a value that contains a secret.
        app.variable_ids = [
            (0, 0, {"name": "odoo_image", "value": f"odoo:{secrets[0]} x"})
        ]
        failing = self._run("action_apply", app)
        self.assertEqual(failing.state, "failed")
        self.assertIn("odoo:******** x", failing.rendered)
        app.variable_ids.filtered(lambda v: v.name == "odoo_image").unlink()
        self._run("action_update", app)
        texts = capture.lines[:]
        for deployment in app.deployment_ids:
            texts += [deployment.rendered or "", deployment.error or ""]
            texts += deployment.object_ids.mapped(lambda o: o.message or "")
        texts += app.message_ids.mapped("body")
        self.assertTrue(any("********" in text for text in texts))
        for secret in secrets:
            for text in texts:
                self.assertNotIn(secret, text)

    def test_dry_run_cluster_records_and_sends_nothing(self):
        app = self._create_app("acme", cluster_id=self.dry_cluster.id)
        deployment = app.last_deployment_id
        self.assertEqual(deployment.state, "dry_run")
        self.assertTrue(deployment.dry_run)
        self.assertEqual(app.state, "dry-run")
        self.assertEqual(len(deployment.object_ids), 8)
        self.assertEqual(set(deployment.object_ids.mapped("action")), {"dry_run"})
        self.assertIn("host: acme.example.org", deployment.rendered)
        self.assertEqual(self.kube.requests, [])

    def test_job_waits_while_another_transaction_holds_the_app(self):
        app = self.env.ref("kubernetes_app.app_demo_acme", raise_if_not_found=False)
        if not app:
            self.skipTest("needs the demo app (a row committed before the test)")
        deployment = self.env["kubernetes.deployment"].create(
            {"app_id": app.id, "trigger": "apply"}
        )
        with self.env.registry.cursor() as other:
            other.execute("SET LOCAL lock_timeout = '5s'")  # never hang the suite
            other.execute(
                "SELECT id FROM kubernetes_app WHERE id = %s FOR NO KEY UPDATE",
                [app.id],
            )
            with self.assertRaises(RetryableJobError) as caught:
                deployment._job_run()
            other.rollback()
        self.assertTrue(caught.exception.ignore_retry)
        self.assertEqual(deployment.state, "queued")
        self.assertEqual(self.kube.requests, [])

    def test_job_does_nothing_when_no_longer_needed(self):
        with trap_jobs() as trap:
            app = self.env["kubernetes.app"].create(self._app_values("acme"))
            job = trap.enqueued_jobs[0]
        app.last_deployment_id.write({"state": "failed"})
        self.assertIn("Nothing to do", job.perform())
        self.assertEqual(self.kube.requests, [])
