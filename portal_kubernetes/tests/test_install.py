# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestPortalStillWorks(HttpCase):
    def test_my_home_sends_visitor_to_login_and_opens_for_portal_user(self):
        response = self.url_open("/my", allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertIn("/web/login", response.headers["Location"])
        new_test_user(self.env, login="portal_mint", groups="base.group_portal")
        self.authenticate("portal_mint", "portal_mint")
        response = self.url_open("/my", allow_redirects=False)
        self.assertEqual(response.status_code, 200)
