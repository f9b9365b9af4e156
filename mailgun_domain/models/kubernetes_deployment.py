# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Hooks: a deployment notes the Mailgun values it renders; a finished one
may queue the app's invitation and the domain's verification."""

from odoo import fields, models

SUCCEEDED = ("done", "dry_run")


class KubernetesDeployment(models.Model):
    _inherit = "kubernetes.deployment"

    mailgun_vars_version = fields.Integer(
        readonly=True,
        copy=False,
        help="Version of the app's Mailgun values (SMTP credentials, DNS "
        "records) this deployment rendered.",
    )

    def _run(self):
        """Note the Mailgun values' version, run; after a success tell the app.

        The version is read in the deployment's own transaction, so it is
        the one its variables come from.
        """
        if self.trigger != "status":
            self.mailgun_vars_version = (
                self.app_id.sudo().mailgun_domain_id.vars_version
            )
        result = super()._run()
        if self.trigger != "status" and self.state in SUCCEEDED:
            self.app_id._mailgun_deployment_succeeded(self)
        return result
