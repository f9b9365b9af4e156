# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""A manifest says how many apps run an older revision of it, and rolls it out."""

from odoo import _, api, fields, models


class KubernetesManifest(models.Model):
    _inherit = "kubernetes.manifest"

    outdated_app_count = fields.Integer(
        string="Outdated Apps",
        compute="_compute_outdated_app_count",
        help="Apps whose last successful deployment rendered another revision "
        "of this manifest.",
    )

    @api.depends("sha256", "kind")
    def _compute_outdated_app_count(self):
        for manifest in self:
            manifest.outdated_app_count = len(manifest._outdated_apps())

    def _outdated_apps(self):
        """The apps that run another revision of this manifest."""
        self.ensure_one()
        if not self.id or self.kind != "deploy":
            return self.env["kubernetes.app"]
        apps = self.env["kubernetes.app"].search(
            [
                ("is_outdated", "=", True),
                ("manifest_line_ids.manifest_id", "=", self.id),
            ]
        )
        return apps.filtered(lambda app: self in app._outdated_manifests())

    def action_view_outdated_apps(self):
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id(
            "kubernetes_app.kubernetes_app_action"
        )
        action["domain"] = [("id", "in", self._outdated_apps().ids)]
        action["name"] = _("Apps outdated by %(name)s", name=self.name)
        return action

    def action_new_rollout(self):
        """A new rollout of this manifest: by default to every outdated app."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Roll out %(name)s", name=self.name),
            "res_model": "kubernetes.rollout",
            "view_mode": "form",
            "target": "current",
            "context": {"default_manifest_id": self.id},
        }
