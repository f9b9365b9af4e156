# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Mailgun settings: on/off, API key, region, invitation sender and wait.

Saving a new key or region clears the configuration error and, in jobs,
registers the domains the old key failed and sends the invitations that
wait for an active domain.
"""

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from mintcloud.appmail import AppMailError, check_local_part
from mintcloud.errors import MailgunAuthError, MailgunError

from .mailgun_domain import PARAM


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    mailgun_enabled = fields.Boolean(
        string="Mailgun Sending Domains", config_parameter=PARAM % "enabled"
    )
    mailgun_api_key = fields.Char(
        string="Mailgun API Key",
        config_parameter=PARAM % "api_key",
        groups="base.group_system",
    )
    mailgun_region = fields.Selection(
        [("us", "US (api.mailgun.net)"), ("eu", "EU (api.eu.mailgun.net)")],
        string="Mailgun Region",
        default="us",
        config_parameter=PARAM % "region",
    )
    mailgun_sender_local_part = fields.Char(
        string="Invitation Sender",
        default="noreply",
        config_parameter=PARAM % "sender_local_part",
        help="Local part of the invitation's sender: <local part>@<app hostname>.",
    )
    mailgun_invitation_wait_hours = fields.Integer(
        string="Invitation Wait (hours)",
        default=24,
        config_parameter=PARAM % "invitation_wait_hours",
        help="How long an invitation may wait for its Mailgun domain to be "
        "verified before the operator gets an activity with the reason.",
    )
    mailgun_config_error = fields.Char(
        string="Mailgun Error", compute="_compute_mailgun_config_error"
    )

    def _compute_mailgun_config_error(self):
        error = self.env["ir.config_parameter"].sudo().get_param(PARAM % "config_error")
        for settings in self:
            settings.mailgun_config_error = error or False

    @api.constrains("mailgun_sender_local_part")
    def _check_mailgun_sender_local_part(self):
        for settings in self:
            try:
                check_local_part(settings.mailgun_sender_local_part or "noreply")
            except AppMailError as error:
                raise ValidationError(str(error)) from None

    @api.constrains("mailgun_invitation_wait_hours")
    def _check_mailgun_invitation_wait_hours(self):
        for settings in self:
            if settings.mailgun_invitation_wait_hours < 1:
                raise ValidationError(
                    _("The invitation wait must be at least one hour.")
                )

    def set_values(self):
        get = self.env["ir.config_parameter"].sudo().get_param
        keys = ("enabled", "api_key", "region", "base_url")
        before = [get(PARAM % key) for key in keys]
        super().set_values()
        if [get(PARAM % key) for key in keys] != before:
            # New settings: the old error no longer applies; what it blocked
            # is tried again (registrations, invitations) in jobs.
            Domain = self.env["mailgun.domain"]
            Domain._set_config_error(False)
            Domain._after_config_change()

    def action_mailgun_test_connection(self):
        """Check the key against the region's API; show the result."""
        self.ensure_one()
        Domain = self.env["mailgun.domain"]
        config = Domain._config()
        problem = Domain._config_problem(config)
        if problem:
            raise UserError(problem)
        try:
            Domain._client(config).check_auth()
        except MailgunAuthError as error:
            Domain._set_config_error(str(error))
            return self._mailgun_notification(str(error), "danger")
        except MailgunError as error:
            return self._mailgun_notification(str(error), "warning")
        params = self.env["ir.config_parameter"].sudo()
        had_error = bool(params.get_param(PARAM % "config_error"))
        Domain._set_config_error(False)
        if had_error:
            Domain._after_config_change()
        return self._mailgun_notification(_("The Mailgun API key works."), "success")

    def _mailgun_notification(self, message, kind):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Mailgun"),
                "message": message,
                "type": kind,
                "sticky": kind != "success",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }
