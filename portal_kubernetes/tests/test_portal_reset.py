# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from .common import PortalKubernetesCase


@tagged("post_install", "-at_install")
class TestPortalReset(PortalKubernetesCase):
    def setUp(self):
        super().setUp()
        self.authenticate("portal_a", "portal_a")

    def _location(self, response):
        self.assertEqual(response.status_code, 303)
        return response.headers["Location"]

    def test_reset_queues_a_reset_deployment_and_notes_it(self):
        before = self._deployments(self.alpha_int)
        location = self._location(self._post_reset(self.alpha_int))
        self.assertTrue(
            location.endswith(f"/my/apps/{self.alpha_int.id}?reset=queued"), location
        )
        deployment = self._deployments(self.alpha_int) - before
        self.assertEqual(deployment.trigger, "reset")
        self.assertEqual(deployment.state, "queued")
        self.assertEqual(self.alpha_int.state, "queued")
        notes = self.alpha_int.message_ids.filtered(
            lambda m: "Reset requested by Anna Alpha" in (m.body or "")
        )
        self.assertEqual(notes.author_id, self.user_a.partner_id)
        page = self._get(location).text
        self.assertIn("o_kubernetes_app_reset_queued", page)
        self.assertIn('data-state="queued"', page)
        # While the reset is queued the button is disabled and the page refreshes.
        self.assertRegex(page, r'<button[^>]*o_kubernetes_app_reset"[^>]*disabled')
        self.assertNotIn('id="o_kubernetes_app_reset_modal"', page)
        self.assertIn("o_kubernetes_app_busy", page)

    def test_second_reset_while_one_is_queued_is_refused(self):
        self._location(self._post_reset(self.alpha_int))
        before = self._deployments(self.alpha_int)
        location = self._location(self._post_reset(self.alpha_int))
        self.assertTrue(location.endswith("?reset_error=busy"), location)
        self.assertEqual(self._deployments(self.alpha_int), before)
        page = self._get(location).text
        self.assertIn("o_kubernetes_app_reset_error", page)
        self.assertIn("queued or running", page)
        with self.assertRaisesRegex(UserError, "queued or running"):
            self.alpha_int._portal_reset(self.user_a)

    def test_reset_of_a_production_app_is_refused(self):
        page = self._get(f"/my/apps/{self.alpha.id}").text
        self.assertIn("Production", page)
        self.assertNotIn("o_kubernetes_app_reset", page)
        before = self._deployments(self.alpha)
        location = self._location(self._post_reset(self.alpha))
        self.assertTrue(location.endswith("?reset_error=production"), location)
        self.assertEqual(self._deployments(self.alpha), before)
        with self.assertRaisesRegex(UserError, "Only the staging app"):
            self.alpha._portal_reset(self.user_a)

    def test_reset_without_reset_manifests_is_refused(self):
        self.alpha_int.reset_manifest_ids = False
        location = self._location(self._post_reset(self.alpha_int))
        self.assertTrue(location.endswith("?reset_error=unavailable"), location)
        page = self._get(location).text
        self.assertRegex(page, r'<button[^>]*o_kubernetes_app_reset"[^>]*disabled')

    def test_post_without_csrf_token_is_rejected(self):
        before = self._deployments(self.alpha_int)
        with self.assertLogs("odoo.http", "WARNING") as logs:
            response = self._post_reset(self.alpha_int, csrf=False)
        self.assertEqual(response.status_code, 400)
        self.assertIn("No CSRF validation token", logs.output[0])
        self.assertEqual(self._deployments(self.alpha_int), before)
        self.assertFalse(self.alpha_int.reset_deployment_id)

    def test_reset_is_a_post(self):
        response = self._get(f"/my/apps/{self.alpha_int.id}/reset")
        self.assertEqual(response.status_code, 405)

    def test_portal_reset_checks_the_user(self):
        with self.assertRaises(AccessError):
            self.alpha_int._portal_reset(self.user_b)
        self.assertFalse(self.alpha_int.reset_deployment_id)
        with trap_jobs() as trap:
            deployment = self.alpha_int._portal_reset(self.user_a)
            trap.assert_jobs_count(1)
        self.assertEqual(deployment, self.alpha_int.reset_deployment_id)
