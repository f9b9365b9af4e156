# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The customer's app page in the portal shows where the app's mail stands.

Runs only where portal_kubernetes is installed too (it is not a dependency).
"""

from odoo import http
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.queue_job.job import Job
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

    def test_customer_sends_the_apps_mail_from_a_verified_own_domain(self):
        """The portal's *Send the app's mail from this domain*: the domain is
        registered in Mailgun by a job, and the page shows the records."""
        if "portal_kubernetes" not in self.env.registry._init_modules:
            self.skipTest("portal_kubernetes is not installed")
        user = new_test_user(self.env, login="mail_owner", groups="base.group_portal")
        manifest = self.env.ref("kubernetes_manifest.manifest_demo_ingress")
        with trap_jobs():  # the app's own deployment and host name: not here
            app = self.env["kubernetes.app"].create(
                {
                    "name": "ownmail",
                    "cluster_id": self.env.ref("kubernetes_app.cluster_demo").id,
                    "partner_id": user.partner_id.id,
                    "manifest_line_ids": [(0, 0, {"manifest_id": manifest.id})],
                }
            )
            domain = self.env["kubernetes.app.domain"].create(
                {"app_id": app.id, "name": "erp.ownmail-customer.com"}
            )
            domain.action_mark_verified()
        self.env.flush_all()
        self.authenticate("mail_owner", "mail_owner")
        page = self.url_open(app.access_url).text
        self.assertIn("o_kubernetes_app_domain_mail_toggle", page)
        self.assertNotIn("erp.ownmail-customer.com", self.mailgun.domains)

        response = self.url_open(
            f"/my/apps/{app.id}/domains/{domain.id}/mail",
            data={"csrf_token": http.Request.csrf_token(self)},
            allow_redirects=False,
        )

        self.assertEqual(response.status_code, 303)
        self.assertIn("domain_done=mail", response.headers["Location"])
        self.assertNotIn(
            "erp.ownmail-customer.com", self.mailgun.domains, "not in the request"
        )
        registrations = self.env["queue.job"].search(
            [("method_name", "=", "_job_register"), ("state", "=", "pending")]
        )
        self.assertTrue(registrations)
        for record in registrations:
            Job.load(self.env, record.uuid).perform()
        self.env.invalidate_all()
        self.assertIn("erp.ownmail-customer.com", self.mailgun.domains)
        self.assertEqual(domain.mail_state, "unverified")
        page = self.url_open(app.access_url).text
        self.assertIn("o_kubernetes_app_domain_mail_record", page)
        self.assertIn("Waiting for DNS", page)
