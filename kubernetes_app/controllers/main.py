# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Download of an app's Ansible ``vars.yml`` (Action > Export to YAML)."""

from werkzeug.exceptions import Forbidden, NotFound

from odoo import http
from odoo.exceptions import AccessError
from odoo.http import content_disposition, request


class KubernetesAppController(http.Controller):
    @http.route(
        "/kubernetes/app/<int:app_id>/vars.yml",
        type="http",
        auth="user",
        methods=["GET"],
    )
    def app_vars_yml(self, app_id, **kwargs):
        """The app's variables as ``vars.yml``: secrets for managers only."""
        app = request.env["kubernetes.app"].browse(app_id)
        try:
            app.check_access_rights("read")
            if not app.exists():
                raise NotFound()
            app.check_access_rule("read")
        except AccessError:
            raise Forbidden() from None
        text = app._vars_yml()
        return request.make_response(
            text.encode("utf-8"),
            headers=[
                ("Content-Type", "application/yaml; charset=utf-8"),
                ("Content-Disposition", content_disposition(f"{app.name}-vars.yml")),
                ("Cache-Control", "no-store"),
                ("X-Content-Type-Options", "nosniff"),
            ],
        )
