# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Domain per app against the fake Mailgun API: register, adopt, retry,
configuration errors, verification, SMTP variables, deletion."""

import base64

from odoo.exceptions import UserError

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.tests.common import trap_jobs

from mintcloud.render import render_manifests, render_text

from .common import API_KEY, MailgunCase


class TestMailgunDomain(MailgunCase):
    def test_create_registers_the_hostname_with_its_dns_records(self):
        with trap_jobs() as trap:
            app = self.env["kubernetes.app"].create(
                self._app_values("acme", cluster_id=self.dry_cluster.id)
            )
            trap.assert_jobs_count(1, only=app.mailgun_domain_id._job_register)
            self.assertEqual(app.mailgun_state, "pending")
            self._perform_all(trap)
        domain = app.mailgun_domain_id
        self.assertEqual(domain.name, "acme.example.org")
        self.assertEqual(app.hostname, domain.name)
        self.assertEqual(list(self.mailgun.domains), ["acme.example.org"])
        self.assertEqual(domain.state, "unverified")
        self.assertFalse(domain.adopted)
        self.assertEqual(domain.smtp_login, "postmaster@acme.example.org")
        rows = sorted(
            (r.purpose, r.record_type, r.name, r.value, r.priority, r.valid)
            for r in domain.record_ids
        )
        self.assertEqual(len(rows), 5)
        self.assertIn(
            ("receiving", "MX", "acme.example.org", "mxa.mailgun.org", 10, "unknown"),
            rows,
        )
        self.assertIn(
            (
                "sending",
                "TXT",
                "acme.example.org",
                "v=spf1 include:mailgun.org ~all",
                0,
                "unknown",
            ),
            rows,
        )
        self.assertIn(
            ("sending", "CNAME", "email.acme.example.org", "mailgun.org", 0, "unknown"),
            rows,
        )
        self.assertEqual(app.mailgun_record_ids, domain.record_ids)
        self.assertTrue(self._notes(app, "acme.example.org created"))

    def test_existing_domain_is_adopted_not_duplicated(self):
        self.mailgun.add_domain("acme.example.org", smtp_password="old-password")
        app = self._create("acme")
        domain = app.mailgun_domain_id
        self.assertEqual(domain.state, "unverified")
        self.assertTrue(domain.adopted)
        self.assertEqual(list(self.mailgun.domains), ["acme.example.org"])
        # Documented endpoints only: read the domain, set the password.
        self.assertEqual(
            [(r["method"], r["path"]) for r in self.mailgun.request_log],
            [
                ("GET", "/v4/domains/acme.example.org"),
                (
                    "PUT",
                    "/v3/domains/acme.example.org/credentials/"
                    "postmaster@acme.example.org",
                ),
            ],
        )
        # The SMTP password was reset to the one the app got.
        password = self._variable(app, "mailgun_smtp_password")
        self.assertNotEqual(password, "old-password")
        self.assertEqual(
            self.mailgun.credentials["acme.example.org"]["postmaster@acme.example.org"],
            password,
        )
        self.assertTrue(self._notes(app, "acme.example.org adopted"))

    def test_existing_domain_without_credentials_gets_them_created(self):
        self.mailgun.add_domain("acme.example.org")  # no SMTP credentials yet
        app = self._create("acme")
        self.assertTrue(app.mailgun_domain_id.adopted)
        self.assertEqual(
            [(r["method"], r["path"]) for r in self.mailgun.request_log],
            [
                ("GET", "/v4/domains/acme.example.org"),
                (
                    "PUT",
                    "/v3/domains/acme.example.org/credentials/"
                    "postmaster@acme.example.org",
                ),
                ("POST", "/v3/domains/acme.example.org/credentials"),
            ],
        )
        self.assertEqual(
            self.mailgun.credentials["acme.example.org"]["postmaster@acme.example.org"],
            self._variable(app, "mailgun_smtp_password"),
        )

    def test_adoption_never_reads_the_wording_of_a_400(self):
        # The domain appears between our GET and our create, whose 400 says
        # nothing: the GET after it decides, not the wording.
        self.mailgun.add_domain("acme.example.org", smtp_password="old-password")
        self.mailgun.inject_fault(
            404, path_contains="/v4/domains/acme.example.org", method="GET"
        )
        self.mailgun.inject_fault(
            400, path_contains="/v4/domains", method="POST", body={"message": "?"}
        )
        app = self._create("acme")
        domain = app.mailgun_domain_id
        self.assertEqual(domain.state, "unverified", domain.last_error)
        self.assertTrue(domain.adopted, "the GET after the refused create decides")
        methods = [(r["method"], r["path"]) for r in self.mailgun.request_log]
        self.assertEqual(
            methods[:3],
            [
                ("GET", "/v4/domains/acme.example.org"),
                ("POST", "/v4/domains"),
                ("GET", "/v4/domains/acme.example.org"),
            ],
        )
        self.assertNotIn(("POST", "/v3/domains/acme.example.org/credentials"), methods)

    def test_rate_limit_and_server_errors_are_retried_then_succeed(self):
        self.mailgun.inject_fault(429, times=1, path_contains="/domains")
        with trap_jobs() as trap:
            app = self.env["kubernetes.app"].create(
                self._app_values("acme", cluster_id=self.dry_cluster.id)
            )
            job = trap.enqueued_jobs[-1]
            self.assertEqual(job.method_name, "_job_register")
            with self.assertRaises(RetryableJobError) as caught:
                job.perform()
            self.assertEqual(caught.exception.seconds, 3, "Retry-After is honoured")
            self.assertIn("429", str(caught.exception))
            self.assertEqual(app.mailgun_state, "pending")
            self.mailgun.inject_fault(503, times=1, path_contains="/domains")
            with self.assertRaises(RetryableJobError) as caught:
                job.perform()
            self.assertIsNone(caught.exception.seconds, "the retry pattern decides")
            job.perform()
        self.assertEqual(app.mailgun_state, "unverified")
        self.assertEqual(list(self.mailgun.domains), ["acme.example.org"])

    def test_refused_key_is_a_configuration_error_without_retries(self):
        self.mailgun.api_key = "key-another-account"
        with trap_jobs() as trap:
            app = self.env["kubernetes.app"].create(
                self._app_values("acme", cluster_id=self.dry_cluster.id)
            )
            # The registration (no RetryableJobError: the job is done) and
            # the deployment.
            trap.perform_enqueued_jobs()
        self.assertEqual(len(self.mailgun.request_log), 1, "one request, no storm")
        domain = app.mailgun_domain_id
        self.assertEqual(domain.state, "failed")
        self.assertIn("HTTP 401", domain.last_error)
        self.assertIn("Check the Mailgun API key", domain.last_error)
        self.assertEqual(app.mailgun_last_error, domain.last_error)
        self.assertTrue(self._notes(app, "Check the Mailgun API key"))
        settings = self.env["res.config.settings"].create({})
        self.assertIn("HTTP 401", settings.mailgun_config_error)
        for text in (domain.last_error, settings.mailgun_config_error):
            self.assertNotIn(API_KEY, text)
        self.assertFalse(app.sudo().variable_ids.filtered(lambda v: "smtp" in v.name))
        self.assertEqual(app.mail_status, "failed")
        # Fixed key: Register again succeeds and clears the settings error.
        self.mailgun.api_key = API_KEY
        with trap_jobs() as trap:
            app.action_register_mailgun_domain()
            self._perform_all(trap)
        self.assertEqual(domain.state, "unverified")
        self.assertFalse(domain.last_error)
        self.assertFalse(
            self.env["res.config.settings"].create({}).mailgun_config_error
        )

    def test_saving_a_new_key_registers_what_the_old_one_failed(self):
        self.mailgun.api_key = "key-another-account"
        app = self._create("acme")
        other = self._create("beta")
        self.assertEqual(app.mailgun_state, "failed")
        self.assertTrue(app.mailgun_domain_id.config_failed)
        # A domain failed for another reason is left to the operator.
        other.mailgun_domain_id.write({"config_failed": False})
        with trap_jobs() as trap:
            self.env["res.config.settings"].create(
                {"mailgun_api_key": "key-another-account"}
            ).execute()
            self._perform_all(trap)
        self.assertEqual(app.mailgun_state, "unverified")
        self.assertFalse(app.mailgun_domain_id.config_failed)
        self.assertEqual(other.mailgun_state, "failed")
        self._set_params(api_key=API_KEY)

    def test_test_connection_button_reports_the_key(self):
        settings = self.env["res.config.settings"].create({})
        action = settings.action_mailgun_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        self.mailgun.api_key = "key-another-account"
        action = settings.action_mailgun_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertNotIn(API_KEY, action["params"]["message"])
        self.assertTrue(self.env["res.config.settings"].create({}).mailgun_config_error)

    def test_verify_cron_flips_the_state(self):
        app = self._create("acme")
        domain = app.mailgun_domain_id
        cron = self.env.ref("mailgun_domain.ir_cron_mailgun_domain_verify")
        cron.method_direct_trigger()
        self.assertEqual(domain.state, "unverified")
        self.assertEqual(set(domain.record_ids.mapped("valid")), {"invalid"})
        self.mailgun.set_domain_active("acme.example.org")
        cron.method_direct_trigger()
        self.assertEqual(domain.state, "active")
        self.assertEqual(set(domain.record_ids.mapped("valid")), {"valid"})
        self.assertEqual(len(domain.record_ids), 5)
        verifies = [
            r for r in self.mailgun.request_log if r["path"].endswith("/verify")
        ]
        self.assertEqual(len(verifies), 2)
        # Active domains are not asked again.
        cron.method_direct_trigger()
        verifies = [
            r for r in self.mailgun.request_log if r["path"].endswith("/verify")
        ]
        self.assertEqual(len(verifies), 2)

    def test_check_dns_button_and_refused_key(self):
        """*Verify now* queues the check: no Mailgun call in the request."""
        app = self._create("acme")
        self.mailgun.set_domain_active("acme.example.org")
        asked = len(self.mailgun.request_log)
        with trap_jobs() as trap:
            action = app.action_verify_mailgun_domain()
            self.assertEqual(len(self.mailgun.request_log), asked)
            self.assertEqual(action["params"]["title"], "Verification queued")
            trap.assert_jobs_count(1, only=app.mailgun_domain_id._job_verify)
            self._perform_all(trap)
        self.assertEqual(app.mailgun_state, "active")
        self.mailgun.api_key = "key-another-account"
        with trap_jobs() as trap:
            app.action_verify_mailgun_domain()
            self._perform_all(trap)
        error = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("mailgun_domain.config_error")
        )
        self.assertIn("HTTP 401", error)
        self.assertEqual(app.mailgun_state, "active", "a refused key changes no state")
        # A disabled Mailgun is refused at once, with the reason.
        self._set_params(enabled="")
        with self.assertRaises(UserError) as caught:
            app.action_verify_mailgun_domain()
        self.assertIn("disabled", str(caught.exception))

    def test_smtp_credentials_are_secret_variables_used_by_the_manifests(self):
        logs = self._capture_logs()
        # The connected cluster: the Secret really reaches the (fake) API.
        app = self._create("acme", cluster=self.cluster)
        login = "postmaster@acme.mint-cloud.ch"
        password = self.mailgun.credentials["acme.mint-cloud.ch"][login]
        lines = {v.name: v for v in app.sudo().variable_ids}
        for name in ("mailgun_smtp_password", "smtp_password"):
            self.assertTrue(lines[name].secret)
            self.assertEqual(lines[name].secret_value, password)
            self.assertFalse(lines[name].value)
        for name, value in (
            ("mailgun_smtp_login", login),
            ("smtp_user", login),
            ("smtp_host", "smtp.mailgun.org"),
            ("smtp_port", "587"),
        ):
            self.assertEqual(lines[name].value, value)
            self.assertEqual(lines[name].source, "default")
        variables = app._get_variables()
        self.assertIn(password, variables.secret_values())
        # Registered before the first deployment ran: it used the settings.
        self.assertEqual(len(app.deployment_ids), 1)
        deployment = app.last_deployment_id
        self.assertEqual(deployment.state, "done", deployment.error)
        secret = self.kube.get_object("v1", "Secret", "acme-secrets", "acme")
        conf = base64.b64decode(secret["data"]["odoo.conf"]).decode()
        self.assertIn("smtp_server = smtp.mailgun.org", conf)
        self.assertIn("smtp_port = 587", conf)
        # The deployment keeps a redacted copy only (a Secret is masked whole).
        self.assertIn("odoo.conf: '********'", deployment.rendered)
        self.assertNotIn(password, deployment.rendered)
        # Rendering the app's manifests with its variables (the core).
        templates = [(m.name, m._get_template_text()) for m in app._get_manifests()]
        docs = render_manifests(templates, variables)
        rendered = next(d for d in docs if d["kind"] == "Secret")
        self.assertIn(
            "smtp_server = smtp.mailgun.org", rendered["stringData"]["odoo.conf"]
        )
        conf_lines = render_text(
            "smtp_user = {{ smtp_user }}\nsmtp_password = {{ smtp_password }}\n",
            variables,
        )
        self.assertEqual(
            conf_lines, f"smtp_user = {login}\nsmtp_password = {password}\n"
        )
        # Never in the logs, the chatter or the domain's messages.
        texts = logs.lines + app.message_ids.mapped("body")
        texts += [app.mailgun_domain_id.last_error or ""]
        self.assertTrue(any("acme.mint-cloud.ch" in text for text in logs.lines))
        for text in texts:
            self.assertNotIn(password, text)
            self.assertNotIn(API_KEY, text)

    def test_operator_override_is_kept(self):
        app = self._create(
            "acme",
            variable_ids=[(0, 0, {"name": "smtp_host", "value": "mail.example.net"})],
        )
        self.assertEqual(self._variable(app, "smtp_host"), "mail.example.net")
        self.assertTrue(self._variable(app, "smtp_password"))

    def test_late_registration_applies_the_app_again(self):
        with trap_jobs() as trap:
            app = self.env["kubernetes.app"].create(
                self._app_values("acme", cluster_id=self.dry_cluster.id)
            )
            register = [
                j for j in trap.enqueued_jobs if j.method_name == "_job_register"
            ]
            deploy = [j for j in trap.enqueued_jobs if j.method_name == "_job_run"]
            deploy[0].perform()
            self.assertEqual(app.last_deployment_id.state, "dry_run")
            trap.enqueued_jobs[:] = [j for j in trap.enqueued_jobs if j not in deploy]
            register[0].perform()
            again = app.last_deployment_id
            self.assertEqual(again.trigger, "apply")
            self.assertEqual(again.state, "queued")
            self._perform_all(trap)
        self.assertEqual(again.state, "dry_run")
        self.assertTrue(self._notes(app, "SMTP settings are new"))
        # A deployment queued before the registration needs no second one.
        with trap_jobs() as trap:
            other = self.env["kubernetes.app"].create(
                self._app_values("beta", cluster_id=self.dry_cluster.id)
            )
            register = [
                j for j in trap.enqueued_jobs if j.method_name == "_job_register"
            ]
            register[0].perform()
            self._perform_all(trap)
        self.assertEqual(len(other.deployment_ids), 1)

    def test_disabled_or_without_key_nothing_is_queued(self):
        self._set_params(enabled="")
        with trap_jobs() as trap:
            app = self.env["kubernetes.app"].create(
                self._app_values("acme", cluster_id=self.dry_cluster.id)
            )
            trap.assert_jobs_count(1)  # the deployment only
        self.assertFalse(app.mailgun_domain_ids)
        self.assertIn("Mailgun is disabled", app.mailgun_note)
        with self.assertRaises(UserError):
            app.action_register_mailgun_domain()
        self._set_params(enabled="True", api_key="")
        with trap_jobs() as trap:
            other = self.env["kubernetes.app"].create(
                self._app_values("beta", cluster_id=self.dry_cluster.id)
            )
            trap.assert_jobs_count(1)
        self.assertFalse(other.mailgun_domain_ids)
        self.assertTrue(self._notes(other, "No Mailgun API key is configured"))
        self.assertIn("No Mailgun API key", other.mailgun_note)
        self.assertEqual(self.mailgun.request_log, [])

    def test_register_button_for_an_app_created_while_disabled(self):
        self._set_params(enabled="")
        app = self._create("acme")
        self._set_params(enabled="True")
        with self.assertRaises(UserError):
            app.with_user(self.user).action_register_mailgun_domain()
        with trap_jobs() as trap:
            app.with_user(self.manager).action_register_mailgun_domain()
            self._perform_all(trap)
        self.assertEqual(app.mailgun_state, "unverified")
        self.assertIn("acme.example.org", self.mailgun.domains)

    def test_deleting_the_app_deletes_the_domain(self):
        app = self._create("acme")
        other = self._create("beta")
        self.assertEqual(len(self.mailgun.domains), 2)
        with trap_jobs() as trap:
            app.unlink()
            trap.assert_jobs_count(1)
            self._perform_all(trap)
        self.assertEqual(list(self.mailgun.domains), ["beta.example.org"])
        self.assertFalse(
            self.env["mailgun.domain"].search([("name", "=", "acme.example.org")])
        )
        self.assertTrue(other.mailgun_domain_id.exists())

    def test_failed_deletion_does_not_block_and_logs_no_key(self):
        app = self._create("acme")
        self.mailgun.api_key = "key-another-account"
        logs = self._capture_logs()
        with trap_jobs() as trap:
            app.unlink()
            self._perform_all(trap)
        self.assertFalse(app.exists())
        self.assertIn("acme.example.org", self.mailgun.domains, "kept in Mailgun")
        warning = [line for line in logs.lines if "not deleted" in line]
        self.assertEqual(len(warning), 1)
        self.assertIn("HTTP 401", warning[0])
        for line in logs.lines:
            self.assertNotIn(API_KEY, line)

    def test_deletion_job_keeps_a_domain_that_an_app_uses_again(self):
        app = self._create("acme")
        with trap_jobs() as trap:
            app.unlink()
            delete = trap.enqueued_jobs[0]
            self._create("acme")  # same name again, before the job ran
            delete.perform()
        self.assertIn("acme.example.org", self.mailgun.domains)
        self.assertIn("Kept", delete.result)
