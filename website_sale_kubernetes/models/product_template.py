# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from mintcloud.appvars import lines_to_variables


class ProductTemplate(models.Model):
    _inherit = "product.template"

    kubernetes_hosting = fields.Boolean(
        string="Kubernetes Hosting",
        help="Selling this subscription product creates a production app and "
        "its integration copy on the cluster; the customer picks the app name "
        "at checkout.",
    )
    kubernetes_cluster_id = fields.Many2one(
        "kubernetes.cluster",
        string="Cluster",
        ondelete="restrict",
        help="The apps of this product run on this cluster; its base domain "
        "makes their host names.",
    )
    kubernetes_domain = fields.Char(
        related="kubernetes_cluster_id.domain", string="Base Domain"
    )
    kubernetes_manifest_line_ids = fields.One2many(
        "product.kubernetes.manifest",
        "product_tmpl_id",
        string="Manifests",
        help="Deploy manifests make up each app, in this order; reset "
        "manifests are given to the integration app; backup manifests take "
        "the final backup before an app is terminated.",
    )
    kubernetes_grace_days = fields.Integer(
        string="Suspend After Overdue (days)",
        default=14,
        help="The apps are suspended when an invoice of the subscription is "
        "still unpaid this many days after its due date; 0 never suspends "
        "for overdue payment.",
    )
    kubernetes_terminate_after_days = fields.Integer(
        string="Terminate After Closing (days)",
        default=30,
        help="The apps of a closed subscription are suspended at once and "
        "terminated (after a final backup) this many days after closing.",
    )
    kubernetes_notice_days = fields.Integer(
        string="Notice (days)",
        default=3,
        help="The customer gets a mail this many days before an overdue "
        "suspension and before a termination.",
    )
    kubernetes_max_custom_domains = fields.Integer(
        string="Custom Domains per App",
        default=3,
        help="How many of their own domains (erp.customer.com) a customer may "
        "add to the production app; 0: none.",
    )
    kubernetes_variable_ids = fields.One2many(
        "product.kubernetes.variable",
        "product_tmpl_id",
        string="Default Variables",
    )

    @api.constrains("kubernetes_hosting", "kubernetes_cluster_id", "subscribable")
    def _check_kubernetes_hosting(self):
        for product in self.sudo().filtered("kubernetes_hosting"):
            if not product.subscribable:
                raise ValidationError(
                    _(
                        "Hosting product %(name)s must be a subscription product "
                        "(Subscribable).",
                        name=product.name,
                    )
                )
            if not product.kubernetes_cluster_id:
                raise ValidationError(
                    _("Hosting product %(name)s needs a cluster.", name=product.name)
                )

    @api.constrains("kubernetes_max_custom_domains")
    def _check_kubernetes_max_custom_domains(self):
        for product in self:
            if product.kubernetes_max_custom_domains < 0:
                raise ValidationError(
                    _("The number of custom domains per app cannot be negative.")
                )

    @api.onchange("kubernetes_hosting")
    def _onchange_kubernetes_hosting(self):
        if self.kubernetes_hosting:
            self.detailed_type = "service"
            self.subscribable = True

    def _kubernetes_manifests(self, kind):
        """The product's manifest lines of ``kind`` (deploy, reset, backup), in order."""
        self.ensure_one()
        lines = self.sudo().kubernetes_manifest_line_ids
        return lines.filtered(lambda line: line.manifest_id.kind == kind)

    def _kubernetes_variable_defaults(self):
        """The default variables (secrets marked), generated ones left out."""
        self.ensure_one()
        return lines_to_variables(self.sudo().kubernetes_variable_ids._default_lines())

    def _subscription_period_label(self):
        """The recurring period shown next to the price of a subscribable
        product: "/ month" for every month, "every 3 months" for a longer
        interval; "" for a product without a subscription template."""
        self.ensure_one()
        template = self.sudo().subscription_template_id
        if not self.subscribable or not template:
            return ""
        count = max(template.recurring_interval, 1)
        if count == 1:
            labels = {
                "days": _("/ day"),
                "weeks": _("/ week"),
                "months": _("/ month"),
                "years": _("/ year"),
            }
        else:
            labels = {
                "days": _("every %(count)s days", count=count),
                "weeks": _("every %(count)s weeks", count=count),
                "months": _("every %(count)s months", count=count),
                "years": _("every %(count)s years", count=count),
            }
        return labels.get(template.recurring_rule_type, "")
