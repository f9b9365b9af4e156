# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Apps get a Mailgun sending domain and send the customer one invitation.

Creating an app registers its hostname in Mailgun (a job, see
``mailgun.domain``); deleting it deletes the domain.  The first successful
deployment of a production app queues the invitation: sent via Mailgun under
the app's hostname, or through Odoo's outgoing mail server when Mailgun is
disabled.  The chatter says to whom and how, never the password.
"""

import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import html2plaintext

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import identity_exact

from mintcloud.appmail import AppMailError, app_url, sender_address, smtp_variables
from mintcloud.errors import MailgunError, MailgunTransientError

from .mailgun_domain import CHANNEL, MAX_RETRIES

_logger = logging.getLogger(__name__)

INVITATION_TEMPLATE = "mailgun_domain.mail_template_app_invitation"
PASSWORD_VARIABLE = "admin_password"


class KubernetesApp(models.Model):
    _inherit = "kubernetes.app"

    mailgun_domain_ids = fields.One2many(
        "mailgun.domain", "app_id", string="Mailgun Domains", readonly=True
    )
    mailgun_domain_id = fields.Many2one(
        "mailgun.domain",
        string="Mailgun Domain",
        compute="_compute_mailgun_domain_id",
        store=True,
        ondelete="set null",
    )
    mailgun_state = fields.Selection(
        related="mailgun_domain_id.state", string="Mailgun State"
    )
    mailgun_smtp_login = fields.Char(
        related="mailgun_domain_id.smtp_login", string="SMTP Login"
    )
    mailgun_last_error = fields.Text(
        related="mailgun_domain_id.last_error", string="Mailgun Error"
    )
    mailgun_record_ids = fields.One2many(
        related="mailgun_domain_id.record_ids", string="DNS Records"
    )
    mailgun_note = fields.Char(compute="_compute_mailgun_note")
    invitation_sent_at = fields.Datetime(
        string="Invitation Sent On", readonly=True, copy=False
    )

    # ------------------------------------------------------------------
    # Compute
    # ------------------------------------------------------------------

    @api.depends("mailgun_domain_ids")
    def _compute_mailgun_domain_id(self):
        for app in self:
            app.mailgun_domain_id = app.mailgun_domain_ids[:1]

    @api.depends("mailgun_domain_ids")
    def _compute_mailgun_note(self):
        Domain = self.env["mailgun.domain"]
        problem = Domain._config_problem(Domain._config())
        for app in self:
            if app.mailgun_domain_id:
                app.mailgun_note = False
            elif problem:
                app.mailgun_note = _(
                    "%(problem)s The app has no sending domain; its invitation "
                    "goes through Odoo's outgoing mail server.",
                    problem=problem,
                )
            else:
                app.mailgun_note = _(
                    "The app has no Mailgun domain yet: use Register Mailgun domain."
                )

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        apps = super().create(vals_list)
        apps._mailgun_register()
        return apps

    def unlink(self):
        # The domain records enqueue their deletion in Mailgun.
        self.sudo().mailgun_domain_ids.unlink()
        return super().unlink()

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_register_mailgun_domain(self):
        """Register the domain of apps that have none; register the others again."""
        Domain = self.env["mailgun.domain"]
        Domain._check_manager()
        problem = Domain._config_problem(Domain._config())
        if problem:
            raise UserError(problem)
        with_domain = self.filtered("mailgun_domain_ids")
        (self - with_domain)._mailgun_register()
        if with_domain:
            with_domain.mailgun_domain_ids.action_register()
        return Domain._notification(
            _("Registration queued"), _("The domain is registered in the background.")
        )

    def action_verify_mailgun_domain(self):
        domains = self.mailgun_domain_ids
        if not domains:
            raise UserError(_("The app has no Mailgun domain."))
        return domains.action_verify()

    def action_resend_invitation(self):
        """Send the invitation again now (managers)."""
        self.env["mailgun.domain"]._check_manager()
        if any(app.environment != "prod" for app in self):
            raise UserError(_("Only production apps have an invitation."))
        for app in self:
            try:
                app._send_invitation()
            except MailgunError as error:
                raise UserError(
                    _("The invitation could not be sent: %(error)s", error=error)
                ) from None
        return self.env["mailgun.domain"]._notification(
            _("Invitation sent"),
            _("Sent to %(emails)s.", emails=", ".join(self.partner_id.mapped("email"))),
            "success",
        )

    # ------------------------------------------------------------------
    # Mailgun domain
    # ------------------------------------------------------------------

    def _mailgun_register(self):
        """Create a pending domain per app and queue its registration.

        Nothing is queued when Mailgun is disabled or has no API key; without
        a key the apps get a chatter note saying so.
        """
        Domain = self.env["mailgun.domain"].sudo()
        config = Domain._config()
        problem = Domain._config_problem(config)
        if problem:
            if config["enabled"]:
                for app in self:
                    app.message_post(
                        body=_(
                            "No Mailgun domain registered: %(problem)s",
                            problem=problem,
                        )
                    )
            return Domain
        domains = Domain
        for app in self.sudo():
            if not app.hostname or app.mailgun_domain_ids:
                continue
            if Domain.search_count([("name", "=", app.hostname)]):
                app.message_post(
                    body=_(
                        "No Mailgun domain registered: %(name)s belongs to another app.",
                        name=app.hostname,
                    )
                )
                continue
            domains |= Domain.create({"name": app.hostname, "app_id": app.id})
        domains._enqueue_register()
        return domains

    def _mailgun_set_smtp(self, login, password, host):
        """Store the SMTP credentials as variables; apply again if they came late.

        Lines the operator set (source Override) are left alone.
        """
        self.ensure_one()
        app = self.sudo()
        Variable = self.env["kubernetes.app.variable"].sudo()
        for name, value, secret in smtp_variables(login, password, host):
            values = {
                "secret": secret,
                "value": False if secret else value,
                "secret_value": value if secret else False,
                "source": "default",
            }
            line = app.variable_ids.filtered(lambda v, n=name: v.name == n)
            if line.source == "override":
                continue
            if line:
                line.write(values)
            else:
                Variable.create(dict(values, app_id=app.id, name=name))
        app._mailgun_apply_if_deployed()

    def _mailgun_apply_if_deployed(self):
        """Apply again when a deployment already ran without the SMTP settings.

        A queued deployment reads the new variables itself.
        """
        self.ensure_one()
        done = self.deployment_ids.filtered(
            lambda d: d.trigger != "status" and d.state in ("done", "dry_run")
        )
        if not done or self._busy_deployments():
            return
        self._enqueue_deployment("apply")
        self.message_post(
            body=_("The Mailgun SMTP settings are new: the app is applied again.")
        )

    # ------------------------------------------------------------------
    # Invitation
    # ------------------------------------------------------------------

    def _mailgun_deployment_succeeded(self, deployment):
        """Queue the invitation after the first successful production deployment."""
        self.ensure_one()
        if self.environment != "prod" or self.invitation_sent_at:
            return
        self.with_delay(
            channel=CHANNEL,
            identity_key=identity_exact,
            max_retries=MAX_RETRIES,
            description=_("Mailgun: invitation for %(name)s", name=self.name),
        )._job_send_invitation()

    def _job_send_invitation(self):
        """Send the invitation once; wait for a domain being registered."""
        self.ensure_one()
        app = self.sudo()
        if not app.exists() or app.environment != "prod" or app.invitation_sent_at:
            return "Nothing to do: no invitation is due."
        Domain = self.env["mailgun.domain"]
        waiting = app.mailgun_domain_id.state == "pending" and not (
            Domain._config_problem(Domain._config())
        )
        if waiting and not Domain._is_last_attempt():
            raise RetryableJobError(
                "The Mailgun domain is not registered yet.", seconds=60
            )
        try:
            return app._send_invitation()
        except MailgunTransientError as error:
            if not Domain._is_last_attempt():
                raise RetryableJobError(
                    str(error), seconds=error.details.get("retry_after")
                ) from None
            return app._invitation_failed(error)
        except (MailgunError, AppMailError, UserError) as error:
            return app._invitation_failed(error)

    def _invitation_failed(self, error):
        message = _(
            "The invitation could not be sent: %(error)s. Use Resend invitation "
            "once the problem is solved.",
            error=str(error).rstrip("."),
        )
        self.message_post(body=message)
        _logger.info("Invitation of app %s not sent: %s", self.name, error)
        return message

    def _send_invitation(self):
        """Send the invitation now; post who got it and how (never the password).

        Via Mailgun under the app's hostname when Mailgun is enabled and the
        domain is registered; else through Odoo's outgoing mail server.
        Raises the core's MailgunError or AppMailError.
        """
        self.ensure_one()
        app = self.sudo()
        if not app.partner_id.email:
            raise UserError(_("The customer of %(app)s has no email.", app=app.name))
        Domain = self.env["mailgun.domain"]
        config = Domain._config()
        mail = app._render_invitation(config["sender_local_part"])
        problem = Domain._config_problem(config)
        domain = app.mailgun_domain_id
        if not problem and domain.state in ("unverified", "active"):
            Domain._client(config).send_message(
                domain.name,
                mail["sender"],
                mail["to"],
                mail["subject"],
                text=html2plaintext(mail["body"]),
                html=mail["body"],
            )
            note = _(
                "Invitation sent to %(to)s via Mailgun from %(sender)s.",
                to=mail["to"],
                sender=mail["sender"],
            )
        else:
            app._queue_odoo_mail(mail)
            reason = problem or _(
                "the Mailgun domain %(name)s is not usable",
                name=domain.name or app.hostname,
            )
            note = _(
                "Invitation sent to %(to)s through Odoo's outgoing mail server, "
                "not Mailgun: %(reason)s",
                to=mail["to"],
                reason=reason,
            )
        app.invitation_sent_at = fields.Datetime.now()
        app.message_post(body=note)
        _logger.info("Invitation of app %s sent to %s", app.name, mail["to"])
        return note

    def _queue_odoo_mail(self, mail):
        """Queue the mail for Odoo's outgoing server, linked to no record.

        Not linked to the app: its body holds the password and must not show
        in the chatter.  It is deleted once sent.
        """
        return (
            self.env["mail.mail"]
            .sudo()
            .create(
                {
                    "email_from": mail["sender"],
                    "email_to": mail["to"],
                    "subject": mail["subject"],
                    "body_html": mail["body"],
                    "auto_delete": True,
                }
            )
        )

    def _invitation_values(self):
        """What the template shows: URLs, login and the initial password."""
        self.ensure_one()
        app = self.sudo()
        password = app.variable_ids.filtered(lambda v: v.name == PASSWORD_VARIABLE)
        return {
            "production_url": app_url(app.hostname),
            "staging_urls": [
                app_url(i.hostname) for i in app.int_app_ids if i.hostname
            ],
            "login": app.partner_id.email,
            "password": password.secret_value or password.value or "",
        }

    def _render_invitation(self, local_part):
        """``{sender, to, subject, body}`` in the customer's language."""
        self.ensure_one()
        template = self.env.ref(INVITATION_TEMPLATE).sudo()
        context = {"invitation": self._invitation_values()}
        rendered = {
            field: template._render_field(
                field, self.ids, compute_lang=True, add_context=context
            )[self.id]
            for field in ("subject", "body_html")
        }
        return {
            "sender": sender_address(local_part, self.hostname),
            "to": self.partner_id.email,
            "subject": rendered["subject"],
            "body": rendered["body_html"],
        }
