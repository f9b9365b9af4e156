# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo.tests import tagged

from odoo.addons.queue_job.job import Job

from .common import PortalKubernetesCase


@tagged("post_install", "-at_install")
class TestPortalResetTour(PortalKubernetesCase):
    def test_customer_resets_the_staging_app_in_the_portal(self):
        before = self._deployments(self.alpha_int)
        self.start_tour("/web/login?redirect=/my", "portal_kubernetes_reset")
        self.env.invalidate_all()

        # The tour queued one reset deployment of the integration app only.
        deployment = self._deployments(self.alpha_int) - before
        self.assertEqual(len(deployment), 1)
        self.assertEqual(deployment.trigger, "reset")
        self.assertEqual(deployment.state, "queued")
        self.assertEqual(self.alpha_int.reset_deployment_id, deployment)
        self.assertEqual(self.alpha_int.reset_state, "queued")
        self.assertTrue(deployment.job_uuid)
        message = self.alpha_int.message_ids.filtered(
            lambda m: "Reset requested by Anna Alpha" in (m.body or "")
        )
        self.assertEqual(len(message), 1)
        self.assertEqual(message.author_id, self.user_a.partner_id)

        # The queued job runs: the reset Job lands on the Kubernetes API.
        Job.load(self.env, deployment.job_uuid).perform()
        self.env.invalidate_all()
        self.assertEqual(deployment.state, "done", deployment.error)
        job_name = f"alpha-int-reset-{deployment.reset_id}"
        self.assertEqual(self.alpha_int.reset_job_name, job_name)
        job = self.kube.get_object("batch/v1", "Job", job_name, "alpha")
        self.assertTrue(job, "the reset Job is on the API server")
        self.assertEqual(
            job["metadata"]["labels"]["mintcloud.io/source-instance"], "alpha"
        )

        # The detail page shows the progress, then the result.
        self.authenticate("portal_a", "portal_a")
        page = self._get(self.alpha_int.access_url).text
        self.assertIn('data-state="running"', page)
        self.assertNotIn("o_kubernetes_app_busy", page)
        self.kube.finish_job(job_name, "alpha", succeeded=True)
        self.env["kubernetes.app"]._cron_refresh_status()
        page = self._get(self.alpha_int.access_url).text
        self.assertIn('data-state="succeeded"', page)
