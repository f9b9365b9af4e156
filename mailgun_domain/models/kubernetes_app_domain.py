# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""A customer's verified domain can become the app's sending domain.

Choosing it registers it as a Mailgun domain (a job); its DNS records are
shown to the customer in the portal (the cluster cannot publish records in
the customer's zone).  The app keeps sending from its host name until
Mailgun verifies the domain; then it gets new SMTP credentials for it and
its sender address (the app is applied again).  Stopping, or removing the
domain, deletes the Mailgun domain and hands the host name's credentials
back.
"""

from odoo import _, api, fields, models
from odoo.exceptions import UserError


class KubernetesAppDomain(models.Model):
    _inherit = "kubernetes.app.domain"

    mailgun_domain_ids = fields.One2many(
        "mailgun.domain", "custom_domain_id", string="Mailgun Domains", readonly=True
    )
    mail_state = fields.Selection(
        [
            ("pending", "Registering"),
            ("unverified", "Waiting for DNS"),
            ("active", "Sending"),
            ("failed", "Failed"),
        ],
        string="Mail",
        compute="_compute_mail_state",
        help="Where sending the app's mail from this domain stands.",
    )

    @api.depends("mailgun_domain_ids.state")
    def _compute_mail_state(self):
        for domain in self:
            domain.mail_state = domain.mailgun_domain_ids[:1].state or False

    # ------------------------------------------------------------------
    # CRUD and actions
    # ------------------------------------------------------------------

    def unlink(self):
        """A removed domain stops being the sending domain first."""
        self.filtered("mailgun_domain_ids")._stop_mail()
        return super().unlink()

    def action_use_for_mail(self):
        """Send the app's mail from this domain (managers; customers in the portal)."""
        self.env["mailgun.domain"]._check_manager()
        for domain in self:
            domain._use_for_mail(True)
        return True

    def action_stop_mail(self):
        self.env["mailgun.domain"]._check_manager()
        for domain in self:
            domain._use_for_mail(False)
        return True

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------

    def _mail_problem(self):
        """Why mail cannot be sent from this domain now (a sentence), or False."""
        self.ensure_one()
        Mailgun = self.env["mailgun.domain"]
        problem = Mailgun._config_problem(Mailgun._config())
        if problem:
            return problem
        if self.state != "verified":
            return _("Only a verified domain can send mail.")
        return False

    def _mail_sender_info(self):
        self.ensure_one()
        domain = self.sudo()
        mailgun = domain.mailgun_domain_ids[:1]
        states = dict(self._fields["mail_state"]._description_selection(self.env))
        return {
            "available": not domain._mail_problem(),
            "state": mailgun.state or False,
            "state_label": states.get(mailgun.state) or "",
            "sending": bool(mailgun)
            and domain.app_id._mailgun_sending_domain() == mailgun,
            "records": [
                {
                    "type": r.record_type,
                    "name": r.name,
                    "value": f"{r.priority} {r.value}"
                    if r.record_type == "MX"
                    else r.value,
                }
                for r in mailgun.record_ids.sorted("id")
            ],
        }

    def _use_for_mail(self, use=True):
        self.ensure_one()
        domain = self.sudo()
        if not use:
            domain._stop_mail()
            return True
        problem = domain._mail_problem()
        if problem:
            raise UserError(problem)
        if domain.mailgun_domain_ids:
            return True
        others = domain.app_id.custom_domain_ids.filtered("mailgun_domain_ids") - domain
        others._stop_mail()
        mailgun = (
            self.env["mailgun.domain"]
            .sudo()
            .create(
                {
                    "name": domain.name,
                    "app_id": domain.app_id.id,
                    "custom_domain_id": domain.id,
                }
            )
        )
        mailgun._enqueue_register()
        domain.app_id.message_post(
            body=_(
                "The app is to send its mail from %(name)s: it is registered in "
                "Mailgun; the app switches once Mailgun verified its DNS records.",
                name=domain.name_unicode,
            )
        )
        return True

    def _stop_mail(self):
        """Delete the Mailgun domains of these domains; an app that sent from
        one gets its host name's credentials back (in a job)."""
        for domain in self.sudo():
            app = domain.app_id
            mailgun = domain.mailgun_domain_ids
            if not mailgun:
                continue
            was_sending = app._mailgun_sending_domain() in mailgun
            mailgun.unlink()
            app.invalidate_recordset(["mailgun_domain_ids", "mailgun_domain_id"])
            if was_sending and app.mailgun_domain_id:
                app.mailgun_domain_id._enqueue_take_over()
            app.message_post(
                body=_(
                    "The app no longer sends mail from %(name)s.",
                    name=domain.name_unicode,
                )
            )
