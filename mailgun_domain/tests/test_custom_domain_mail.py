# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""A customer's verified domain becomes the app's sending domain: registered
in Mailgun, its records shown, the app switches once Mailgun verified it,
and back to the host name when the customer stops."""

from odoo.exceptions import UserError

from odoo.addons.queue_job.tests.common import trap_jobs

from .common import MailgunCase

DOMAIN = "erp.customer.com"


class TestCustomDomainMail(MailgunCase):
    def _verified_domain(self, app):
        domain = self.env["kubernetes.app.domain"].create(
            {"app_id": app.id, "name": DOMAIN}
        )
        with trap_jobs() as trap:
            domain.action_mark_verified()
            self._perform_all(trap)
        return domain

    def test_custom_domain_becomes_the_sending_domain_and_back(self):
        app = self._create("acme")
        host_domain = app.mailgun_domain_id
        self.assertEqual(host_domain.name, "acme.example.org")
        domain = self.env["kubernetes.app.domain"].create(
            {"app_id": app.id, "name": DOMAIN}
        )
        # Only a verified domain can send.
        with self.assertRaises(UserError):
            domain._use_for_mail(True)
        self.assertFalse(domain._mail_sender_info()["available"])
        domain = self._verified_domain_of(domain)

        with trap_jobs() as trap:
            domain._use_for_mail(True)
            self._perform_all(trap)
        custom = domain.mailgun_domain_ids
        self.assertEqual((custom.name, custom.state), (DOMAIN, "unverified"))
        self.assertEqual(app.mailgun_domain_id, host_domain, "the host name's stays")
        self.assertIn(DOMAIN, self.mailgun.domains)
        # Not verified by Mailgun yet: the app still sends from its host name.
        self.assertEqual(app._mailgun_sending_domain(), host_domain)
        self.assertEqual(
            self._variable(app, "smtp_user"), "postmaster@acme.example.org"
        )
        info = domain._mail_sender_info()
        self.assertEqual((info["state"], info["sending"]), ("unverified", False))
        self.assertIn(
            ("TXT", DOMAIN, "v=spf1 include:mailgun.org ~all"),
            {(r["type"], r["name"], r["value"]) for r in info["records"]},
        )
        self.assertIn("10 mxa.mailgun.org", [r["value"] for r in info["records"]])

        # The customer published the records: Mailgun verifies, the app switches.
        self.mailgun.set_domain_active(DOMAIN)
        with trap_jobs() as trap:
            self.env["mailgun.domain"]._cron_verify()
            self._perform_all(trap)
        self.assertEqual(custom.state, "active")
        self.assertEqual(app._mailgun_sending_domain(), custom)
        self.assertEqual(self._variable(app, "smtp_user"), f"postmaster@{DOMAIN}")
        self.assertEqual(self._variable(app, "mail_from"), f"noreply@{DOMAIN}")
        password = self._variable(app, "smtp_password")
        self.assertEqual(
            self.mailgun.credentials[DOMAIN][f"postmaster@{DOMAIN}"],
            password,
        )
        self.assertTrue(domain._mail_sender_info()["sending"])
        self.assertEqual(
            app._render_invitation("noreply")["sender"], f"noreply@{DOMAIN}"
        )
        self.assertEqual(app.last_deployment_id.trigger, "apply")

        # Stop: the Mailgun domain goes, the host name sends again.
        with trap_jobs() as trap:
            domain._use_for_mail(False)
            self._perform_all(trap)
        self.assertFalse(custom.exists())
        self.assertNotIn(DOMAIN, self.mailgun.domains)
        self.assertEqual(app._mailgun_sending_domain(), host_domain)
        self.assertEqual(
            self._variable(app, "smtp_user"), "postmaster@acme.example.org"
        )
        self.assertEqual(self._variable(app, "mail_from"), "noreply@acme.example.org")

    def test_a_refused_switch_keeps_the_host_name_and_is_done_with_a_new_key(self):
        """Mailgun verified the customer's domain but refused the switch (a
        revoked key): the app still sends from its host name, and says so;
        saving a working key switches it."""
        app = self._create("acme")
        host_domain = app.mailgun_domain_id
        domain = self._verified_domain(app)
        with trap_jobs() as trap:
            domain._use_for_mail(True)
            self._perform_all(trap)
        custom = domain.mailgun_domain_ids
        self.mailgun.set_domain_active(DOMAIN)
        self.mailgun.inject_fault(401, path_contains="/credentials")
        with trap_jobs() as trap:
            self.env["mailgun.domain"]._cron_verify()
            self._perform_all(trap)
        self.assertEqual(custom.state, "active")
        self.assertFalse(custom.sending_since)
        self.assertEqual(app._mailgun_sending_domain(), host_domain)
        self.assertFalse(domain._mail_sender_info()["sending"])
        self.assertEqual(
            self._variable(app, "smtp_user"), "postmaster@acme.example.org"
        )
        # The operator saves the (working) key again: the switch is done.
        with trap_jobs() as trap:
            self.env["mailgun.domain"]._after_config_change()
            self._perform_all(trap)
        self.assertTrue(custom.sending_since)
        self.assertEqual(app._mailgun_sending_domain(), custom)
        self.assertTrue(domain._mail_sender_info()["sending"])
        self.assertEqual(self._variable(app, "smtp_user"), f"postmaster@{DOMAIN}")
        self.assertEqual(self._variable(app, "mail_from"), f"noreply@{DOMAIN}")

    def test_removing_the_domain_stops_its_mail(self):
        app = self._create("acme")
        domain = self._verified_domain(app)
        with trap_jobs() as trap:
            domain._use_for_mail(True)
            self._perform_all(trap)
        self.assertIn(DOMAIN, self.mailgun.domains)
        with trap_jobs() as trap:
            domain.unlink()
            self._perform_all(trap)
        self.assertNotIn(DOMAIN, self.mailgun.domains)
        self.assertEqual(len(app.mailgun_domain_ids), 1)

    def test_operator_buttons_are_for_managers(self):
        app = self._create("acme")
        domain = self._verified_domain(app)
        with self.assertRaises(UserError):
            domain.with_user(self.user).action_use_for_mail()
        with trap_jobs():
            domain.with_user(self.manager).action_use_for_mail()
        self.assertEqual(domain.mail_state, "pending")

    def _verified_domain_of(self, domain):
        with trap_jobs() as trap:
            domain.action_mark_verified()
            self._perform_all(trap)
        return domain
