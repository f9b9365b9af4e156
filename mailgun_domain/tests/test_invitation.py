# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The customer's invitation: once, via Mailgun under the app hostname, in
the customer's language; through Odoo's outgoing server when Mailgun is off."""

from unittest.mock import patch

from odoo.exceptions import UserError

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.tests.common import trap_jobs

from tests.fakes.smtp_sink import SmtpSink

from .common import API_KEY, MailgunCase


class TestInvitation(MailgunCase):
    def _password(self, app):
        return self._variable(app, "admin_password")

    def test_first_prod_deployment_sends_one_invitation_via_mailgun(self):
        logs = self._capture_logs()
        with trap_jobs() as trap:
            prod = self.env["kubernetes.app"].create(
                self._app_values("acme", cluster_id=self.dry_cluster.id)
            )
            staging = self.env["kubernetes.app"].create(
                {"name": "acme-int", "prod_app_id": prod.id}
            )
            self._perform_all(trap)
        self.assertEqual(prod.last_deployment_id.state, "dry_run")
        self.assertEqual(len(self.mailgun.messages), 1)
        message = self.mailgun.messages[0]
        self.assertEqual(message["domain"], "acme.example.org")
        self.assertEqual(message["from"], "noreply@acme.example.org")
        self.assertEqual(message["to"], ["customer@example.com"])
        self.assertEqual(message["subject"], "Your Odoo acme.example.org is ready")
        password = self._password(prod)
        self.assertTrue(password)
        for body in (message["text"], message["html"]):
            self.assertIn("https://acme.example.org", body)
            self.assertIn("https://acme-int.example.org", body)
            self.assertIn("customer@example.com", body)
            self.assertIn(password, body)
        self.assertTrue(prod.invitation_sent_at)
        self.assertFalse(staging.invitation_sent_at)
        note = prod.message_ids.filtered(lambda m: "Invitation sent" in m.body)
        self.assertEqual(len(note), 1)
        self.assertIn("customer@example.com", note.body)
        self.assertIn("via Mailgun", note.body)
        texts = logs.lines + prod.message_ids.mapped("body")
        texts += staging.message_ids.mapped("body")
        for text in texts:
            self.assertNotIn(password, text)
            self.assertNotIn(API_KEY, text)
        # Later successful deployments send nothing more.
        with trap_jobs() as trap:
            prod.action_apply()
            self._perform_all(trap)
        self.assertEqual(prod.last_deployment_id.trigger, "apply")
        self.assertEqual(len(self.mailgun.messages), 1)

    def test_resend_invitation(self):
        prod = self._create("acme")
        self.assertEqual(len(self.mailgun.messages), 1)
        first = prod.invitation_sent_at
        with self.assertRaises(UserError):
            prod.with_user(self.user).action_resend_invitation()
        action = prod.with_user(self.manager).action_resend_invitation()
        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(len(self.mailgun.messages), 2)
        self.assertEqual(self.mailgun.messages[1]["to"], ["customer@example.com"])
        self.assertIn(self._password(prod), self.mailgun.messages[1]["text"])
        self.assertGreaterEqual(prod.invitation_sent_at, first)
        notes = prod.message_ids.filtered(lambda m: "Invitation sent" in m.body)
        self.assertEqual(len(notes), 2)
        self.mailgun.inject_fault(400, path_contains="/messages")
        with self.assertRaises(UserError) as caught:
            prod.action_resend_invitation()
        self.assertIn("could not be sent", str(caught.exception))

    def test_no_invitation_for_int_apps(self):
        prod = self._create("acme")
        self.assertEqual(len(self.mailgun.messages), 1)
        staging = self._create_int(prod)
        self.assertEqual(staging.last_deployment_id.state, "dry_run")
        self.assertEqual(staging.mailgun_state, "unverified", "int apps get a domain")
        self.assertEqual(len(self.mailgun.messages), 1)
        self.assertFalse(staging.invitation_sent_at)
        with self.assertRaises(UserError):
            staging.action_resend_invitation()

    def test_no_invitation_for_a_failed_deployment(self):
        bad_image = [(0, 0, {"name": "odoo_image", "value": "odoo:17.0 beta"})]
        with trap_jobs() as trap:
            prod = self.env["kubernetes.app"].create(
                self._app_values(
                    "acme", cluster_id=self.dry_cluster.id, variable_ids=bad_image
                )
            )
            self._perform_all(trap)
            trap.assert_jobs_count(0, only=prod._job_send_invitation)
        self.assertEqual(prod.last_deployment_id.state, "failed")
        self.assertEqual(self.mailgun.messages, [])
        self.assertFalse(prod.invitation_sent_at)
        # The first successful deployment sends it.
        prod.variable_ids.filtered(lambda v: v.name == "odoo_image").unlink()
        with trap_jobs() as trap:
            prod.action_apply()
            self._perform_all(trap)
        self.assertEqual(prod.last_deployment_id.state, "dry_run")
        self.assertEqual(len(self.mailgun.messages), 1)

    def test_invitation_waits_for_the_domain_registration(self):
        with trap_jobs() as trap:
            prod = self.env["kubernetes.app"].create(
                self._app_values("acme", cluster_id=self.dry_cluster.id)
            )
            register = trap.enqueued_jobs[-1]
            trap.enqueued_jobs.remove(register)
            trap.perform_enqueued_jobs()  # the deployment
            invitation = trap.enqueued_jobs[0]
            self.assertEqual(invitation.method_name, "_job_send_invitation")
            with self.assertRaises(RetryableJobError):
                invitation.perform()
            register.perform()
            invitation.perform()
        self.assertEqual(len(self.mailgun.messages), 1)
        self.assertTrue(prod.invitation_sent_at)

    def test_rate_limited_send_is_retried(self):
        self.mailgun.inject_fault(429, path_contains="/messages")
        with trap_jobs() as trap:
            prod = self.env["kubernetes.app"].create(
                self._app_values("acme", cluster_id=self.dry_cluster.id)
            )
            trap.perform_enqueued_jobs()
            invitation = trap.enqueued_jobs[0]
            with self.assertRaises(RetryableJobError) as caught:
                invitation.perform()
            self.assertEqual(caught.exception.seconds, 3)
            self.assertFalse(prod.invitation_sent_at)
            invitation.perform()
        self.assertEqual(len(self.mailgun.messages), 1)

    def test_refused_send_is_noted_without_retry(self):
        with trap_jobs() as trap:
            prod = self.env["kubernetes.app"].create(
                self._app_values("acme", cluster_id=self.dry_cluster.id)
            )
            trap.perform_enqueued_jobs()
            self.mailgun.inject_fault(400, path_contains="/messages")
            trap.perform_enqueued_jobs()
        self.assertFalse(prod.invitation_sent_at)
        self.assertIn("could not be sent", prod.message_ids[0].body)
        self.assertEqual(self.mailgun.messages, [])

    def test_invitation_in_the_customers_language(self):
        self.env["res.lang"]._activate_lang("de_DE")
        self.env["ir.module.module"]._load_module_terms(
            ["mailgun_domain"], ["de_DE"], overwrite=True
        )
        self.partner.lang = "de_DE"
        self._create("acme")
        message = self.mailgun.messages[0]
        self.assertEqual(message["subject"], "Ihr Odoo acme.example.org ist bereit")
        self.assertIn("Initiales Passwort", message["html"])
        self.assertIn("Ihre Zugangsdaten", message["html"])
        self.partner.lang = "en_US"

    def test_disabled_mailgun_sends_through_odoo_outgoing_server(self):
        self._set_params(enabled="")
        sink = SmtpSink().start()
        self.addCleanup(sink.stop)
        server = self.env["ir.mail_server"].create(
            {
                "name": "SMTP sink",
                "smtp_host": sink.host,
                "smtp_port": sink.port,
                "smtp_encryption": "none",
            }
        )
        prod = self._create("acme")
        self.assertEqual(self.mailgun.request_log, [])
        mail = self.env["mail.mail"].search([("email_to", "=", "customer@example.com")])
        self.assertEqual(len(mail), 1)
        self.assertFalse(mail.model, "not linked to the app's chatter")
        mail.mail_server_id = server
        IrMailServer = type(self.env["ir.mail_server"])
        with patch.object(IrMailServer, "_is_test_mode", return_value=False):
            mail.send()
        received = sink.wait_for(1)[0]
        self.assertEqual(received["From"], "noreply@acme.example.org")
        self.assertEqual(received.rcpt_tos, ["customer@example.com"])
        self.assertEqual(received["Subject"], "Your Odoo acme.example.org is ready")
        body = received.get_body(("html",)).get_content()
        self.assertIn("https://acme.example.org", body)
        self.assertIn(self._password(prod), body)
        self.assertFalse(mail.exists(), "deleted once sent")
        note = prod.message_ids.filtered(lambda m: "Invitation sent" in m.body)
        self.assertEqual(len(note), 1)
        self.assertIn("outgoing mail server", note.body)
        self.assertIn("Mailgun is disabled", note.body)
        self.assertNotIn(self._password(prod), note.body)
