# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The customer's app page in the portal shows where the app's mail stands.

Runs only where portal_kubernetes is installed too (it is not a dependency).
"""

from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from tests.fakes.mailgun_api import FakeMailgunServer

from .common import API_KEY


@tagged("post_install", "-at_install")
class TestPortalShowsDomainState(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mailgun = FakeMailgunServer(api_key=API_KEY).start()
        cls.addClassCleanup(cls.mailgun.stop)
        params = cls.env["ir.config_parameter"].sudo()
        for key, value in dict(
            enabled="True", api_key=API_KEY, base_url=cls.mailgun.url, region="us"
        ).items():
            params.set_param(f"mailgun_domain.{key}", value)

    def test_portal_app_page_shows_the_mailgun_domain_state(self):
        if "portal_kubernetes" not in self.env.registry._init_modules:
            self.skipTest("portal_kubernetes is not installed")
        user = new_test_user(self.env, login="mail_portal", groups="base.group_portal")
        manifest = self.env.ref("kubernetes_manifest.manifest_demo_ingress")
        with trap_jobs() as trap:
            app = self.env["kubernetes.app"].create(
                {
                    "name": "mailshop",
                    "cluster_id": self.env.ref("kubernetes_app.cluster_demo").id,
                    "partner_id": user.partner_id.id,
                    "manifest_line_ids": [(0, 0, {"manifest_id": manifest.id})],
                }
            )
            register = [
                j for j in trap.enqueued_jobs if j.method_name == "_job_register"
            ]
            register[0].perform()
        self.assertEqual(app.mailgun_state, "unverified")
        self.authenticate("mail_portal", "mail_portal")

        response = self.url_open(f"/my/apps/{app.id}", allow_redirects=False)

        self.assertEqual(response.status_code, 200)
        self.assertIn("Sender domain", response.text)
        self.assertIn("Waiting for DNS", response.text)
        self.assertEqual(app.mail_status, "pending_dns")
