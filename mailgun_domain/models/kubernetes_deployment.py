# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Hooks: a finished deployment may queue the app's invitation and the
domain's verification."""

from odoo import models

SUCCEEDED = ("done", "dry_run")


class KubernetesDeployment(models.Model):
    _inherit = "kubernetes.deployment"

    def _run(self):
        """Run; after a success tell the app."""
        result = super()._run()
        if self.trigger != "status" and self.state in SUCCEEDED:
            self.app_id._mailgun_deployment_succeeded(self)
        return result
