# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Suspended and terminated apps in the portal: state, reason, pay link, no Reset."""

from unittest.mock import patch

from odoo.tests import tagged

from .common import PortalKubernetesCase

PAY_URL = "/my/invoices/4242?access_token=t0k3n"
APP_MODEL = "odoo.addons.kubernetes_app.models.kubernetes_app.KubernetesApp"


@tagged("post_install", "-at_install")
class TestPortalLifecycle(PortalKubernetesCase):
    def _suspend(self, apps, reason="overdue"):
        apps.sudo().write(
            {"lifecycle": "suspended", "lifecycle_reason": reason, "state": "suspended"}
        )

    def test_customer_sees_the_suspended_app_and_the_pay_link(self):
        self._suspend(self.alpha | self.alpha_int)
        with patch(f"{APP_MODEL}._kubernetes_pay_url", return_value=PAY_URL):
            self.start_tour(
                "/web/login?redirect=/my/apps", "portal_kubernetes_suspended"
            )

    def test_reset_is_refused_for_a_suspended_app(self):
        self._suspend(self.alpha | self.alpha_int, reason="closed")
        self.authenticate("portal_a", "portal_a")
        page = self._get(self.alpha_int.access_url).text
        self.assertIn("o_kubernetes_app_suspended", page)
        self.assertIn("reopen it with us", page)
        self.assertIn("it can be reset again once it runs", page)
        self.assertNotIn("o_kubernetes_app_pay", page)
        before = self._deployments(self.alpha_int)
        response = self._post_reset(self.alpha_int)
        self.assertEqual(response.status_code, 303)
        self.assertIn("reset_error=suspended", response.headers["Location"])
        self.assertEqual(self._deployments(self.alpha_int), before, "nothing queued")

    def test_a_terminated_app_stays_visible_to_its_customer_only(self):
        self.alpha_int.sudo().write(
            {
                "lifecycle": "terminated",
                "lifecycle_reason": "closed",
                "state": "terminated",
                "active": False,
            }
        )
        self.authenticate("portal_a", "portal_a")
        listing = self._get("/my/apps").text
        self.assertIn('data-app-name="alpha-int"', listing)
        page = self._get(self.alpha_int.access_url).text
        self.assertIn("o_kubernetes_app_terminated", page)
        self.assertIn("This app is terminated: it cannot be reset.", page)
        self.authenticate("portal_b", "portal_b")
        self.assertEqual(self._get(self.alpha_int.access_url).status_code, 404)
        self.assertNotIn("alpha-int", self._get("/my/apps").text)
