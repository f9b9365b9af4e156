# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The lifecycle mails of an app go from its Mailgun domain; terminating the
app removes that domain."""

from odoo.addons.queue_job.tests.common import trap_jobs

from .common import MailgunCase


class TestLifecycleMail(MailgunCase):
    def _suspend(self, app):
        with trap_jobs() as trap:
            app.with_user(self.manager).action_suspend()
            self._perform_all(trap)

    def test_suspension_mail_goes_via_mailgun_from_the_apps_domain(self):
        self.mailgun.add_domain("acme.example.org", state="active")
        prod = self._create("acme")
        self.assertEqual(len(self.mailgun.messages), 1, "the invitation")
        self._suspend(prod)
        self.assertEqual(prod.lifecycle, "suspended")
        message = self.mailgun.messages[-1]
        self.assertEqual(message["domain"], "acme.example.org")
        self.assertEqual(message["from"], "noreply@acme.example.org")
        self.assertEqual(message["to"], ["customer@example.com"])
        self.assertEqual(message["subject"], "Your app acme.example.org is suspended")
        self.assertIn("Our team suspended it", message["html"])
        self.assertFalse(
            self.env["mail.mail"].search(
                [("model", "=", "kubernetes.app"), ("res_id", "=", prod.id)]
            ),
            "nothing through Odoo's mail server",
        )
        self.assertTrue(self._notes(prod, "sent to customer@example.com via Mailgun"))

    def test_without_an_active_domain_the_mail_goes_through_odoo(self):
        prod = self._create("acme")  # domain unverified
        before = len(self.mailgun.messages)
        self._suspend(prod)
        self.assertEqual(len(self.mailgun.messages), before)
        mails = self.env["mail.mail"].search(
            [("model", "=", "kubernetes.app"), ("res_id", "=", prod.id)]
        )
        self.assertEqual(
            mails.mapped("subject"), ["Your app acme.example.org is suspended"]
        )

    def test_terminating_the_app_removes_its_mailgun_domain(self):
        prod = self._create("acme")
        self.assertTrue(prod.mailgun_domain_ids)
        with trap_jobs() as trap:
            prod._job_lifecycle("terminate", "manual")  # dry-run cluster: at once
            self.assertFalse(prod.with_context(active_test=False).mailgun_domain_ids)
            self._perform_all(trap)
        self.assertEqual(prod.lifecycle, "terminated")
        self.assertNotIn("acme.example.org", self.mailgun.domains)
