# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Mailgun sending domains: one per app, named after the app's hostname.

A queue job registers the domain (an existing one is adopted through
documented endpoints only), sets the SMTP credentials and hands them to the
app as secret variables.  Verification asks Mailgun to check the DNS
records: a job right after a deployment that published them (on a cluster
that publishes Mailgun DNS records, retried while DNS propagates), the
hourly cron, or *Check DNS now*.  A domain turning active sends its app's
waiting invitation at once.  Deleting a domain record deletes the domain in
Mailgun (in a job).  Rate limits and 5xx are retried with backoff; a refused
API key (401/403) is a configuration error shown on the domain, the app and
in the settings, never retried; saving a new key registers the domains it
failed and sends the waiting invitations.  The API key and the SMTP password
never appear in a message or a log line: the core's messages name the URL
and the domain only.
"""

import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import identity_exact

from mintcloud.appmail import (
    SMTP_PASSWORD_LENGTH,
    AppMailError,
    base_url,
    sender_address,
    smtp_host,
    smtp_login,
)
from mintcloud.errors import (
    MailgunAuthError,
    MailgunError,
    MailgunTransientError,
)
from mintcloud.maildns import dns_endpoints, endpoint_records
from mintcloud.mailgun import MailgunClient, dns_records, domain_state
from mintcloud.variables import generate_secret

_logger = logging.getLogger(__name__)

CHANNEL = "root.mailgun"
MAX_RETRIES = 6
#: Verify jobs after a deployment: about two hours of retries while DNS
#: propagates (retry pattern in data/queue_job_data.xml); the cron goes on.
VERIFY_MAX_RETRIES = 12
STATES = [
    ("pending", "Registering"),
    ("unverified", "Unverified"),
    ("active", "Active"),
    ("failed", "Failed"),
]
PARAM = "mailgun_domain.%s"
MANAGER_GROUP = "kubernetes_manifest.group_kubernetes_manager"


class MailgunDomain(models.Model):
    _name = "mailgun.domain"
    _description = "Mailgun Domain"
    _order = "name, id"

    name = fields.Char(
        required=True, readonly=True, index=True, help="The app's hostname."
    )
    app_id = fields.Many2one(
        "kubernetes.app",
        string="App",
        required=True,
        readonly=True,
        ondelete="cascade",
        index=True,
    )
    partner_id = fields.Many2one(related="app_id.partner_id", string="Customer")
    state = fields.Selection(STATES, required=True, default="pending", readonly=True)
    record_ids = fields.One2many(
        "mailgun.domain.record", "domain_id", string="DNS Records", readonly=True
    )
    smtp_login = fields.Char(string="SMTP Login", readonly=True)
    sending_since = fields.Datetime(
        readonly=True,
        copy=False,
        help="A customer's own domain: when the app got its SMTP credentials "
        "and sender address (until then it sends from its host name).",
    )
    adopted = fields.Boolean(
        readonly=True,
        help="The domain existed in Mailgun already and was taken over; its "
        "SMTP password was reset.",
    )
    last_error = fields.Text(readonly=True)
    config_failed = fields.Boolean(
        readonly=True,
        help="The registration failed on a configuration error (API key or "
        "region); saving new Mailgun settings registers it again.",
    )
    registered_at = fields.Datetime(string="Registered On", readonly=True)
    verified_at = fields.Datetime(string="Checked On", readonly=True)
    custom_domain_id = fields.Many2one(
        "kubernetes.app.domain",
        string="Customer's Domain",
        readonly=True,
        index=True,
        ondelete="set null",
        help="Set when this sending domain is one of the customer's own "
        "domains: the app sends from it once Mailgun verified it; otherwise "
        "it is the app's host name.",
    )

    _sql_constraints = [
        ("name_uniq", "unique(name)", "This Mailgun domain exists already."),
    ]

    @api.constrains("app_id", "custom_domain_id")
    def _check_one_per_app(self):
        """One host-name domain per app, and one for each customer's domain."""
        for domain in self:
            siblings = domain.app_id.mailgun_domain_ids - domain
            if any(d.custom_domain_id == domain.custom_domain_id for d in siblings):
                raise ValidationError(_("An app has one Mailgun domain only."))

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    def unlink(self):
        """Delete the domains in Mailgun too (in a job); never blocks the unlink."""
        config = self._config()
        if self and not self._config_problem(config):
            for name in self.mapped("name"):
                self.browse().with_delay(
                    channel=CHANNEL,
                    identity_key=identity_exact,
                    max_retries=MAX_RETRIES,
                    description=_("Mailgun: delete domain %(name)s", name=name),
                )._job_delete(name)
        elif self:
            _logger.warning(
                "Mailgun is disabled or has no API key: domain(s) %s are not "
                "deleted in Mailgun",
                ", ".join(self.mapped("name")),
            )
        return super().unlink()

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_register(self):
        """Register again: adopt the domain and reset its SMTP password."""
        self._check_manager()
        problem = self._config_problem(self._config())
        if problem:
            raise UserError(problem)
        self.sudo().write({"state": "pending", "last_error": False})
        self._enqueue_register()
        return self._notification(
            _("Registration queued"),
            _("The domain is registered in the background."),
        )

    def action_verify(self):
        """Ask Mailgun to check the DNS records now, in a job: Mailgun's
        check resolves DNS and can take seconds, never in this request."""
        problem = self._config_problem(self._config())
        if problem:
            raise UserError(problem)
        self.sudo().filtered(lambda d: d.state != "pending")._enqueue_verify(
            recheck=True
        )
        return self._notification(
            _("Verification queued"),
            _(
                "Mailgun checks the DNS records in the background; the state shows its answer."
            ),
        )

    @api.model
    def _notification(self, title, message, kind="info"):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": title,
                "message": message,
                "type": kind,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _check_manager(self):
        if not self.env.is_superuser() and not self.env.user.has_group(MANAGER_GROUP):
            raise UserError(_("Only Kubernetes managers can do this."))

    # ------------------------------------------------------------------
    # Configuration
    # ------------------------------------------------------------------

    @api.model
    def _config(self):
        """The Mailgun settings as a dict (read with sudo; the key stays here)."""
        get = self.env["ir.config_parameter"].sudo().get_param
        return {
            "enabled": bool(get(PARAM % "enabled")),
            "api_key": get(PARAM % "api_key") or "",
            "region": get(PARAM % "region") or "us",
            "base_url_override": get(PARAM % "base_url") or "",
            "sender_local_part": get(PARAM % "sender_local_part") or "noreply",
        }

    @api.model
    def _config_problem(self, config):
        """Why Mailgun cannot be used (a translated sentence), or False."""
        if not config["enabled"]:
            return _("Mailgun is disabled in the settings.")
        if not config["api_key"]:
            return _("No Mailgun API key is configured in the settings.")
        try:
            base_url(config["region"], config["base_url_override"])
        except AppMailError as error:
            return str(error)
        return False

    @api.model
    def _client(self, config=None):
        config = config or self._config()
        return MailgunClient(
            config["api_key"],
            base_url=base_url(config["region"], config["base_url_override"]),
        )

    @api.model
    def _set_config_error(self, message):
        """Show a configuration error in the settings (False clears it)."""
        params = self.env["ir.config_parameter"].sudo()
        if (params.get_param(PARAM % "config_error") or False) != (message or False):
            params.set_param(PARAM % "config_error", message or False)

    # ------------------------------------------------------------------
    # Registration
    # ------------------------------------------------------------------

    def _enqueue_register(self):
        for domain in self:
            domain.with_delay(
                channel=CHANNEL,
                identity_key=identity_exact,
                max_retries=MAX_RETRIES,
                # Before the deployment queued with the app, when both wait.
                priority=5,
                description=_("Mailgun: register domain %(name)s", name=domain.name),
            )._job_register()

    def _job_register(self):
        """Create or adopt the domain, set its SMTP password, store the records."""
        self.ensure_one()
        domain = self.sudo()
        if not domain.exists() or domain.state != "pending":
            return "Nothing to do: the domain is gone or registered already."
        config = self._config()
        problem = self._config_problem(config)
        if problem:
            domain.write({"state": "failed", "last_error": problem})
            return problem
        password = generate_secret(SMTP_PASSWORD_LENGTH)
        login = smtp_login(domain.name)
        try:
            client = self._client(config)
            body, created = client.ensure_domain(domain.name, password)
            if not created:
                client.set_smtp_credential(domain.name, login, password)
        except MailgunAuthError as error:
            return domain._fail_config(error)
        except MailgunTransientError as error:
            return domain._retry_or_fail(error)
        except MailgunError as error:
            return domain._fail(str(error))
        domain._store(body, adopted=not created, login=login)
        self._set_config_error(False)
        if domain.custom_domain_id:
            # The app sends from it once Mailgun verified it (a new password
            # then, see _job_take_over_sending).
            text = _(
                "Mailgun domain %(name)s registered for the customer's domain: "
                "the customer creates its DNS records (shown in the portal).",
                name=domain.name,
            )
            domain.app_id.message_post(body=text)
            return text
        domain.app_id._mailgun_set_smtp(login, password, smtp_host(config["region"]))
        if created:
            text = _(
                "Mailgun domain %(name)s created: publish its DNS records.",
                name=domain.name,
            )
        else:
            text = _(
                "Mailgun domain %(name)s adopted (it existed already; its SMTP "
                "password was reset): publish its DNS records.",
                name=domain.name,
            )
        domain.app_id.message_post(body=text)
        _logger.info("Mailgun domain %s registered (created: %s)", domain.name, created)
        return text

    def _store(self, body, adopted=None, login=None):
        """Write state and DNS records from a Mailgun domain body.

        A domain turning active tells its app (which sends a waiting
        invitation); records that changed on a verification are published
        again where the cluster publishes them.
        """
        self.ensure_one()
        state = domain_state(body)
        was_active = self.state == "active"
        published_before = endpoint_records(self._dns_endpoints())
        values = {
            "state": state,
            "last_error": False,
            "config_failed": False,
            "verified_at": fields.Datetime.now(),
        }
        if adopted is not None:
            values.update(adopted=adopted, registered_at=fields.Datetime.now())
        values["smtp_login"] = login or self.smtp_login or smtp_login(self.name)
        self.record_ids.unlink()
        values["record_ids"] = [fields.Command.create(row) for row in dns_records(body)]
        self.write(values)
        if state == "active" and not was_active:
            self.app_id._mailgun_domain_verified(self)
        elif (
            adopted is None
            and not self.custom_domain_id
            and endpoint_records(self._dns_endpoints()) != published_before
        ):
            self.app_id._mailgun_dns_records_changed()

    def _dns_endpoints(self):
        """The external-dns endpoints of the stored records ([] without a domain).

        In Mailgun's order (the records are stored in it).
        """
        if not self:
            return []
        self.ensure_one()
        return dns_endpoints(
            {
                "record_type": r.record_type,
                "name": r.name,
                "value": r.value,
                "priority": r.priority,
            }
            for r in self.sudo().record_ids.sorted("id")
        )

    def _fail(self, message):
        self.write({"state": "failed", "last_error": message, "config_failed": False})
        self.app_id.message_post(
            body=_(
                "Mailgun domain %(name)s failed: %(error)s",
                name=self.name,
                error=message,
            )
        )
        _logger.info("Mailgun domain %s failed: %s", self.name, message)
        return message

    def _fail_config(self, error):
        """401/403: a configuration error; shown here and in the settings."""
        message = _(
            "%(error)s. Check the Mailgun API key and region in the settings: "
            "saving them registers the domain again.",
            error=str(error).rstrip("."),
        )
        self._set_config_error(str(error))
        result = self._fail(message)
        self.config_failed = True
        return result

    def _retry_or_fail(self, error):
        if self._is_last_attempt():
            return self._fail(_("Gave up after several attempts: %s", error))
        raise RetryableJobError(
            str(error), seconds=error.details.get("retry_after")
        ) from None

    def _is_last_attempt(self):
        """True when the current job run is its last allowed attempt."""
        uuid = self.env.context.get("job_uuid")
        if not uuid:
            return False
        job = self.env["queue.job"].sudo().search([("uuid", "=", uuid)], limit=1)
        return bool(job.max_retries) and job.retry + 1 >= job.max_retries

    # ------------------------------------------------------------------
    # Sending domain of an app
    # ------------------------------------------------------------------

    def _enqueue_take_over(self):
        for domain in self:
            domain.with_delay(
                channel=CHANNEL,
                identity_key=identity_exact,
                max_retries=MAX_RETRIES,
                description=_("Mailgun: send from %(name)s", name=domain.name),
            )._job_take_over_sending()

    def _job_take_over_sending(self):
        """Make this domain the one the app's Odoo sends from: a new SMTP
        password for it, handed to the app with the sender address (the app
        is applied again).  Nothing when the app sends from another domain."""
        self.ensure_one()
        domain = self.sudo()
        if not domain.exists() or domain.app_id._mailgun_chosen_domain() != domain:
            return "Nothing to do: the app does not send from this domain."
        config = self._config()
        problem = self._config_problem(config)
        if problem:
            return problem
        password = generate_secret(SMTP_PASSWORD_LENGTH)
        login = smtp_login(domain.name)
        try:
            self._client(config).set_smtp_credential(domain.name, login, password)
        except MailgunAuthError as error:
            self._set_config_error(str(error))
            return str(error)
        except MailgunTransientError as error:
            if self._is_last_attempt():
                return str(error)
            raise RetryableJobError(
                str(error), seconds=error.details.get("retry_after")
            ) from None
        except MailgunError as error:
            domain.app_id.message_post(
                body=_(
                    "The app cannot send from %(name)s: %(error)s",
                    name=domain.name,
                    error=error,
                )
            )
            return str(error)
        domain.write(
            {
                "smtp_login": login,
                "sending_since": fields.Datetime.now()
                if domain.custom_domain_id
                else False,
            }
        )
        app = domain.app_id
        app._mailgun_set_mail_from(
            sender_address(config["sender_local_part"], domain.name)
        )
        app._mailgun_set_smtp(login, password, smtp_host(config["region"]))
        text = _("The app now sends its mail from %(name)s.", name=domain.name)
        app.message_post(body=text)
        return text

    # ------------------------------------------------------------------
    # Verification
    # ------------------------------------------------------------------

    def _verify(self, client):
        self.ensure_one()
        self._store(client.verify_domain(self.name))

    def _enqueue_verify(self, recheck=False):
        """Ask Mailgun in a job to verify these domains (after a deployment;
        with ``recheck``, once, whatever their state: *Verify now*)."""
        for domain in self:
            domain.with_delay(
                channel=CHANNEL,
                identity_key=identity_exact,
                max_retries=VERIFY_MAX_RETRIES,
                description=_("Mailgun: verify domain %(name)s", name=domain.name),
            )._job_verify(**({"recheck": True} if recheck else {}))

    def _job_verify(self, recheck=False):
        """Verify an unverified domain; retried while Mailgun does not see DNS
        yet.  With ``recheck`` (an operator's *Verify now*): any registered
        domain, one answer, not retried for DNS."""
        self.ensure_one()
        domain = self.sudo()
        if not domain.exists():
            return "Nothing to do: the domain is gone."
        if domain.state == "pending" or (domain.state != "unverified" and not recheck):
            return f"Nothing to do: the domain is {domain.state}."
        config = self._config()
        problem = self._config_problem(config)
        if problem:
            return problem
        try:
            domain._verify(self._client(config))
        except MailgunAuthError as error:
            self._set_config_error(str(error))
            return str(error)
        except MailgunTransientError as error:
            if self._is_last_attempt():
                return str(error)
            raise RetryableJobError(
                str(error), seconds=error.details.get("retry_after")
            ) from None
        except MailgunError as error:
            domain.write({"state": "failed", "last_error": str(error)})
            return str(error)
        self._set_config_error(False)
        if domain.state == "active":
            return f"Domain {domain.name} is active."
        text = f"Mailgun does not see the DNS records of {domain.name} yet."
        if recheck or self._is_last_attempt():
            return text + " The hourly verification goes on."
        raise RetryableJobError(text)

    @api.model
    def _cron_verify(self):
        """Verify every unverified domain; stop at a configuration error.

        Then queue again the invitations that wait for a domain that is
        active (a send that gave up on Mailgun's 403 or a rate limit).
        """
        config = self._config()
        if self._config_problem(config):
            return
        client = self._client(config)
        for domain in self.sudo().search([("state", "=", "unverified")]):
            try:
                domain._verify(client)
            except MailgunAuthError as error:
                self._set_config_error(str(error))
                _logger.warning("Mailgun verification stopped: %s", error)
                return
            except MailgunTransientError as error:
                _logger.info("Mailgun verification paused: %s", error)
                return
            except MailgunError as error:
                domain.write({"state": "failed", "last_error": str(error)})
        self._set_config_error(False)
        self.env["kubernetes.app"]._mailgun_resume_invitations()

    @api.model
    def _after_config_change(self):
        """New Mailgun settings: register the domains a refused key failed,
        and send the invitations waiting for an active domain (in jobs)."""
        if self._config_problem(self._config()):
            return
        failed = self.sudo().search(
            [("state", "=", "failed"), ("config_failed", "=", True)]
        )
        if failed:
            failed.write({"state": "pending", "last_error": False})
            failed._enqueue_register()
        # Customers' domains verified for mail whose switch a refused key
        # (or an error) stopped: switch again.
        self.sudo().search(
            [
                ("custom_domain_id", "!=", False),
                ("state", "=", "active"),
                ("sending_since", "=", False),
            ]
        )._enqueue_take_over()
        self.env["kubernetes.app"]._mailgun_resume_invitations()

    # ------------------------------------------------------------------
    # Deletion
    # ------------------------------------------------------------------

    @api.model
    def _job_delete(self, name):
        """Delete domain ``name`` in Mailgun unless an app uses it again."""
        if self.sudo().search_count([("name", "=", name)]):
            return f"Kept: domain {name} belongs to an app again."
        config = self._config()
        problem = self._config_problem(config)
        if problem:
            _logger.warning("Mailgun domain %s not deleted: %s", name, problem)
            return problem
        try:
            deleted = self._client(config).delete_domain(name)
        except MailgunTransientError as error:
            if self._is_last_attempt():
                _logger.warning("Mailgun domain %s not deleted: %s", name, error)
                return str(error)
            raise RetryableJobError(
                str(error), seconds=error.details.get("retry_after")
            ) from None
        except MailgunError as error:
            _logger.warning("Mailgun domain %s not deleted: %s", name, error)
            return str(error)
        text = f"Domain {name} " + ("deleted" if deleted else "was already gone")
        _logger.info("Mailgun: %s", text)
        return text
