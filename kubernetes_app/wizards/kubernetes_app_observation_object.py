# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import fields, models


class KubernetesAppObservationObject(models.TransientModel):
    _name = "kubernetes.app.observation.object"
    _description = "Kubernetes Object of an App Observation"
    _order = "sequence, id"

    observation_id = fields.Many2one(
        "kubernetes.app.observation", required=True, ondelete="cascade"
    )
    sequence = fields.Integer()
    kind = fields.Char()
    name = fields.Char()
    ready = fields.Char(string="Ready", help="Ready of desired replicas, or done Jobs.")
    status = fields.Char()
    age = fields.Char()
    conditions = fields.Char(string="Latest Conditions")
    problem = fields.Boolean()
