# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The customer's own domains on the app's portal page: add, check, make
primary, remove (and, with mailgun_domain, send mail from one).

Every route first checks that the user may read the app (else 404, like an
app that does not exist) and that the domain is one of the app's; only then
is the domain changed with sudo.  A DNS check is never run in the request:
*Check now* queues it and the page reloads until it has run.
"""

from werkzeug.urls import url_encode

from odoo import http
from odoo.exceptions import UserError
from odoo.http import request

from ..models.kubernetes_app_domain import ADD_BLOCKERS
from .portal import KubernetesAppPortal

ANCHOR = "#o_kubernetes_app_domains"


class KubernetesAppDomainPortal(KubernetesAppPortal):
    @http.route()
    def portal_my_app(
        self,
        app_id,
        domain_error=None,
        domain_name=None,
        domain_done=None,
        **kwargs,
    ):
        response = super().portal_my_app(app_id, **kwargs)
        app_sudo = getattr(response, "qcontext", {}).get("kubernetes_app")
        if app_sudo is not None:
            response.qcontext.update(
                self._prepare_app_domain_values(
                    app_sudo, domain_error, domain_name, domain_done
                )
            )
        return response

    def _prepare_app_domain_values(self, app_sudo, error, name, done):
        Domain = request.env["kubernetes.app.domain"]
        domains = app_sudo.custom_domain_ids
        return {
            "custom_domains": domains,
            "custom_domain_limit": app_sudo._custom_domain_limit(),
            "custom_domain_blocker": Domain._portal_add_blocker(app_sudo),
            "custom_domain_error": (
                Domain._portal_error_message(error, app_sudo, name)
                if error in ADD_BLOCKERS
                else False
            ),
            "custom_domain_input": name if error == "invalid" else "",
            "custom_domain_done": done
            if done in ("added", "check", "primary", "removed", "mail")
            else False,
            "custom_domain_checking": any(domains.mapped("dns_check_queued")),
        }

    def _app_domain(self, app_id, domain_id):
        """``(app, domain)`` with sudo if the user may read the app and the
        domain is one of its own; else a 404."""
        app_sudo = self._app_check_access(app_id)
        if app_sudo is None:
            raise request.not_found()
        domain_sudo = app_sudo.custom_domain_ids.filtered(lambda d: d.id == domain_id)
        if not domain_sudo:
            raise request.not_found()
        return app_sudo, domain_sudo

    def _back(self, app_sudo, **params):
        query = "&".join(f"{key}={value}" for key, value in params.items())
        return request.redirect(f"{app_sudo.access_url}?{query}{ANCHOR}")

    @http.route(
        ["/my/apps/<int:app_id>/domains/add"],
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_my_app_domain_add(self, app_id, name=None, **kwargs):
        app_sudo = self._app_check_access(app_id)
        if app_sudo is None:
            raise request.not_found()
        Domain = request.env["kubernetes.app.domain"]
        domain, error = Domain._portal_add(app_sudo, request.env.user, name or "")
        if error:
            url = f"{app_sudo.access_url}?domain_error={error}"
            if error == "invalid":
                url += "&" + url_encode({"domain_name": name or ""})
            return request.redirect(url + ANCHOR)
        return self._back(app_sudo, domain_done="added")

    @http.route(
        ["/my/apps/<int:app_id>/domains/<int:domain_id>/check"],
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_my_app_domain_check(self, app_id, domain_id, **kwargs):
        app_sudo, domain_sudo = self._app_domain(app_id, domain_id)
        domain_sudo._enqueue_check()
        return self._back(app_sudo, domain_done="check")

    @http.route(
        ["/my/apps/<int:app_id>/domains/<int:domain_id>/primary"],
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_my_app_domain_primary(self, app_id, domain_id, unset=None, **kwargs):
        app_sudo, domain_sudo = self._app_domain(app_id, domain_id)
        try:
            if unset:
                domain_sudo.action_unset_primary()
            else:
                domain_sudo.action_make_primary()
        except UserError:
            return self._back(app_sudo)
        return self._back(app_sudo, domain_done="primary")

    @http.route(
        ["/my/apps/<int:app_id>/domains/<int:domain_id>/remove"],
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_my_app_domain_remove(self, app_id, domain_id, **kwargs):
        app_sudo, domain_sudo = self._app_domain(app_id, domain_id)
        domain_sudo.unlink()
        return self._back(app_sudo, domain_done="removed")

    @http.route(
        ["/my/apps/<int:app_id>/domains/<int:domain_id>/mail"],
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_my_app_domain_mail(self, app_id, domain_id, stop=None, **kwargs):
        app_sudo, domain_sudo = self._app_domain(app_id, domain_id)
        if not domain_sudo._mail_sender_info():
            raise request.not_found()
        try:
            domain_sudo._use_for_mail(not stop)
        except UserError:
            return self._back(app_sudo)
        return self._back(app_sudo, domain_done="mail")
