# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The customer's own domains in the portal: add, records, check, primary,
remove; and customer B can neither see nor change A's domains."""

import re

from odoo import http
from odoo.tests import tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from .common import PortalKubernetesCase


@tagged("post_install", "-at_install")
class TestPortalDomains(PortalKubernetesCase):
    def _post(self, url, **data):
        data["csrf_token"] = http.Request.csrf_token(self)
        self.env.flush_all()
        response = self.url_open(url, data=data, allow_redirects=False)
        self.env.invalidate_all()
        return response

    def _add(self, app, name, **kwargs):
        return self._post(f"/my/apps/{app.id}/domains/add", name=name, **kwargs)

    def _domains(self, app):
        return self.env["kubernetes.app.domain"].search([("app_id", "=", app.id)])

    def _listed(self, html):
        return re.findall(
            r'class="list-group-item o_kubernetes_app_domain"[^>]*data-domain="([^"]+)"',
            html,
        )

    def test_customer_adds_a_domain_and_sees_the_records_to_create(self):
        self.authenticate("portal_a", "portal_a")
        page = self._get(self.alpha.access_url).text
        self.assertIn("Your own domains", page)
        self.assertIn("o_kubernetes_app_domain_add", page)
        response = self._add(self.alpha, "ERP.Alpha-Example.com")
        self.assertEqual(response.status_code, 303)
        self.assertIn("domain_done=added", response.headers["Location"])
        domain = self._domains(self.alpha)
        self.assertEqual(domain.name, "erp.alpha-example.com")
        self.assertEqual(domain.state, "pending")
        page = self._get(response.headers["Location"]).text
        self.assertEqual(self._listed(page), ["erp.alpha-example.com"])
        self.assertIn("alpha.mint-cloud.ch", page)
        self.assertIn(f"mint-cloud-verification={domain.token}", page)
        self.assertIn("_mint-cloud-challenge.erp.alpha-example.com", page)
        self.assertIn('data-type="CNAME"', page)
        message = self.alpha.message_ids.filtered(
            lambda m: "erp.alpha-example.com added" in (m.body or "")
        )
        self.assertEqual(message.author_id, self.user_a.partner_id)

    def test_invalid_domain_is_refused_with_the_reason(self):
        self.authenticate("portal_a", "portal_a")
        response = self._add(self.alpha, "beta.mint-cloud.ch")
        self.assertEqual(response.status_code, 303)
        location = response.headers["Location"]
        self.assertIn("domain_error=invalid", location)
        page = self._get(location).text
        self.assertIn("o_kubernetes_app_domain_error", page)
        self.assertIn("the platform&#39;s own domain", page)
        self.assertIn('value="beta.mint-cloud.ch"', page)
        self.assertFalse(self._domains(self.alpha))

    def test_staging_app_and_limit(self):
        self.authenticate("portal_a", "portal_a")
        page = self._get(self.alpha_int.access_url).text
        self.assertNotIn("o_kubernetes_app_domains", page)
        response = self._add(self.alpha_int, "staging.alpha-example.com")
        self.assertIn("domain_error=staging", response.headers["Location"])
        self.assertFalse(self._domains(self.alpha_int))
        for index in range(3):
            self._add(self.alpha, f"d{index}.alpha-example.com")
        response = self._add(self.alpha, "d3.alpha-example.com")
        self.assertIn("domain_error=limit", response.headers["Location"])
        page = self._get(response.headers["Location"]).text
        self.assertIn("o_kubernetes_app_domain_limit", page)
        self.assertNotIn('class="o_kubernetes_app_domain_add"', page)
        self.assertEqual(len(self._domains(self.alpha)), 3)

    def test_check_now_is_queued_and_the_page_reloads(self):
        domain = self.env["kubernetes.app.domain"].create(
            {"app_id": self.alpha.id, "name": "erp.alpha-example.com"}
        )
        self.authenticate("portal_a", "portal_a")
        with trap_jobs() as trap:
            response = self._post(f"/my/apps/{self.alpha.id}/domains/{domain.id}/check")
            trap.assert_jobs_count(1, only=domain._job_check_dns)
        self.assertEqual(response.status_code, 303)
        page = self._get(response.headers["Location"]).text
        self.assertIn("o_kubernetes_app_domain_checking", page)
        self.assertIn("o_kubernetes_app_busy", page)

    def test_customer_removes_a_domain(self):
        domain = self.env["kubernetes.app.domain"].create(
            {"app_id": self.alpha.id, "name": "erp.alpha-example.com"}
        )
        self.authenticate("portal_a", "portal_a")
        page = self._get(self.alpha.access_url).text
        self.assertIn(f"o_kubernetes_app_domain_remove_{domain.id}", page)
        response = self._post(f"/my/apps/{self.alpha.id}/domains/{domain.id}/remove")
        self.assertEqual(response.status_code, 303)
        self.assertFalse(domain.exists())

    def test_customer_makes_a_verified_domain_primary(self):
        domain = self.env["kubernetes.app.domain"].create(
            {"app_id": self.alpha.id, "name": "erp.alpha-example.com"}
        )
        with trap_jobs() as trap:
            domain.action_mark_verified()
            trap.perform_enqueued_jobs()
        self.authenticate("portal_a", "portal_a")
        with trap_jobs() as trap:
            self._post(f"/my/apps/{self.alpha.id}/domains/{domain.id}/primary")
            trap.perform_enqueued_jobs()
        self.assertTrue(domain.is_primary)
        page = self._get(self.alpha.access_url).text
        self.assertIn("o_kubernetes_app_domain_primary", page)
        ingress = self.kube.get_object(
            "networking.k8s.io/v1", "Ingress", "alpha", "alpha"
        )
        self.assertEqual(
            [rule["host"] for rule in ingress["spec"]["rules"]],
            ["alpha.mint-cloud.ch", "erp.alpha-example.com"],
        )

    def test_post_without_csrf_is_refused(self):
        self.authenticate("portal_a", "portal_a")
        self.env.flush_all()
        response = self.url_open(
            f"/my/apps/{self.alpha.id}/domains/add",
            data={"name": "erp.alpha-example.com"},
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self._domains(self.alpha))

    # --- isolation ----------------------------------------------------------

    def test_customer_b_cannot_see_or_change_a_domains(self):
        domain = self.env["kubernetes.app.domain"].create(
            {"app_id": self.alpha.id, "name": "erp.alpha-example.com"}
        )
        self.authenticate("portal_b", "portal_b")
        # A's app page and everything under it answer 404, like a missing app.
        self.assertEqual(self._get(self.alpha.access_url).status_code, 404)
        base = f"/my/apps/{self.alpha.id}/domains"
        for url in (
            f"{base}/add",
            f"{base}/{domain.id}/check",
            f"{base}/{domain.id}/primary",
            f"{base}/{domain.id}/remove",
            f"{base}/{domain.id}/mail",
        ):
            with self.subTest(url=url):
                response = self._post(url, name="evil.bravo-example.com")
                self.assertEqual(response.status_code, 404)
        # A's domain through B's own app: not one of its domains, 404.
        response = self._post(f"/my/apps/{self.bravo.id}/domains/{domain.id}/remove")
        self.assertEqual(response.status_code, 404)
        self.assertTrue(domain.exists())
        self.assertFalse(self._domains(self.alpha).filtered(lambda d: "evil" in d.name))
        # B's own page does not name A's domain; the ORM hides it too.
        page = self._get(self.bravo.access_url).text
        self.assertNotIn("erp.alpha-example.com", page)
        Domain = self.env["kubernetes.app.domain"].with_user(self.user_b)
        self.assertFalse(Domain.search([]))
        self.assertEqual(
            self.env["kubernetes.app.domain"].with_user(self.user_a).search([]),
            domain,
        )

    def test_a_domain_of_another_customer_is_taken_without_saying_whose(self):
        self.env["kubernetes.app.domain"].create(
            {"app_id": self.alpha.id, "name": "erp.alpha-example.com"}
        )
        self.authenticate("portal_b", "portal_b")
        response = self._add(self.bravo, "erp.alpha-example.com")
        page = self._get(response.headers["Location"]).text
        self.assertIn("already used by an app", page)
        self.assertNotIn("alpha.mint-cloud.ch", page)


@tagged("post_install", "-at_install")
class TestPortalDomainTour(PortalKubernetesCase):
    def test_customer_adds_a_domain_in_the_portal(self):
        self.start_tour("/web/login?redirect=/my/apps", "portal_kubernetes_domain")
        self.env.invalidate_all()
        domain = self.env["kubernetes.app.domain"].search(
            [("app_id", "=", self.alpha.id)]
        )
        self.assertEqual(domain.name, "erp.alpha-example.com")
        self.assertEqual(domain.state, "pending")
