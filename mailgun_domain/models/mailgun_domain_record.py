# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""DNS records of a Mailgun domain, as Mailgun returns them, to copy into DNS."""

from odoo import fields, models


class MailgunDomainRecord(models.Model):
    _name = "mailgun.domain.record"
    _description = "Mailgun DNS Record"
    _order = "domain_id, purpose desc, record_type, name, id"

    domain_id = fields.Many2one(
        "mailgun.domain", string="Domain", required=True, ondelete="cascade", index=True
    )
    record_type = fields.Char(string="Type", required=True)
    name = fields.Char(string="Host", required=True)
    value = fields.Char(required=True)
    priority = fields.Integer(help="MX priority; empty for other records.")
    valid = fields.Selection(
        [("valid", "Valid"), ("invalid", "Invalid"), ("unknown", "Not checked")],
        required=True,
        default="unknown",
        help="What Mailgun found in DNS at the last check.",
    )
    purpose = fields.Selection(
        [("sending", "Sending"), ("receiving", "Receiving")], required=True
    )
