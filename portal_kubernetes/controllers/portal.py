# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Portal pages of the customer's apps: home tile, list, detail and Reset.

A portal user only reaches apps of their commercial partner (record rule
``kubernetes_app_rule_portal``); any other app answers 404, exactly like an
app that does not exist.
"""

from odoo import _, http
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager

from ..models.kubernetes_app import RESET_BLOCKERS


class KubernetesAppPortal(CustomerPortal):
    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "app_count" in counters:
            App = request.env["kubernetes.app"].with_context(active_test=False)
            values["app_count"] = (
                App.search_count(self._prepare_apps_domain(request.env.user.partner_id))
                if App.check_access_rights("read", raise_exception=False)
                else 0
            )
        return values

    def _prepare_apps_domain(self, partner):
        """The partner's apps, terminated (archived) ones included."""
        return [
            ("partner_id", "child_of", [partner.commercial_partner_id.id]),
            "|",
            ("active", "=", True),
            ("lifecycle", "=", "terminated"),
        ]

    def _get_apps_searchbar_sortings(self):
        return {
            "name": {"label": _("Name"), "order": "name, id"},
            "environment": {
                "label": _("Environment"),
                "order": "environment desc, name, id",
            },
            "state": {"label": _("State"), "order": "state, name, id"},
        }

    def _prepare_apps_portal_rendering_values(self, page=1, sortby=None, **kwargs):
        App = request.env["kubernetes.app"].with_context(active_test=False)
        searchbar_sortings = self._get_apps_searchbar_sortings()
        if sortby not in searchbar_sortings:
            sortby = "name"
        domain = self._prepare_apps_domain(request.env.user.partner_id)
        pager_values = portal_pager(
            url="/my/apps",
            total=App.search_count(domain),
            page=page,
            step=self._items_per_page,
            url_args={"sortby": sortby},
        )
        apps = App.search(
            domain,
            order=searchbar_sortings[sortby]["order"],
            limit=self._items_per_page,
            offset=pager_values["offset"],
        )
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "apps": apps.sudo(),
                "has_subscription": "subscription_id" in App._fields,
                "page_name": "kubernetes_app",
                "pager": pager_values,
                "default_url": "/my/apps",
                "searchbar_sortings": searchbar_sortings,
                "sortby": sortby,
            }
        )
        return values

    @http.route(
        ["/my/apps", "/my/apps/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
    )
    def portal_my_apps(self, **kwargs):
        values = self._prepare_apps_portal_rendering_values(**kwargs)
        return request.render("portal_kubernetes.portal_my_apps", values)

    def _app_check_access(self, app_id):
        """The app (sudo) if the user may read it; None otherwise."""
        try:
            return self._document_check_access("kubernetes.app", app_id)
        except (AccessError, MissingError):
            return None

    @http.route(["/my/apps/<int:app_id>"], type="http", auth="user", website=True)
    def portal_my_app(self, app_id, reset=None, reset_error=None, **kwargs):
        app_sudo = self._app_check_access(app_id)
        if app_sudo is None:
            raise request.not_found()
        blocker = app_sudo._portal_reset_blocker()
        values = {
            "kubernetes_app": app_sudo,
            "object": app_sudo,
            "page_name": "kubernetes_app",
            "reset_blocker": blocker,
            "reset_blocker_message": (
                app_sudo._portal_reset_blocker_message(blocker)
                if blocker in ("suspended", "terminated")
                else False
            ),
            "pay_url": (
                app_sudo._kubernetes_pay_url()
                if app_sudo.lifecycle_reason == "overdue"
                else False
            ),
            "reset_queued": reset == "queued",
            "reset_error": (
                app_sudo._portal_reset_blocker_message(reset_error)
                if reset_error in RESET_BLOCKERS
                else False
            ),
            "has_subscription": "subscription_id" in app_sudo._fields,
            # Set when mailgun_domain is installed: the app's sending domain.
            "has_mail_domain": "mailgun_state" in app_sudo._fields,
        }
        return request.render("portal_kubernetes.portal_my_app", values)

    @http.route(
        ["/my/apps/<int:app_id>/reset"],
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_my_app_reset(self, app_id, **kwargs):
        app_sudo = self._app_check_access(app_id)
        if app_sudo is None:
            raise request.not_found()
        blocker = app_sudo._portal_reset_blocker()
        if not blocker:
            try:
                app_sudo._portal_reset(request.env.user)
            except UserError:
                # Another request queued a deployment in between.
                blocker = app_sudo._portal_reset_blocker() or "busy"
        if blocker:
            return request.redirect(f"{app_sudo.access_url}?reset_error={blocker}")
        return request.redirect(f"{app_sudo.access_url}?reset=queued")
