# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Apps in the customer portal: their page and the customer's Reset."""

from odoo import _, api, fields, models
from odoo.exceptions import UserError

#: Why a customer cannot reset an app now (the key a refused request shows).
RESET_BLOCKERS = ("production", "suspended", "terminated", "unavailable", "busy")


class KubernetesApp(models.Model):
    _name = "kubernetes.app"
    _inherit = ["kubernetes.app", "portal.mixin"]

    reset_customer_message = fields.Char(
        string="Reset Progress for the Customer",
        compute="_compute_reset_customer_message",
        help="The reset Job's progress and failure reason in the customer's "
        "words (never a raw message of the cluster).",
    )

    @api.depends(
        "reset_state",
        "reset_job_name",
        "reset_step",
        "reset_step_total",
        "reset_step_name",
        "reset_step_job",
        "reset_failure",
    )
    def _compute_reset_customer_message(self):
        steps = {
            "copy-database": _("copying the production database"),
            "copy-filestore": _("copying the files"),
            "neutralize": _(
                "making the copy safe: no e-mails, no scheduled actions, no payments"
            ),
            "verify": _("checking the copy"),
        }
        failures = dict(self._fields["reset_failure"]._description_selection(self.env))
        for app in self:
            current = (
                bool(app.reset_step_job) and app.reset_step_job == app.reset_job_name
            )
            step = app.reset_step if current else 0
            words = {
                "step": step,
                "total": app.reset_step_total,
                "what": steps.get(app.reset_step_name) or _("step %(step)s", step=step),
                "why": failures.get(app.reset_failure) or failures["error"],
            }
            if app.reset_state == "queued":
                message = _("The reset is queued and starts in a moment.")
            elif app.reset_state == "running" and step:
                message = _("Step %(step)s of %(total)s: %(what)s.", **words)
            elif app.reset_state == "running":
                message = _("The reset is starting.")
            elif app.reset_state == "succeeded":
                message = _("Done: the staging app is a fresh copy of production.")
            elif app.reset_state == "failed" and step:
                message = _(
                    "The reset stopped at step %(step)s of %(total)s (%(what)s): "
                    "%(why)s. Please try again; if it fails again, contact us.",
                    **words,
                )
            elif app.reset_state == "failed":
                message = _(
                    "The reset could not be completed. Please try again; if it "
                    "fails again, contact us."
                )
            else:
                message = False
            app.reset_customer_message = message

    def _compute_access_url(self):
        super()._compute_access_url()
        for app in self:
            app.access_url = f"/my/apps/{app.id}"

    def _portal_reset_blocker(self):
        """Why this app cannot be reset from the portal now, or False.

        One of :data:`RESET_BLOCKERS`: a production app is never reset, an
        app without active reset manifests cannot be, and a queued or
        running deployment must finish first.
        """
        self.ensure_one()
        app = self.sudo()
        if app.environment != "int":
            return "production"
        if app.lifecycle in ("terminating", "terminated"):
            return "terminated"
        if app.lifecycle == "suspended":
            return "suspended"
        if not app.reset_manifest_ids.filtered("active"):
            return "unavailable"
        if app._busy_deployments():
            return "busy"
        return False

    def _portal_reset_blocker_message(self, blocker):
        messages = {
            "production": _("Only the staging app can be reset."),
            "suspended": _(
                "This app is suspended: it can be reset again once it runs."
            ),
            "terminated": _("This app is terminated: it cannot be reset."),
            "unavailable": _(
                "This app cannot be reset from the portal; please contact us."
            ),
            "busy": _(
                "A deployment of this app is queued or running; wait until it "
                "has finished."
            ),
        }
        return messages[blocker]

    def _portal_reset(self, user):
        """Queue a reset of this integration app on behalf of portal ``user``.

        ``user`` must be allowed to read the app (the portal rule: the app
        belongs to their commercial partner); the reset itself is the
        operator's Reset, run with sudo.  Posts "Reset requested by …" in
        the app's chatter.  Raises AccessError or UserError; returns the
        reset deployment.
        """
        self.ensure_one()
        as_user = self.with_user(user)
        as_user.check_access_rights("read")
        as_user.check_access_rule("read")
        blocker = self._portal_reset_blocker()
        if blocker:
            raise UserError(self._portal_reset_blocker_message(blocker))
        app_sudo = self.sudo()
        app_sudo.action_reset()
        app_sudo.message_post(
            body=_("Reset requested by %(name)s", name=user.name),
            author_id=user.partner_id.id,
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )
        return app_sudo.reset_deployment_id
