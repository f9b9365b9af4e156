# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
import re
from unittest.mock import patch

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from ..controllers.portal import KubernetesAppPortal
from .common import PortalKubernetesCase


@tagged("post_install", "-at_install")
class TestPortalAccess(PortalKubernetesCase):
    def _counters(self):
        self.env.flush_all()
        return self.make_jsonrpc_request("/my/counters", {"counters": ["app_count"]})

    def _listed(self, html):
        return re.findall(r'data-app-name="([^"]+)"', html)

    def test_home_tile_counts_the_apps_of_the_own_company(self):
        self.authenticate("portal_a", "portal_a")
        self.assertEqual(self._counters(), {"app_count": 2})
        home = self._get("/my")
        self.assertEqual(home.status_code, 200)
        self.assertIn('data-placeholder_count="app_count"', home.text)
        self.assertIn('href="/my/apps"', home.text)
        self.authenticate("portal_b", "portal_b")
        self.assertEqual(self._counters(), {"app_count": 1})

    def test_home_tile_counts_nothing_without_read_access(self):
        new_test_user(self.env, login="employee", groups="base.group_user")
        self.authenticate("employee", "employee")
        self.assertEqual(self._counters(), {"app_count": 0})

    def test_list_shows_own_apps_with_environment_url_and_state(self):
        self.authenticate("portal_a", "portal_a")
        response = self._get("/my/apps")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self._listed(response.text), ["alpha", "alpha-int"])
        self.assertIn('href="https://alpha-int.mint-cloud.ch"', response.text)
        self.assertIn("Production", response.text)
        self.assertIn("Staging", response.text)
        self.assertIn(f'href="/my/apps/{self.alpha_int.id}"', response.text)
        # B's app is not listed, not even by name.
        self.assertNotIn("bravo", response.text)

    def test_list_is_sortable_and_paginated(self):
        self.authenticate("portal_a", "portal_a")
        response = self._get("/my/apps?sortby=environment")
        self.assertEqual(self._listed(response.text), ["alpha", "alpha-int"])
        self.alpha.name = "zulu"
        self.alpha_int.name = "zulu-int"
        sorted_by_name = self._listed(self._get("/my/apps?sortby=name").text)
        self.assertEqual(sorted_by_name, ["zulu", "zulu-int"])
        unknown_sort = self._listed(self._get("/my/apps?sortby=bogus").text)
        self.assertEqual(unknown_sort, ["zulu", "zulu-int"])
        with patch.object(KubernetesAppPortal, "_items_per_page", 1):
            first = self._get("/my/apps?sortby=name").text
            second = self._get("/my/apps/page/2?sortby=name").text
        self.assertEqual(self._listed(first), ["zulu"])
        self.assertEqual(self._listed(second), ["zulu-int"])
        self.assertIn("/my/apps/page/2", first)

    def test_detail_page_shows_url_environment_state_status_and_deployment(self):
        self.kube.set_ingress_address("alpha-int", "alpha")
        self.alpha_int._refresh_status()
        self.authenticate("portal_a", "portal_a")
        response = self._get(f"/my/apps/{self.alpha_int.id}")
        self.assertEqual(response.status_code, 200)
        page = response.text
        self.assertIn('href="https://alpha-int.mint-cloud.ch"', page)
        self.assertIn("Staging", page)
        self.assertIn("copy of", page)
        self.assertIn("203.0.113.10", page)
        self.assertIn("alpha-int.mint-cloud.ch", page)
        # The last deployment is the first one (create), done.
        self.assertEqual(self.alpha_int.last_deployment_id.state, "done")
        self.assertIn('class="o_kubernetes_deployment_state" data-state="done"', page)
        # An integration app offers Reset with the confirmation.
        self.assertIn("o_kubernetes_app_reset_modal", page)
        self.assertIn("neutralized copy", page)
        self.assertIn('name="csrf_token"', page)

    def test_subscription_is_shown_when_the_field_exists(self):
        if "subscription_id" not in self.env["kubernetes.app"]._fields:
            self.skipTest("website_sale_kubernetes is not installed")
        template = self.env["sale.subscription.template"].create(
            {"name": "Hosting monthly", "code": "HOSTPORTAL"}
        )
        subscription = self.env["sale.subscription"].create(
            {
                "partner_id": self.company_a.id,
                "template_id": template.id,
                "pricelist_id": self.env["product.pricelist"].search([], limit=1).id
                or self.env["product.pricelist"].create({"name": "Portal"}).id,
            }
        )
        self.alpha_int.subscription_id = subscription
        self.authenticate("portal_a", "portal_a")
        page = self._get(f"/my/apps/{self.alpha_int.id}").text
        self.assertIn("o_kubernetes_app_subscription", page)
        self.assertIn(subscription.display_name, page)
        listing = self._get("/my/apps").text
        self.assertIn("<th>Subscription</th>", listing)
        self.assertIn(subscription.display_name, listing)

    def test_other_customer_gets_404_for_list_detail_and_reset(self):
        self.authenticate("portal_b", "portal_b")
        self.assertEqual(self._listed(self._get("/my/apps").text), ["bravo"])
        before = self._deployments(self.alpha_int)
        for url in (f"/my/apps/{self.alpha_int.id}", f"/my/apps/{self.alpha.id}"):
            response = self._get(url)
            self.assertEqual(response.status_code, 404, url)
            self.assertNotIn("alpha", response.text)
        response = self._post_reset(self.alpha_int)
        self.assertEqual(response.status_code, 404)
        self.assertNotIn("alpha", response.text)
        self.assertEqual(self._deployments(self.alpha_int), before)
        # A missing app answers the same.
        missing = self.alpha_int.id + 100000
        self.assertEqual(self._get(f"/my/apps/{missing}").status_code, 404)

    def test_public_visitor_is_sent_to_login(self):
        for url in ("/my/apps", f"/my/apps/{self.alpha_int.id}", "/my/apps/page/2"):
            response = self._get(url)
            self.assertEqual(response.status_code, 303, url)
            self.assertIn("/web/login", response.headers["Location"])

    def test_record_rules_limit_portal_users_to_their_company(self):
        App = self.env["kubernetes.app"]
        apps_a = App.with_user(self.user_a).search([])
        self.assertEqual(apps_a, self.alpha | self.alpha_int)
        self.assertEqual(App.with_user(self.user_b).search([]), self.bravo)
        deployments = self.env["kubernetes.deployment"].with_user(self.user_b)
        self.assertEqual(deployments.search([]).app_id, self.bravo)
        with self.assertRaises(AccessError):
            self.alpha.with_user(self.user_b).read(["name"])
        with self.assertRaises(AccessError):
            self.alpha_int.with_user(self.user_a).write({"name": "alpha-x"})
        # Operators keep their backend access to every app.
        operator = new_test_user(
            self.env,
            login="operator",
            groups="base.group_user,kubernetes_manifest.group_kubernetes_user",
        )
        self.assertEqual(
            App.with_user(operator).search([("id", "in", self.apps.ids)]), self.apps
        )

    def test_pages_are_translated_to_german(self):
        self.env["res.lang"]._activate_lang("de_DE")
        self.env["ir.module.module"]._load_module_terms(
            ["portal_kubernetes"], ["de_DE"], overwrite=True
        )
        if "website" in self.env:
            lang = self.env["res.lang"]._lang_get("de_DE")
            self.env["website"].search([]).language_ids |= lang
        self.user_a.lang = "de_DE"
        self.authenticate("portal_a", "portal_a")
        self.env.flush_all()
        # The language is put into the URL (/de/...): follow the redirect.
        response = self.url_open(f"/my/apps/{self.alpha_int.id}")
        self.assertEqual(response.status_code, 200)
        page = response.text
        self.assertIn("Staging-App zurücksetzen?", page)
        self.assertIn("neutralisierte Kopie der Produktions-App", page)
        self.assertIn("Alle Daten der Staging-App gehen verloren.", page)

    def test_access_url_is_the_portal_page(self):
        self.assertEqual(self.alpha_int.access_url, f"/my/apps/{self.alpha_int.id}")
