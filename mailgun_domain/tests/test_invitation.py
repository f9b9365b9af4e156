# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The customer's invitation: once, via Mailgun under the app hostname, from
a verified domain only, in the customer's language.  It waits for the
verification and goes out as soon as the domain is active; a refused key
sends nothing anywhere; after the configured wait the operator gets an
activity and may send it through Odoo's outgoing server.  With Mailgun
disabled it goes through Odoo's outgoing server at once."""

import importlib.util
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.modules.module import get_module_path

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.tests.common import trap_jobs

from tests.fakes.smtp_sink import SmtpSink

from .common import API_KEY, MailgunCase


class TestInvitation(MailgunCase):
    def _password(self, app):
        return self._variable(app, "admin_password")

    def _smtp_sink(self):
        """An outgoing mail server pointing at a local SMTP sink; the sink."""
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
        return sink, server

    def _flush_odoo_mail(self, server):
        """Send Odoo's whole mail queue through ``server`` for real."""
        mails = self.env["mail.mail"].search([("state", "=", "outgoing")])
        mails.mail_server_id = server
        IrMailServer = type(self.env["ir.mail_server"])
        with patch.object(IrMailServer, "_is_test_mode", return_value=False):
            mails.send()
        return mails

    def _odoo_mails(self):
        return self.env["mail.mail"].search([("email_to", "=", "customer@example.com")])

    # --- waits for the verification, then goes out at once ---------------------------

    def test_unverified_domain_sends_nothing_anywhere(self):
        prod = self._create("acme")
        self.assertEqual(prod.last_deployment_id.state, "dry_run")
        self.assertEqual(prod.mailgun_state, "unverified")
        self.assertEqual(prod.invitation_state, "waiting")
        self.assertTrue(prod.invitation_due_at)
        self.assertFalse(prod.invitation_sent_at)
        self.assertEqual(self._messages_sent(), [], "Mailgun was not even asked")
        self.assertFalse(self._odoo_mails(), "nothing queued for Odoo's server")
        self.assertEqual(prod.mail_status, "pending_dns")
        self.assertIn("has not verified the domain", prod.invitation_reason)
        self.assertTrue(self._notes(prod, "The invitation waits"))
        # The cron, without DNS, changes nothing.
        with trap_jobs() as trap:
            self.env["mailgun.domain"]._cron_verify()
            trap.assert_jobs_count(0, only=prod._job_send_invitation)
        self.assertEqual(self._messages_sent(), [])

    def test_verification_sends_the_invitation_right_away(self):
        logs = self._capture_logs()
        with trap_jobs() as trap:
            prod = self.env["kubernetes.app"].create(
                self._app_values("acme", cluster_id=self.dry_cluster.id)
            )
            staging = self.env["kubernetes.app"].create(
                {"name": "acme-int", "prod_app_id": prod.id}
            )
            self._perform_all(trap)
        self.assertEqual(self.mailgun.messages, [])
        # The verification itself queues the invitation: no later cron tick.
        self.mailgun.set_domain_active("acme.example.org")
        with trap_jobs() as trap:
            self.env["mailgun.domain"]._cron_verify()
            self.assertEqual(prod.mailgun_state, "active")
            trap.assert_jobs_count(1, only=prod._job_send_invitation)
            trap.perform_enqueued_jobs()
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
        self.assertEqual(prod.invitation_state, "sent")
        self.assertEqual(prod.mail_status, "verified")
        self.assertFalse(prod.invitation_reason)
        self.assertFalse(staging.invitation_sent_at)
        self.assertFalse(staging.invitation_state)
        note = self._notes(prod, "Invitation sent")
        self.assertEqual(len(note), 1)
        self.assertIn("customer@example.com", note.body)
        self.assertIn("via Mailgun", note.body)
        self.assertTrue(self._notes(prod, "Mailgun verified the domain"))
        texts = logs.lines + prod.message_ids.mapped("body")
        texts += staging.message_ids.mapped("body")
        for text in texts:
            self.assertNotIn(password, text)
            self.assertNotIn(API_KEY, text)
        # Later deployments and verifications send nothing more.
        with trap_jobs() as trap:
            prod.action_apply()
            self._perform_all(trap)
            self.env["mailgun.domain"]._cron_verify()
            self._perform_all(trap)
        self.assertEqual(prod.last_deployment_id.trigger, "apply")
        self.assertEqual(len(self.mailgun.messages), 1)

    def test_an_already_active_domain_sends_after_the_first_deployment(self):
        self.mailgun.add_domain("acme.example.org", state="active")
        prod = self._create("acme")
        self.assertEqual(prod.mailgun_state, "active")
        self.assertEqual(len(self.mailgun.messages), 1)
        self.assertEqual(prod.invitation_state, "sent")

    def test_resend_invitation(self):
        prod = self._create("acme")
        with self.assertRaises(UserError) as caught:
            prod.action_resend_invitation()
        self.assertIn("Send via Odoo mail server", str(caught.exception))
        self.assertEqual(self._messages_sent(), [])
        self._verify_now(prod)
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
        notes = self._notes(prod, "Invitation sent")
        self.assertEqual(len(notes), 2)
        self.mailgun.inject_fault(400, path_contains="/messages")
        with self.assertRaises(UserError) as caught:
            prod.action_resend_invitation()
        self.assertIn("could not be sent", str(caught.exception))

    def test_no_invitation_for_int_apps(self):
        prod = self._create("acme")
        staging = self._create_int(prod)
        self.assertEqual(staging.last_deployment_id.state, "dry_run")
        self.assertEqual(staging.mailgun_state, "unverified", "int apps get a domain")
        self._verify_now(staging)
        self.assertEqual(self.mailgun.messages, [])
        self.assertFalse(staging.invitation_sent_at)
        with self.assertRaises(UserError):
            staging.action_resend_invitation()
        with self.assertRaises(UserError):
            staging.action_send_invitation_odoo_mail()

    def test_no_invitation_for_a_failed_deployment(self):
        bad_image = [(0, 0, {"name": "odoo_image", "value": "odoo:17.0 beta"})]
        prod = self._create("acme", variable_ids=bad_image)
        self.assertEqual(prod.last_deployment_id.state, "failed")
        self._verify_now(prod)
        self.assertEqual(self._messages_sent(), [])
        self.assertFalse(prod.invitation_state, "not due before a success")
        # The first successful deployment sends it (the domain is active).
        prod.variable_ids.filtered(lambda v: v.name == "odoo_image").unlink()
        with trap_jobs() as trap:
            prod.action_apply()
            self._perform_all(trap)
        self.assertEqual(prod.last_deployment_id.state, "dry_run")
        self.assertEqual(len(self.mailgun.messages), 1)

    def test_invitation_waits_for_the_registration_then_the_verification(self):
        with trap_jobs() as trap:
            prod = self.env["kubernetes.app"].create(
                self._app_values("acme", cluster_id=self.dry_cluster.id)
            )
            register = trap.enqueued_jobs[-1]
            self.assertEqual(register.method_name, "_job_register")
            trap.enqueued_jobs.remove(register)
            trap.perform_enqueued_jobs()  # the deployment
            invitation = trap.enqueued_jobs[0]
            self.assertEqual(invitation.method_name, "_job_send_invitation")
            invitation.perform()  # waits, no retry: the verification queues it
            self.assertIn("registered", invitation.result)
            self.assertEqual(prod.mail_status, "registering")
            self.mailgun.set_domain_active("acme.example.org")
            self.mailgun.add_domain("acme.example.org", state="active")
            register.perform()  # adopts an active domain: the invitation goes
            self._perform_all(trap)
        self.assertEqual(len(self.mailgun.messages), 1)
        self.assertTrue(prod.invitation_sent_at)

    # --- Mailgun refuses --------------------------------------------------------------

    def test_refused_key_sends_nothing_anywhere_and_fixing_it_sends_once(self):
        sink, server = self._smtp_sink()
        prod = self._create("acme")
        self.mailgun.set_domain_active("acme.example.org")
        with trap_jobs() as trap:
            self.env["mailgun.domain"]._cron_verify()
            # The key is rotated in Mailgun; Odoo still has the old one.
            self.mailgun.api_key = "key-rotated-0123456789"
            self._perform_all(trap)  # the send job: 401, no retry
        self.assertEqual(prod.mailgun_state, "active")
        self.assertEqual(self.mailgun.messages, [])
        self.assertEqual(len(self._messages_sent()), 1, "one attempt, no storm")
        self._flush_odoo_mail(server)
        self.assertEqual(sink.messages, [], "nothing through Odoo's server")
        self.assertFalse(self._odoo_mails())
        self.assertEqual(prod.invitation_state, "waiting")
        self.assertIn("HTTP 401", prod.invitation_reason)
        self.assertEqual(prod.mail_status, "failed")
        self.assertIn("HTTP 401", prod.mailgun_config_error)
        settings = self.env["res.config.settings"].create({})
        self.assertIn("HTTP 401", settings.mailgun_config_error)
        for text in (prod.invitation_reason, settings.mailgun_config_error):
            self.assertNotIn(API_KEY, text)
        # Later runs of the cron do not send it elsewhere either.
        with trap_jobs() as trap:
            self.env["mailgun.domain"]._cron_verify()
            self.env["kubernetes.app"]._cron_invitation_overdue()
            self._perform_all(trap)
        self.assertFalse(self._odoo_mails())
        # The operator saves the new key: the invitation goes out once.
        with trap_jobs() as trap:
            self.env["res.config.settings"].create(
                {"mailgun_api_key": "key-rotated-0123456789"}
            ).execute()
            trap.assert_jobs_count(1, only=prod._job_send_invitation)
            self._perform_all(trap)
        self.assertEqual(len(self.mailgun.messages), 1)
        self.assertEqual(self.mailgun.messages[0]["to"], ["customer@example.com"])
        self.assertEqual(prod.invitation_state, "sent")
        self.assertEqual(prod.mail_status, "verified")
        self.assertFalse(prod.mailgun_config_error)
        self.assertFalse(
            self.env["res.config.settings"].create({}).mailgun_config_error
        )
        self._flush_odoo_mail(server)
        self.assertEqual(sink.messages, [])
        self._set_params(api_key=API_KEY)

    def test_mailguns_403_not_allowed_to_send_is_retried(self):
        prod = self._create("acme")
        self.mailgun.set_domain_active("acme.example.org")
        with trap_jobs() as trap:
            self.env["mailgun.domain"]._cron_verify()
            invitation = trap.enqueued_jobs[0]
            # Mailgun withdraws the domain's sending before the job runs.
            self.mailgun.domains["acme.example.org"]["domain"]["state"] = "unverified"
            with self.assertRaises(RetryableJobError) as caught:
                invitation.perform()
            self.assertIn("not allowed to send", str(caught.exception))
            self.assertEqual(self.mailgun.messages, [])
            self.assertFalse(prod.invitation_sent_at)
            self.assertFalse(self._odoo_mails())
            self.mailgun.domains["acme.example.org"]["domain"]["state"] = "active"
            invitation.perform()
        self.assertEqual(len(self.mailgun.messages), 1)
        self.assertFalse(
            self.env["res.config.settings"].create({}).mailgun_config_error
        )

    def test_rate_limited_send_is_retried(self):
        prod = self._create("acme")
        self.mailgun.set_domain_active("acme.example.org")
        self.mailgun.inject_fault(429, path_contains="/messages")
        with trap_jobs() as trap:
            self.env["mailgun.domain"]._cron_verify()
            invitation = trap.enqueued_jobs[0]
            with self.assertRaises(RetryableJobError) as caught:
                invitation.perform()
            self.assertEqual(caught.exception.seconds, 3)
            self.assertFalse(prod.invitation_sent_at)
            invitation.perform()
        self.assertEqual(len(self.mailgun.messages), 1)

    def test_refused_send_fails_and_tells_the_operator_at_once(self):
        prod = self._create("acme")
        self.mailgun.inject_fault(400, path_contains="/messages")
        self._verify_now(prod)
        self.assertFalse(prod.invitation_sent_at)
        self.assertEqual(prod.invitation_state, "failed")
        self.assertEqual(prod.mail_status, "failed")
        self.assertTrue(self._notes(prod, "could not be sent"))
        self.assertEqual(self.mailgun.messages, [])
        self.assertFalse(self._odoo_mails())
        activity = prod.invitation_activity_id
        self.assertTrue(activity)
        self.assertIn("could not be sent", activity.note)

    # --- the operator's explicit choice after the wait ---------------------------------

    def test_overdue_invitation_gets_an_activity_and_the_operator_may_use_odoo(self):
        sink, server = self._smtp_sink()
        prod = self._create("acme")
        Apps = self.env["kubernetes.app"]
        self.assertFalse(Apps._cron_invitation_overdue(), "not overdue yet")
        prod.invitation_due_at = fields.Datetime.now() - timedelta(hours=25)
        self._set_params(invitation_wait_hours="48")
        self.assertFalse(Apps._cron_invitation_overdue(), "the setting decides")
        self._set_params(invitation_wait_hours="24")
        self.assertEqual(Apps._cron_invitation_overdue(), prod)
        activity = prod.invitation_activity_id
        self.assertEqual(activity.res_id, prod.id)
        self.assertEqual(
            activity.activity_type_id, self.env.ref("mail.mail_activity_data_todo")
        )
        self.assertIn("Invitation not sent", activity.summary)
        self.assertIn("has not verified the domain acme.example.org", activity.note)
        self.assertTrue(activity.user_id)
        self.assertFalse(Apps._cron_invitation_overdue(), "one activity only")
        self.assertFalse(self._odoo_mails(), "the activity sends nothing")
        with self.assertRaises(UserError):
            prod.with_user(self.user).action_send_invitation_odoo_mail()
        prod.with_user(self.manager).action_send_invitation_odoo_mail()
        self.assertEqual(prod.invitation_state, "sent")
        self.assertFalse(activity.exists(), "marked done")
        note = self._notes(prod, "Invitation sent to")
        self.assertEqual(len(note), 1)
        self.assertIn("through Odoo's outgoing mail server", note.body)
        self.assertIn("at the request of", note.body)
        self.assertEqual(self.mailgun.messages, [])
        mail = self._odoo_mails()
        self.assertEqual(len(mail), 1)
        self.assertFalse(mail.model, "not linked to the app's chatter")
        self._flush_odoo_mail(server)
        (received,) = sink.wait_for(1)
        self.assertEqual(received["From"], "noreply@acme.example.org")
        self.assertIn(self._password(prod), received.get_body(("html",)).get_content())
        # The domain turning active later sends nothing more.
        self._verify_now(prod)
        self.assertEqual(self.mailgun.messages, [])

    def test_migration_makes_unsent_invitations_of_deployed_apps_due(self):
        prod = self._create("acme")
        sent = self._create("beta")
        sent.invitation_sent_at = fields.Datetime.now()
        never = self._create(
            "gamma",
            variable_ids=[(0, 0, {"name": "odoo_image", "value": "odoo:17.0 beta"})],
        )
        self.assertEqual(never.last_deployment_id.state, "failed")
        # As before the upgrade: nothing was due.
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE kubernetes_app SET invitation_due_at = NULL, "
            "invitation_state = NULL WHERE id IN %s",
            [tuple((prod | sent | never).ids)],
        )
        self.env.invalidate_all()
        path = get_module_path("mailgun_domain") + (
            "/migrations/17.0.1.1.0/post-migration.py"
        )
        spec = importlib.util.spec_from_file_location("mailgun_post_migration", path)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        migration.migrate(self.env.cr, "17.0.1.0.0")
        self.env.invalidate_all()
        self.assertEqual(prod.invitation_state, "waiting")
        self.assertEqual(prod.invitation_due_at, prod.last_deployment_id.finished_at)
        self.assertFalse(sent.invitation_due_at)
        self.assertFalse(never.invitation_state, "no successful deployment")
        # The verification sends the picked-up invitation.
        self._verify_now(prod)
        self.assertEqual(len(self.mailgun.messages), 1)
        self.assertEqual(prod.invitation_state, "sent")

    def test_invitation_wait_setting_is_validated(self):
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.mailgun_invitation_wait_hours, 24)
        with self.assertRaises(ValidationError):
            self.env["res.config.settings"].create({"mailgun_invitation_wait_hours": 0})

    def test_invitation_in_the_customers_language(self):
        self.env["res.lang"]._activate_lang("de_DE")
        self.env["ir.module.module"]._load_module_terms(
            ["mailgun_domain"], ["de_DE"], overwrite=True
        )
        self.partner.lang = "de_DE"
        prod = self._create("acme")
        self._verify_now(prod)
        message = self.mailgun.messages[0]
        self.assertEqual(message["subject"], "Ihr Odoo acme.example.org ist bereit")
        self.assertIn("Initiales Passwort", message["html"])
        self.assertIn("Ihre Zugangsdaten", message["html"])
        self.partner.lang = "en_US"

    def test_disabled_mailgun_sends_through_odoo_outgoing_server(self):
        self._set_params(enabled="")
        sink, server = self._smtp_sink()
        prod = self._create("acme")
        self.assertEqual(self.mailgun.request_log, [])
        mail = self._odoo_mails()
        self.assertEqual(len(mail), 1)
        self.assertFalse(mail.model, "not linked to the app's chatter")
        self._flush_odoo_mail(server)
        received = sink.wait_for(1)[0]
        self.assertEqual(received["From"], "noreply@acme.example.org")
        self.assertEqual(received.rcpt_tos, ["customer@example.com"])
        self.assertEqual(received["Subject"], "Your Odoo acme.example.org is ready")
        body = received.get_body(("html",)).get_content()
        self.assertIn("https://acme.example.org", body)
        self.assertIn(self._password(prod), body)
        self.assertFalse(mail.exists(), "deleted once sent")
        note = self._notes(prod, "Invitation sent")
        self.assertEqual(len(note), 1)
        self.assertIn("outgoing mail server", note.body)
        self.assertIn("Mailgun is disabled", note.body)
        self.assertNotIn(self._password(prod), note.body)
        self.assertFalse(prod.mail_status, "no sending domain to speak of")
