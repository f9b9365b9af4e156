# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The "App Name" checkout step, between Shipping and (Extra Info or) Payment."""

from odoo import _lt, models
from odoo.http import request

APP_NAME_STEP = "website_sale_kubernetes.checkout_app_name"
APP_NAME_ROUTE = "/shop/app_name"
SHIPPING_STEP = "website_sale.checkout"
EXTRA_INFO_STEP = "website_sale.extra_info"


class Website(models.Model):
    _inherit = "website"

    def _get_checkout_steps(self, current_step=None):
        """Insert the App Name step when the cart holds a hosting product."""
        steps = super()._get_checkout_steps()
        if current_step == APP_NAME_STEP or self._kubernetes_cart_has_hosting():
            steps = self._kubernetes_with_app_name_step(steps)
        if current_step:
            return next(step for step in steps if current_step in step[0])[1]
        return steps

    def _kubernetes_with_app_name_step(self, steps):
        """``steps`` with the App Name step after Shipping."""
        extra_info = self.viewref(EXTRA_INFO_STEP).active
        app_name_step = (
            [APP_NAME_STEP],
            {
                "name": _lt("App Name"),
                "current_href": APP_NAME_ROUTE,
                "main_button": _lt("Continue checkout"),
                "main_button_href": "/shop/extra_info"
                if extra_info
                else "/shop/payment",
                "back_button": _lt("Return to shipping"),
                "back_button_href": "/shop/checkout",
            },
        )
        result = []
        for xmlids, values in steps:
            values = dict(values)
            if SHIPPING_STEP in xmlids:
                # /shop/confirm_order leads on to the App Name step.
                values["main_button_href"] = "/shop/confirm_order"
            elif EXTRA_INFO_STEP in xmlids:
                values["back_button_href"] = APP_NAME_ROUTE
            result.append((xmlids, values))
            if SHIPPING_STEP in xmlids:
                result.append(app_name_step)
        return result

    def _kubernetes_cart_has_hosting(self):
        """True when the visitor's current cart holds a hosting product."""
        if not request or not getattr(request, "session", None):
            return False
        order = self.sale_get_order()
        return bool(order and order._kubernetes_hosting_lines())
