# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Apps get a Mailgun sending domain and send the customer one invitation.

Creating an app registers its hostname in Mailgun (a job, see
``mailgun.domain``); deleting it deletes the domain.  On a cluster that
publishes Mailgun DNS records, the domain's records are the built-in
variable ``mailgun_dns_records`` that a manifest renders into external-dns
``DNSEndpoint`` objects.

The first successful deployment of a production app makes its invitation
due.  It is sent via Mailgun under the app's hostname, only from a verified
(active) domain: it waits until Mailgun verifies the domain and goes out as
soon as it does.  Nothing else sends it while Mailgun is enabled: a refused
key (401/403) keeps it waiting, shown on the app and in the settings, and
saving a working key sends it.  After a configurable wait (24 hours by
default) the operator gets an activity with the reason; only their explicit
*Send via Odoo mail server* sends it through Odoo's outgoing mail server.
With Mailgun disabled it goes through Odoo's outgoing mail server at once.
The chatter says to whom and how, never the password.
"""

import logging
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import html2plaintext

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import identity_exact

from mintcloud.appmail import AppMailError, app_url, sender_address, smtp_variables
from mintcloud.errors import MailgunAuthError, MailgunError, MailgunTransientError

from .mailgun_domain import CHANNEL, MANAGER_GROUP, MAX_RETRIES, PARAM

_logger = logging.getLogger(__name__)

INVITATION_TEMPLATE = "mailgun_domain.mail_template_app_invitation"
PASSWORD_VARIABLE = "admin_password"
DNS_VARIABLE = "mailgun_dns_records"
DEFAULT_INVITATION_WAIT_HOURS = 24
MAIL_STATUSES = [
    ("registering", "Registering"),
    ("pending_dns", "Waiting for DNS"),
    ("verified", "Verified"),
    ("failed", "Failed"),
]
INVITATION_STATES = [
    ("waiting", "Waiting"),
    ("sent", "Sent"),
    ("failed", "Failed"),
]
#: Deployment object actions that leave the object on the cluster.
APPLIED = ("created", "configured", "unchanged")


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
    mailgun_publish_dns = fields.Boolean(
        related="cluster_id.mailgun_publish_dns", string="Cluster Publishes DNS"
    )
    mailgun_note = fields.Char(compute="_compute_mailgun_note")
    mailgun_config_error = fields.Char(
        string="Mailgun Settings Error", compute="_compute_mail_status"
    )
    mail_status = fields.Selection(
        MAIL_STATUSES,
        string="Mail",
        compute="_compute_mail_status",
        help="Where the app's sending domain stands: registering in Mailgun, "
        "waiting for its DNS records to be verified, verified, or failed.",
    )
    invitation_due_at = fields.Datetime(
        string="Invitation Due Since",
        readonly=True,
        copy=False,
        help="The first successful deployment of the production app.",
    )
    invitation_sent_at = fields.Datetime(
        string="Invitation Sent On", readonly=True, copy=False
    )
    invitation_failed = fields.Boolean(readonly=True, copy=False)
    invitation_state = fields.Selection(
        INVITATION_STATES,
        compute="_compute_invitation_state",
        store=True,
        string="Invitation",
    )
    invitation_error = fields.Text(
        readonly=True,
        copy=False,
        help="Why the last attempt to send the invitation did not send it.",
    )
    invitation_reason = fields.Char(
        string="Invitation Waits Because", compute="_compute_invitation_reason"
    )
    invitation_reminded_at = fields.Datetime(
        string="Operator Reminded On", readonly=True, copy=False
    )
    invitation_activity_id = fields.Many2one(
        "mail.activity", readonly=True, copy=False, ondelete="set null"
    )

    # ------------------------------------------------------------------
    # Compute
    # ------------------------------------------------------------------

    @api.depends("mailgun_domain_ids", "mailgun_domain_ids.custom_domain_id")
    def _compute_mailgun_domain_id(self):
        """The domain of the app's host name (a customer's domain the app may
        send from is another one, see _mailgun_sending_domain)."""
        for app in self:
            app.mailgun_domain_id = app.mailgun_domain_ids.filtered(
                lambda d: not d.custom_domain_id
            )[:1]

    @api.depends("mailgun_domain_ids")
    def _compute_mailgun_note(self):
        Domain = self.env["mailgun.domain"]
        config = Domain._config()
        problem = Domain._config_problem(config)
        for app in self:
            if app.mailgun_domain_id:
                app.mailgun_note = False
            elif not config["enabled"]:
                app.mailgun_note = _(
                    "%(problem)s The app has no sending domain; its invitation "
                    "goes through Odoo's outgoing mail server.",
                    problem=problem,
                )
            elif problem:
                app.mailgun_note = _(
                    "%(problem)s The app has no sending domain yet; its "
                    "invitation waits for one.",
                    problem=problem,
                )
            else:
                app.mailgun_note = _(
                    "The app has no Mailgun domain yet: use Register Mailgun domain."
                )

    @api.depends("mailgun_domain_id.state", "invitation_state", "invitation_sent_at")
    def _compute_mail_status(self):
        Domain = self.env["mailgun.domain"]
        config = Domain._config()
        config_error = (
            config["enabled"]
            and self.env["ir.config_parameter"].sudo().get_param(PARAM % "config_error")
        ) or False
        for app in self:
            domain = app.mailgun_domain_id
            blocked = bool(config_error) and (
                domain.state != "active" or app.invitation_state == "waiting"
            )
            app.mailgun_config_error = config_error if blocked else False
            if blocked or domain.state == "failed" or app.invitation_failed:
                app.mail_status = "failed"
            else:
                app.mail_status = {
                    "pending": "registering",
                    "unverified": "pending_dns",
                    "active": "verified",
                }.get(domain.state, False)

    @api.depends("invitation_due_at", "invitation_sent_at", "invitation_failed")
    def _compute_invitation_state(self):
        for app in self:
            if app.invitation_sent_at:
                app.invitation_state = "sent"
            elif app.invitation_failed:
                app.invitation_state = "failed"
            elif app.invitation_due_at:
                app.invitation_state = "waiting"
            else:
                app.invitation_state = False

    @api.depends(
        "invitation_state",
        "invitation_error",
        "mailgun_domain_id.state",
        "mailgun_domain_id.last_error",
    )
    def _compute_invitation_reason(self):
        for app in self:
            if app.invitation_state in ("waiting", "failed"):
                app.invitation_reason = app._invitation_wait_reason()
            else:
                app.invitation_reason = False

    @api.depends(
        "mailgun_domain_ids.record_ids.value", "cluster_id.mailgun_publish_dns"
    )
    def _compute_builtin_variables_yaml(self):
        return super()._compute_builtin_variables_yaml()

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
        """Send the invitation now via Mailgun (managers); no other way.

        With Mailgun disabled it goes through Odoo's outgoing mail server.
        """
        self._invitation_check_manager()
        for app in self:
            try:
                app._send_invitation()
            except MailgunAuthError as error:
                self.env["mailgun.domain"]._set_config_error(str(error))
                raise UserError(
                    _("The invitation could not be sent: %(error)s", error=error)
                ) from None
            except MailgunError as error:
                raise UserError(
                    _("The invitation could not be sent: %(error)s", error=error)
                ) from None
        return self.env["mailgun.domain"]._notification(
            _("Invitation sent"),
            _("Sent to %(emails)s.", emails=", ".join(self.partner_id.mapped("email"))),
            "success",
        )

    def action_send_invitation_odoo_mail(self):
        """Send the invitation through Odoo's outgoing mail server (managers).

        The operator's explicit choice when Mailgun cannot send it.
        """
        self._invitation_check_manager()
        for app in self:
            app._send_invitation(via_odoo=True)
        return self.env["mailgun.domain"]._notification(
            _("Invitation queued"),
            _(
                "Queued for Odoo's outgoing mail server, to %(emails)s.",
                emails=", ".join(self.partner_id.mapped("email")),
            ),
            "success",
        )

    def _invitation_check_manager(self):
        self.env["mailgun.domain"]._check_manager()
        if any(app.environment != "prod" for app in self):
            raise UserError(_("Only production apps have an invitation."))

    # ------------------------------------------------------------------
    # Variables
    # ------------------------------------------------------------------

    def _get_builtin_variables(self):
        """Add ``mailgun_dns_records`` where the cluster publishes them."""
        variables = super()._get_builtin_variables()
        if self.cluster_id.mailgun_publish_dns:
            variables[DNS_VARIABLE] = self.sudo().mailgun_domain_id._dns_endpoints()
        return variables

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
            if not app.hostname or app.mailgun_domain_id:
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
        app._apply_again(
            _("The Mailgun SMTP settings are new: the app is applied again.")
        )

    def _mailgun_dns_records_changed(self):
        """Mailgun changed the domain's records: publish them again."""
        self.ensure_one()
        if self.cluster_id.mailgun_publish_dns:
            self.sudo()._apply_again(
                _("The Mailgun DNS records changed: the app is applied again.")
            )

    def _mailgun_sending_domain(self):
        """The Mailgun domain the app sends from: the customer's own domain
        chosen for mail once it took over (its SMTP credentials handed to the
        app), else the host name's."""
        self.ensure_one()
        chosen = self._mailgun_chosen_domain()
        if chosen.custom_domain_id and not chosen.sending_since:
            return self.sudo().mailgun_domain_id
        return chosen

    def _mailgun_chosen_domain(self):
        """The Mailgun domain the app is to send from: the customer's own
        domain chosen for mail once Mailgun verified it, else the host name's."""
        self.ensure_one()
        custom = self.sudo().mailgun_domain_ids.filtered(
            lambda d: (
                d.custom_domain_id
                and d.state == "active"
                and d.custom_domain_id.state == "verified"
            )
        )
        return custom[:1] or self.sudo().mailgun_domain_id

    def _mailgun_set_mail_from(self, sender):
        """The app's Odoo sends as ``sender`` (variable mail_from, unless the
        operator overrode it)."""
        self.ensure_one()
        app = self.sudo()
        line = app.variable_ids.filtered(lambda v: v.name == "mail_from")
        if line.source == "override":
            return
        values = {"value": sender, "secret": False, "source": "default"}
        if line:
            line.write(values)
        else:
            self.env["kubernetes.app.variable"].sudo().create(
                dict(values, app_id=app.id, name="mail_from")
            )

    def _mailgun_domain_verified(self, domain):
        """The domain turned active: send the waiting invitation now; a
        customer's domain chosen for mail becomes the sending domain."""
        self.ensure_one()
        app = self.sudo()
        if domain.custom_domain_id:
            app.message_post(
                body=_(
                    "Mailgun verified the domain %(name)s: the app sends its mail "
                    "from it.",
                    name=domain.name,
                )
            )
            domain._enqueue_take_over()
            return
        app.message_post(
            body=_(
                "Mailgun verified the domain %(name)s: mail can be sent from it.",
                name=domain.name,
            )
        )
        if app.invitation_state == "waiting":
            app._enqueue_invitation()

    # ------------------------------------------------------------------
    # Invitation
    # ------------------------------------------------------------------

    def _mailgun_deployment_succeeded(self, deployment):
        """After a successful deployment: the invitation is due, the domain checked.

        The first successful production deployment makes the invitation due
        (and tries to send it); a deployment that applied the DNSEndpoint of
        the app's records asks Mailgun to verify the domain (in a job).
        """
        self.ensure_one()
        app = self.sudo()
        if app.environment == "prod" and not (
            app.invitation_sent_at or app.invitation_due_at
        ):
            app.invitation_due_at = fields.Datetime.now()
            if app._mailgun_ready_to_send() is not True:
                app.message_post(
                    body=_(
                        "The invitation waits: %(reason)s",
                        reason=app._invitation_wait_reason(),
                    )
                )
            app._enqueue_invitation()
        domain = app.mailgun_domain_id
        published = deployment.object_ids.filtered(
            lambda o: o.kind == "DNSEndpoint" and o.action in APPLIED
        )
        if (
            deployment.state == "done"
            and published
            and domain.state == "unverified"
            and app.cluster_id.mailgun_publish_dns
        ):
            domain._enqueue_verify()

    def _enqueue_invitation(self):
        for app in self:
            app.with_delay(
                channel=CHANNEL,
                identity_key=identity_exact,
                max_retries=MAX_RETRIES,
                description=_("Mailgun: invitation for %(name)s", name=app.name),
            )._job_send_invitation()

    @api.model
    def _mailgun_resume_invitations(self):
        """Queue the waiting invitations whose domain is active."""
        apps = self.sudo().search(
            [
                ("invitation_state", "=", "waiting"),
                ("mailgun_domain_id.state", "=", "active"),
            ]
        )
        apps._enqueue_invitation()
        return apps

    def _mailgun_ready_to_send(self):
        """True when the invitation can go now (Mailgun off, or domain active)."""
        self.ensure_one()
        Domain = self.env["mailgun.domain"]
        config = Domain._config()
        if not config["enabled"]:
            return True
        return not Domain._config_problem(config) and (
            self.mailgun_domain_id.state == "active"
        )

    def _invitation_wait_reason(self):
        """Why the invitation is not sent (a translated sentence)."""
        self.ensure_one()
        app = self.sudo()
        Domain = self.env["mailgun.domain"]
        config = Domain._config()
        problem = Domain._config_problem(config)
        domain = app.mailgun_domain_id
        if app.invitation_error:
            return app.invitation_error
        if problem:
            return problem
        if not domain:
            return _("The app has no Mailgun domain.")
        if domain.state == "pending":
            return _(
                "The Mailgun domain %(name)s is being registered.", name=domain.name
            )
        if domain.state == "failed":
            return _(
                "The Mailgun domain %(name)s failed: %(error)s",
                name=domain.name,
                error=domain.last_error or "-",
            )
        if domain.state == "unverified":
            if app.cluster_id.mailgun_publish_dns:
                return _(
                    "Mailgun has not verified the domain %(name)s yet; the "
                    "cluster publishes its DNS records (DNSEndpoint), Mailgun "
                    "checks them after each deployment and every hour.",
                    name=domain.name,
                )
            return _(
                "Mailgun has not verified the domain %(name)s yet: publish its "
                "DNS records (Mail tab of the app), then use Check DNS now.",
                name=domain.name,
            )
        return _("The invitation is being sent.")

    def _job_send_invitation(self):
        """Send the due invitation once Mailgun may send it; else wait.

        Idempotent: sends nothing when the invitation was sent or is not due.
        Waiting is not retried: the domain's verification queues this job
        again.  Mailgun's 403 "not allowed to send", rate limits and 5xx are
        retried; a refused key waits for new settings; nothing is ever sent
        another way while Mailgun is enabled.
        """
        self.ensure_one()
        app = self.sudo()
        if not app.exists() or app.environment != "prod":
            return "Nothing to do: no invitation is due."
        if app.invitation_sent_at or not app.invitation_due_at:
            return "Nothing to do: no invitation is due."
        Domain = self.env["mailgun.domain"]
        if app._mailgun_ready_to_send() is not True:
            return "Waiting: " + app._invitation_wait_reason()
        try:
            return app._send_invitation()
        except MailgunAuthError as error:
            Domain._set_config_error(str(error))
            return app._invitation_waits(
                _(
                    "%(error)s. Nothing was sent; fix the API key or region in "
                    "the settings and the invitation goes out.",
                    error=str(error).rstrip("."),
                )
            )
        except MailgunTransientError as error:
            # Mailgun's 403 "not allowed to send" (the domain is not verified
            # for sending yet), 429 and 5xx: wait and retry.
            if not Domain._is_last_attempt():
                raise RetryableJobError(
                    str(error), seconds=error.details.get("retry_after")
                ) from None
            return app._invitation_waits(str(error))
        except (MailgunError, AppMailError, UserError) as error:
            return app._invitation_failed(error)

    def _invitation_waits(self, reason):
        """Keep the invitation waiting with ``reason`` (noted once per reason)."""
        self.ensure_one()
        if self.invitation_error != reason:
            self.invitation_error = reason
            self.message_post(body=_("The invitation waits: %(reason)s", reason=reason))
        _logger.info("Invitation of app %s waits: %s", self.name, reason)
        return reason

    def _invitation_failed(self, error):
        """Mailgun refused the message: the operator gets an activity at once."""
        message = _(
            "The invitation could not be sent: %(error)s. Use Resend invitation "
            "once the problem is solved, or Send via Odoo mail server.",
            error=str(error).rstrip("."),
        )
        self.write({"invitation_failed": True, "invitation_error": message})
        self.message_post(body=message)
        self._invitation_remind()
        _logger.info("Invitation of app %s not sent: %s", self.name, error)
        return message

    def _send_invitation(self, via_odoo=False):
        """Send the invitation now; post who got it and how (never the password).

        Via Mailgun under the app's hostname, from an active domain only;
        through Odoo's outgoing mail server when Mailgun is disabled or
        ``via_odoo`` (the operator's explicit choice).  Raises UserError when
        Mailgun cannot send it yet, else the core's MailgunError or
        AppMailError.
        """
        self.ensure_one()
        app = self.sudo()
        if not app.partner_id.email:
            raise UserError(_("The customer of %(app)s has no email.", app=app.name))
        Domain = self.env["mailgun.domain"]
        config = Domain._config()
        mail = app._render_invitation(config["sender_local_part"])
        if via_odoo or not config["enabled"]:
            app._queue_odoo_mail(mail)
            if via_odoo:
                reason = _("sent at the request of %(user)s", user=self.env.user.name)
            else:
                reason = Domain._config_problem(config)
            note = _(
                "Invitation sent to %(to)s through Odoo's outgoing mail server, "
                "not Mailgun: %(reason)s",
                to=mail["to"],
                reason=reason,
            )
        else:
            if app._mailgun_ready_to_send() is not True:
                raise UserError(
                    _(
                        "The invitation cannot be sent via Mailgun yet: %(reason)s "
                        "Use Send via Odoo mail server to send it through Odoo's "
                        "outgoing mail server instead.",
                        reason=app._invitation_wait_reason(),
                    )
                )
            domain = app._mailgun_sending_domain()
            Domain._client(config).send_message(
                domain.name,
                mail["sender"],
                mail["to"],
                mail["subject"],
                text=html2plaintext(mail["body"]),
                html=mail["body"],
            )
            Domain._set_config_error(False)
            note = _(
                "Invitation sent to %(to)s via Mailgun from %(sender)s.",
                to=mail["to"],
                sender=mail["sender"],
            )
        app.write(
            {
                "invitation_sent_at": fields.Datetime.now(),
                "invitation_due_at": app.invitation_due_at or fields.Datetime.now(),
                "invitation_failed": False,
                "invitation_error": False,
            }
        )
        app.message_post(body=note)
        if app.invitation_activity_id:
            app.invitation_activity_id.action_feedback(
                feedback=_("The invitation was sent.")
            )
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

    # ------------------------------------------------------------------
    # Overdue invitations
    # ------------------------------------------------------------------

    @api.model
    def _invitation_wait_hours(self):
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param(PARAM % "invitation_wait_hours")
        )
        try:
            hours = int(value)
        except (TypeError, ValueError):
            return DEFAULT_INVITATION_WAIT_HOURS
        return hours if hours > 0 else DEFAULT_INVITATION_WAIT_HOURS

    @api.model
    def _cron_invitation_overdue(self):
        """Remind the operator of invitations waiting longer than the setting."""
        limit = fields.Datetime.now() - timedelta(hours=self._invitation_wait_hours())
        apps = self.sudo().search(
            [
                ("invitation_state", "=", "waiting"),
                ("invitation_due_at", "<=", limit),
                ("invitation_reminded_at", "=", False),
            ]
        )
        for app in apps:
            app._invitation_remind()
        return apps

    def _invitation_remind(self):
        """An activity for the operator: the invitation is not sent, and why."""
        self.ensure_one()
        app = self.sudo()
        reason = app._invitation_wait_reason()
        activity = app.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=_("Invitation not sent: %(name)s", name=app.name),
            note=_(
                "The invitation to %(email)s is not sent: %(reason)s Fix the "
                "cause, or send it through Odoo's outgoing mail server with Send "
                "via Odoo mail server on the Mail tab.",
                email=app.partner_id.email or "-",
                reason=reason,
            ),
            user_id=app._mailgun_operator().id,
        )
        app.write(
            {
                "invitation_reminded_at": fields.Datetime.now(),
                "invitation_activity_id": activity.id,
            }
        )
        return activity

    def _mailgun_operator(self):
        """Who gets the activity: the administrator, or a Kubernetes manager."""
        admin = self.env.ref("base.user_admin", raise_if_not_found=False)
        if admin and admin.active and admin.has_group(MANAGER_GROUP):
            return admin
        managers = self.env.ref(MANAGER_GROUP).sudo().users.filtered("active")
        return managers.sorted("id")[:1] or admin or self.env.user

    # ------------------------------------------------------------------
    # Rendering
    # ------------------------------------------------------------------

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
            "sender": sender_address(
                local_part, self._mailgun_sending_domain().name or self.hostname
            ),
            "to": self.partner_id.email,
            "subject": rendered["subject"],
            "body": rendered["body_html"],
        }

    # ------------------------------------------------------------------
    # Lifecycle (kubernetes_app): the customer's mails, the terminated app
    # ------------------------------------------------------------------

    def _send_customer_mail(self, template, values):
        """From the app's own Mailgun domain while it is active, in a job;
        otherwise through Odoo's mail server (queued mail, as without Mailgun).

        The job is created in this transaction: a rollback (a retried
        lifecycle step, a failed request) sends nothing, and nothing sent
        is sent again by a transaction that is retried."""
        self.ensure_one()
        app = self.sudo()
        if not app._mailgun_sends_customer_mail():
            return super()._send_customer_mail(template, values)
        app.with_delay(
            channel=CHANNEL,
            identity_key=identity_exact,
            max_retries=MAX_RETRIES,
            description=_("Mailgun: mail to the customer of %(name)s", name=app.name),
        )._job_send_customer_mail(template, values)

    def _mailgun_sends_customer_mail(self):
        """True when Mailgun is enabled and the app's domain is active."""
        self.ensure_one()
        config = self.env["mailgun.domain"]._config()
        return bool(config["enabled"] and self._mailgun_ready_to_send())

    def _job_send_customer_mail(self, template, values):
        """Render ``template`` with ``values`` and send it via Mailgun; through
        Odoo's mail server when Mailgun cannot send it now or refuses it
        (noted in the chatter).

        A suspension or a resumption never waits for mail: Mailgun errors
        are not retried."""
        self.ensure_one()
        app = self.sudo()
        if not app.exists() or not template.exists():
            return "Nothing to do: the app or the template is gone."
        if not app._mailgun_sends_customer_mail():
            super()._send_customer_mail(template, values)
            return "Sent through Odoo's mail server: Mailgun cannot send it now."
        Domain = self.env["mailgun.domain"]
        config = Domain._config()
        template = template.sudo().with_context(**values)
        rendered = {
            field: template._render_field(field, app.ids, compute_lang=True)[app.id]
            for field in ("subject", "body_html")
        }
        domain_name = app._mailgun_sending_domain().name
        sender = sender_address(config["sender_local_part"], domain_name)
        try:
            Domain._client(config).send_message(
                domain_name,
                sender,
                app.partner_id.email,
                rendered["subject"],
                text=html2plaintext(rendered["body_html"]),
                html=rendered["body_html"],
            )
        except MailgunError as error:
            _logger.warning("Mail of app %s not sent via Mailgun: %s", app.name, error)
            text = _(
                "%(subject)s: Mailgun refused it (%(error)s); sent through "
                "Odoo's mail server instead.",
                subject=rendered["subject"],
                error=error,
            )
            app.message_post(body=text)
            super()._send_customer_mail(template, values)
            return text
        text = _(
            "%(subject)s: sent to %(to)s via Mailgun from %(sender)s.",
            subject=rendered["subject"],
            to=app.partner_id.email,
            sender=sender,
        )
        app.message_post(body=text)
        return text

    def _on_terminated(self):
        """A terminated app's Mailgun domain goes (deleted in Mailgun in a job)."""
        result = super()._on_terminated()
        self.sudo().mailgun_domain_ids.unlink()
        return result
