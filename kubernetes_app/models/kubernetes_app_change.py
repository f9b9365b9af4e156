# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Changes of the values an app's manifests render outside its variables
(its verified custom domains, its Mailgun credentials or DNS records).

Insert-only on purpose: a running deployment holds its app's row for the
whole run, so a counter on the app would make every such change (a Mailgun
registration, a domain verified in a request) wait for it and then fail to
serialize.  Inserting a row here only takes a key-share lock on the app.
A change's id is its version; a deployment notes the highest id its own
transaction sees (:meth:`_seen`), i.e. the changes it rendered.
"""

from odoo import api, fields, models


class KubernetesAppChange(models.Model):
    _name = "kubernetes.app.change"
    _description = "Kubernetes App Change"
    _order = "id desc"

    app_id = fields.Many2one(
        "kubernetes.app", required=True, ondelete="cascade", index=True
    )
    note = fields.Char()

    @api.model
    def _seen(self, app):
        """The version of ``app``'s values this transaction sees (0: none)."""
        self.env.cr.execute(
            "SELECT COALESCE(max(id), 0) FROM kubernetes_app_change WHERE app_id = %s",
            (app.id,),
        )
        return self.env.cr.fetchone()[0]
