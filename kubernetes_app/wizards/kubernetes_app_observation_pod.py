# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import fields, models


class KubernetesAppObservationPod(models.TransientModel):
    """One container (or init container) of a pod of an app, as last read."""

    _name = "kubernetes.app.observation.pod"
    _description = "Kubernetes Pod Container of an App Observation"
    _order = "sequence, id"

    observation_id = fields.Many2one(
        "kubernetes.app.observation", required=True, ondelete="cascade"
    )
    app_id = fields.Many2one(related="observation_id.app_id")
    sequence = fields.Integer()
    pod = fields.Char()
    phase = fields.Char()
    pod_status = fields.Char(string="Pod Status")
    age = fields.Char()
    container = fields.Char()
    is_init = fields.Boolean(string="Init Container")
    ready = fields.Boolean()
    restarts = fields.Integer()
    state = fields.Char()
    last_reason = fields.Char(string="Last Termination")
    last_finished = fields.Datetime(string="Last Terminated On")
    message = fields.Char()
    problem = fields.Boolean(
        help="The container cannot run, failed, or was restarted after a crash."
    )

    def action_logs(self):
        """Open the last lines of this container's log in a dialog."""
        self.ensure_one()
        wizard = self.env["kubernetes.app.log"].create(
            {
                "app_id": self.app_id.id,
                "pod": self.pod,
                "container": self.container,
            }
        )
        wizard._read_log()
        return wizard._action()
