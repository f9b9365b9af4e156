# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The lifecycle mails of an app go from its Mailgun domain; terminating the
app removes that domain."""

from datetime import date

from odoo.exceptions import UserError

from odoo.addons.queue_job.job import Job
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

    def test_the_step_queues_the_mail_its_job_sends_it(self):
        """The lifecycle step holds the app's lock and may be retried: it
        only queues the mail; its own job calls Mailgun, once."""
        self.mailgun.add_domain("acme.example.org", state="active")
        prod = self._create("acme")
        self.assertEqual(len(self._messages_sent()), 1, "the invitation")
        with trap_jobs() as trap:
            prod._job_lifecycle("suspend", "manual")
            self.assertEqual(prod.lifecycle, "suspended")
            self.assertEqual(len(self._messages_sent()), 1, "nothing sent yet")
            trap.assert_jobs_count(1, only=prod._job_send_customer_mail)
            self._perform_all(trap)
        self.assertEqual(len(self._messages_sent()), 2)
        self.assertEqual(
            self.mailgun.messages[-1]["subject"],
            "Your app acme.example.org is suspended",
        )

    def test_a_notice_rolled_back_sends_nothing(self):
        """A request that fails after the notice (e.g. a subscription write)
        rolls back its job: Mailgun gets nothing; committed, the pending job
        sends it once."""
        self.mailgun.add_domain("acme.example.org", state="active")
        prod = self._create("acme")
        jobs = [
            ("model_name", "=", "kubernetes.app"),
            ("method_name", "=", "_job_send_customer_mail"),
        ]
        due_on = date(2030, 1, 31)
        with self.assertRaises(UserError), self.env.cr.savepoint():
            prod._kubernetes_notice("overdue", due_on)
            raise UserError("the request fails after the notice")
        self.assertEqual(len(self._messages_sent()), 1, "the invitation only")
        self.env.invalidate_all()
        self.assertFalse(self.env["queue.job"].search(jobs))
        self.assertFalse(prod.lifecycle_notice)
        prod._kubernetes_notice("overdue", due_on)
        prod._kubernetes_notice("overdue", due_on)  # the same notice: nothing more
        (record,) = self.env["queue.job"].search(jobs)
        self.assertEqual(record.state, "pending")
        self.assertEqual(len(self._messages_sent()), 1, "the invitation only")
        Job.load(self.env, record.uuid).perform()
        self.assertEqual(len(self._messages_sent()), 2)
        self.assertIn("Please pay your invoice", self.mailgun.messages[-1]["subject"])
        self.assertTrue(self._notes(prod, "sent to customer@example.com via Mailgun"))

    def test_a_mail_mailgun_refuses_goes_through_odoo(self):
        self.mailgun.add_domain("acme.example.org", state="active")
        prod = self._create("acme")
        self.mailgun.inject_fault(400, path_contains="/messages")
        self._suspend(prod)
        self.assertEqual(len(self.mailgun.messages), 1, "the invitation only")
        mails = self.env["mail.mail"].search(
            [("model", "=", "kubernetes.app"), ("res_id", "=", prod.id)]
        )
        self.assertEqual(
            mails.mapped("subject"), ["Your app acme.example.org is suspended"]
        )
        self.assertTrue(self._notes(prod, "Mailgun refused it"))

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
