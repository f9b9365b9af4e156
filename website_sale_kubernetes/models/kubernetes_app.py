# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo import api, fields, models

from mintcloud.variables import Variables, generate_secret

from .product_kubernetes_variable import GENERATED_LENGTH


class KubernetesApp(models.Model):
    _inherit = "kubernetes.app"

    product_id = fields.Many2one(
        "product.product",
        string="Product",
        ondelete="restrict",
        index=True,
        tracking=True,
        help="The hosting product this app was sold as: its default variables "
        "apply to the app.",
    )
    subscription_id = fields.Many2one(
        "sale.subscription", string="Subscription", ondelete="set null", index=True
    )
    sale_line_id = fields.Many2one(
        "sale.order.line",
        string="Order Line",
        ondelete="set null",
        index=True,
        copy=False,
        readonly=True,
    )
    sale_order_id = fields.Many2one(
        related="sale_line_id.order_id", string="Sales Order", store=True
    )

    _sql_constraints = [
        (
            "sale_line_environment_uniq",
            "unique(sale_line_id, environment)",
            "An order line creates one production and one integration app only.",
        ),
    ]

    @api.onchange("product_id")
    def _onchange_product_id(self):
        product = self.product_id.product_tmpl_id
        if not product.kubernetes_hosting:
            return
        if product.kubernetes_cluster_id:
            self.cluster_id = product.kubernetes_cluster_id
        if not self.manifest_line_ids:
            self.manifest_line_ids = [
                fields.Command.create(
                    {"sequence": line.sequence, "manifest_id": line.manifest_id.id}
                )
                for line in product._kubernetes_manifests("deploy")
            ]

    def _get_variable_defaults(self):
        """The product's default variables, under those of other modules."""
        defaults = super()._get_variable_defaults()
        product = self.sudo().product_id.product_tmpl_id
        if not product:
            return defaults
        merged = product._kubernetes_variable_defaults()
        layer = defaults if isinstance(defaults, Variables) else Variables(defaults)
        for name, value in layer.items():
            merged.set(name, value, secret=layer.is_secret(name))
        return merged

    def _create_generated_secrets(self):
        """Also generate the product's "generate per app" secrets, once per app."""
        result = super()._create_generated_secrets()
        values = []
        for app in self.sudo().filtered("product_id"):
            existing = set(app.variable_ids.mapped("name"))
            for variable in app.product_id.product_tmpl_id.kubernetes_variable_ids:
                if variable.generate and variable.name not in existing:
                    values.append(
                        {
                            "app_id": app.id,
                            "name": variable.name,
                            "secret": True,
                            "secret_value": generate_secret(GENERATED_LENGTH),
                            "source": "default",
                        }
                    )
        if values:
            self.env["kubernetes.app.variable"].sudo().create(values)
        return result

    def _custom_domain_limit(self):
        """The app's product says how many custom domains it may have."""
        product = self.sudo().product_id.product_tmpl_id
        if product.kubernetes_hosting:
            return product.kubernetes_max_custom_domains
        return super()._custom_domain_limit()

    def _kubernetes_pay_url(self):
        """The portal page of the oldest overdue invoice of the subscription."""
        url = super()._kubernetes_pay_url()
        if url or not self.subscription_id:
            return url
        invoice = self.subscription_id._kubernetes_overdue_invoices()[:1]
        return invoice.get_base_url() + invoice.get_portal_url() if invoice else False
