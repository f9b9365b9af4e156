# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Checkout: the App Name step, its live check, and the guards before payment.

Flow with a hosting product in the cart::

    /shop/cart -> /shop/checkout (address) -> /shop/confirm_order
      -> /shop/app_name (this step) -> [/shop/extra_info] -> /shop/payment

``/shop/payment`` and ``/shop/extra_info`` send the customer back here while
a hosting line lacks a valid, free name; creating the payment transaction
re-checks (``sale.order._check_cart_is_ready_to_be_paid``), and express
checkout is not offered for such carts.
"""

from urllib.parse import urlsplit

from odoo import _, http
from odoo.http import request

from odoo.addons.website_sale.controllers.main import WebsiteSale

from ..models.website import APP_NAME_ROUTE

#: Where /shop/confirm_order sends a cart on when its checks passed.
_AFTER_CONFIRM = ("/shop/payment", "/shop/extra_info")


def _redirects_to(response, paths):
    """True when ``response`` is a redirect to one of ``paths``."""
    location = getattr(response, "location", None)
    if not location or getattr(response, "status_code", 200) not in (301, 302, 303):
        return False
    return urlsplit(location).path in paths


class WebsiteSaleKubernetes(WebsiteSale):
    # ------------------------------------------------------------------
    # Routes
    # ------------------------------------------------------------------

    @http.route()
    def confirm_order(self, **post):
        """After the address step, go to the App Name step first."""
        response = super().confirm_order(**post)
        order = request.website.sale_get_order()
        if (
            order
            and order.state == "draft"
            and order._kubernetes_hosting_lines()
            and _redirects_to(response, _AFTER_CONFIRM)
        ):
            return request.redirect(APP_NAME_ROUTE)
        return response

    @http.route(
        [APP_NAME_ROUTE],
        type="http",
        auth="public",
        methods=["GET", "POST"],
        website=True,
        sitemap=False,
    )
    def app_name(self, **post):
        """Ask for an app name per hosting line; store them once all are valid."""
        order = request.website.sale_get_order()
        redirection = self.checkout_redirection(order) or self.checkout_check_address(
            order
        )
        if redirection:
            return redirection
        lines = order._kubernetes_hosting_lines()
        if not lines:
            return request.redirect(self._kubernetes_next_step())
        names = {line.id: line.kubernetes_app_name or "" for line in lines}
        errors = {}
        if request.httprequest.method == "POST":
            names = {line.id: post.get(f"app_name_{line.id}", "") for line in lines}
            errors = order._kubernetes_check_app_names(names)
            if not errors:
                for line in lines:
                    line.kubernetes_app_name = names[line.id]
                return request.redirect(self._kubernetes_next_step())
        return request.render(
            "website_sale_kubernetes.checkout_app_name",
            {
                "website_sale_order": order,
                "order": order,
                "hosting_lines": lines,
                "app_names": names,
                "app_name_errors": errors,
            },
        )

    @http.route(
        [f"{APP_NAME_ROUTE}/check"],
        type="json",
        auth="public",
        methods=["POST"],
        website=True,
    )
    def app_name_check(self, name=None, line_id=None, **kwargs):
        """Live check of one name for one hosting line of the visitor's cart.

        Answers ``{"valid", "problems": [{"code", "message"}], "hostname",
        "int_hostname"}``; nothing is stored.
        """
        order = request.website.sale_get_order()
        line = order and order._kubernetes_hosting_lines().filtered(
            lambda hosting_line: str(hosting_line.id) == str(line_id)
        )
        if not line:
            return {
                "valid": False,
                "problems": [
                    {
                        "code": "cart",
                        "message": _("This hosting product is not in your cart."),
                    }
                ],
                "hostname": False,
                "int_hostname": False,
            }
        domain = line._kubernetes_domain()
        problems = line._kubernetes_app_name_problems(
            name, domain, exclude_order_ids=order.ids
        )
        valid = not problems
        return {
            "valid": valid,
            "problems": [
                {"code": problem["code"], "message": problem["message"]}
                for problem in problems
            ],
            "hostname": f"{name}.{domain}" if valid else False,
            "int_hostname": f"{name}-int.{domain}" if valid else False,
        }

    @http.route()
    def extra_info(self, **post):
        return self._kubernetes_guard() or super().extra_info(**post)

    @http.route()
    def shop_payment(self, **post):
        return self._kubernetes_guard() or super().shop_payment(**post)

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def _kubernetes_guard(self):
        """Back to the App Name step while a hosting line lacks a valid name."""
        order = request.website.sale_get_order()
        if (
            order
            and order.state == "draft"
            and order._kubernetes_hosting_lines()
            and not order._kubernetes_app_names_ready()
        ):
            return request.redirect(APP_NAME_ROUTE)
        return None

    def _kubernetes_next_step(self):
        if request.website.viewref("website_sale.extra_info").active:
            return "/shop/extra_info"
        return "/shop/payment"

    def _get_express_shop_payment_values(self, order, **kwargs):
        """No express checkout for hosting: it would skip the App Name step."""
        values = super()._get_express_shop_payment_values(order, **kwargs)
        if order._kubernetes_hosting_lines():
            values["providers_sudo"] = request.env["payment.provider"].sudo()
        return values
