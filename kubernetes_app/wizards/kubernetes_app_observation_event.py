# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import fields, models


class KubernetesAppObservationEvent(models.TransientModel):
    _name = "kubernetes.app.observation.event"
    _description = "Kubernetes Event of an App Observation"
    _order = "sequence, id"

    observation_id = fields.Many2one(
        "kubernetes.app.observation", required=True, ondelete="cascade"
    )
    sequence = fields.Integer()
    event_type = fields.Char(string="Type")
    reason = fields.Char()
    object = fields.Char()
    message = fields.Char()
    count = fields.Integer()
    last_seen = fields.Datetime(string="Last Seen")
