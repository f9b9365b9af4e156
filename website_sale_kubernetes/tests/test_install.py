# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestShopStillWorks(HttpCase):
    def test_shop_renders_with_subscription_and_kubernetes_installed(self):
        response = self.url_open("/shop", allow_redirects=False)
        self.assertEqual(response.status_code, 200)
        modules = self.env["ir.module.module"].search(
            [("name", "in", ["subscription_oca", "kubernetes_app"])]
        )
        self.assertEqual(set(modules.mapped("state")), {"installed"})
