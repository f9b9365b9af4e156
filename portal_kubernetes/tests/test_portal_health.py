# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The app page tells the customer how the app is, in plain words: running,
starting or a problem since when, and the reset in steps; never a log or a
raw message of the cluster."""

import re

from odoo.tests import tagged

from .common import PortalKubernetesCase


@tagged("post_install", "-at_install")
class TestPortalHealth(PortalKubernetesCase):
    def _start(self, app):
        """Play the controllers: the app's Odoo pod runs, its workloads are up."""
        namespace = app.namespace
        (pod,) = self.kube.start_pods("Deployment", f"{app.name}-odoo", namespace)
        for kind in ("Deployment", "StatefulSet"):
            for obj in self.kube.list_objects(
                kind=kind, label_selector=f"mint-cloud.ch/app={app.name}"
            ):
                self.kube.mark_ready(kind, obj["metadata"]["name"], namespace)
        return pod

    def _health(self, app):
        response = self._get(f"/my/apps/{app.id}")
        self.assertEqual(response.status_code, 200)
        found = re.search(r'data-health="([a-z]+)"', response.text)
        return (found.group(1) if found else None), response.text

    def test_health_summary_running_then_a_problem(self):
        pod = self._start(self.alpha)
        self.alpha._refresh_status()
        self.assertEqual(self.alpha.health_state, "running")
        self.authenticate("portal_a", "portal_a")
        state, page = self._health(self.alpha)
        self.assertEqual(state, "running")
        self.assertIn("Your app is running.", page)
        self.assertIn("o_kubernetes_app_health_since", page)

        secret = self.alpha._get_variables().secret_values()[0]
        self.kube.add_log(pod, "alpha", f"Traceback: password {secret}", "odoo")
        self.kube.crash_container(pod, "alpha", "odoo", "OOMKilled", 137)
        self.kube.add_event(
            "alpha", "Pod", pod, "BackOff", "Back-off restarting failed", "Warning", 3
        )
        self.alpha._refresh_status()
        state, page = self._health(self.alpha)
        self.assertEqual(state, "problem")
        self.assertIn("Your app ran out of memory and is being restarted.", page)
        self.assertIn("Our team sees this problem too.", page)
        # Never a log line, an event message, a pod name or a secret.
        for raw in ("Traceback", "Back-off restarting", pod, "OOMKilled", secret):
            self.assertNotIn(raw, page)

    def test_another_customer_gets_404(self):
        self.authenticate("portal_b", "portal_b")
        self.assertEqual(self._get(f"/my/apps/{self.alpha.id}").status_code, 404)
        self.assertEqual(self._get(f"/my/apps/{self.alpha_int.id}").status_code, 404)
        self.assertEqual(self._health(self.bravo)[0], "starting")

    def test_reset_progress_and_failure_in_the_customers_words(self):
        app = self.alpha_int
        app._portal_reset(self.user_a)
        self._deploy_reset(app)
        job = app.reset_job_name
        (pod,) = self.kube.start_pods("Job", job, "alpha")
        self.kube.set_container_state(pod, "alpha", "copy-database", "terminated")
        self.kube.set_container_state(pod, "alpha", "copy-filestore", "running")
        app._refresh_status()
        self.authenticate("portal_a", "portal_a")
        page = self._get(f"/my/apps/{app.id}").text
        self.assertIn("Step 2 of 4: copying the files.", page)

        self.kube.set_container_state(pod, "alpha", "copy-filestore", "terminated")
        self.kube.set_container_state(
            pod, "alpha", "neutralize", "terminated", "OOMKilled", exit_code=137
        )
        self.kube.finish_job(job, "alpha", succeeded=False)
        app._refresh_status()
        self.assertEqual(app.reset_state, "failed")
        self.assertTrue(app.reset_deployment_id.diagnosed_at)
        page = self._get(f"/my/apps/{app.id}").text
        self.assertIn(
            "The reset stopped at step 3 of 4 (making the copy safe: no e-mails, "
            "no scheduled actions, no payments): the step ran out of memory.",
            page,
        )
        # Neither the Job's condition nor the status message of the cluster.
        self.assertNotIn("backoff limit", page)
        self.assertNotIn("OOMKilled", page)

    def _deploy_reset(self, app):
        """Run the queued reset deployment (its job was enqueued by the portal)."""
        deployment = app.reset_deployment_id
        self.assertEqual(deployment.state, "queued")
        deployment._job_run()
        self.assertEqual(app.reset_state, "running")
