# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Apps in the customer portal: their page and the customer's Reset."""

from odoo import _, models
from odoo.exceptions import UserError

#: Why a customer cannot reset an app now (the key a refused request shows).
RESET_BLOCKERS = ("production", "unavailable", "busy")


class KubernetesApp(models.Model):
    _name = "kubernetes.app"
    _inherit = ["kubernetes.app", "portal.mixin"]

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
        if not app.reset_manifest_ids.filtered("active"):
            return "unavailable"
        if app._busy_deployments():
            return "busy"
        return False

    def _portal_reset_blocker_message(self, blocker):
        messages = {
            "production": _("Only the staging app can be reset."),
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
