# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Custom domains in the portal: what a customer may do with their app's
domains, checked on the app they may read, then done with sudo."""

from odoo import _, api, models
from odoo.exceptions import UserError, ValidationError

from mintcloud.domains import domain_problems

#: Why a customer cannot add a domain now (the key a refused request shows).
ADD_BLOCKERS = ("staging", "terminated", "limit", "unavailable", "invalid")


class KubernetesAppDomain(models.Model):
    _inherit = "kubernetes.app.domain"

    @api.model
    def _portal_add_blocker(self, app):
        """Why ``app`` (sudo) takes no new domain from its customer, or False."""
        if app.environment != "prod":
            return "staging"
        if app.lifecycle in ("terminating", "terminated"):
            return "terminated"
        limit = app._custom_domain_limit()
        if limit <= 0:
            return "unavailable"
        if len(app.custom_domain_ids) >= limit:
            return "limit"
        return False

    @api.model
    def _portal_error_message(self, code, app, name=None):
        """The sentence a refused request shows (``code``: ADD_BLOCKERS)."""
        if code == "invalid":
            problems = domain_problems(
                name,
                base_domains=self._base_domains(),
                taken=lambda n: bool(
                    self.sudo().search_count([("name", "=", n)], limit=1)
                ),
            )
            if problems:
                return self._problems_text(name, problems)
            return _("%(domain)s cannot be added.", domain=name or "-")
        messages = {
            "staging": _("Only the production app can have its own domains."),
            "terminated": _("This app is terminated: it gets no new domains."),
            "limit": _(
                "This app has %(count)s domains already, the most your plan "
                "allows: remove one to add another.",
                count=len(app.custom_domain_ids),
            ),
            "unavailable": _(
                "Your own domains are not part of your plan; please contact us."
            ),
        }
        return messages.get(code)

    @api.model
    def _portal_add(self, app, user, name):
        """Add domain ``name`` to ``app`` on behalf of portal ``user``.

        ``user`` must be allowed to read the app (the portal rule); the
        domain is then created with sudo.  Returns ``(domain, error code)``.
        """
        as_user = app.with_user(user)
        as_user.check_access_rights("read")
        as_user.check_access_rule("read")
        app = app.sudo()
        blocker = self._portal_add_blocker(app)
        if blocker:
            return self.browse(), blocker
        try:
            with self.env.cr.savepoint():
                domain = self.sudo().create({"app_id": app.id, "name": name})
        except (ValidationError, UserError):
            return self.browse(), "invalid"
        return domain, False
