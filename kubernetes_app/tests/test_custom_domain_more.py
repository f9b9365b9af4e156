# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""A customer's domain: its certificate state costs a Secret GET only while
it is not issued yet, then once a day; it stays with its app; a terminated
app gets none."""

import base64

from kubernetes import client as k8s

from odoo.exceptions import UserError

from mintcloud.kube import api_client

from .common import KubernetesAppCase, run_stored_jobs

DOMAIN = "erp.customer.com"


class TestCustomDomainMore(KubernetesAppCase):
    def setUp(self):
        super().setUp()
        self.app = self._create_app("acme")
        self.domain = self.env["kubernetes.app.domain"].create(
            {"app_id": self.app.id, "name": DOMAIN}
        )
        self.domain.with_user(self.manager).action_mark_verified()
        run_stored_jobs(self.env)

    def _secret_gets(self):
        return [
            r
            for r in self.kube.requests
            if r.method == "GET" and f"/secrets/{self.domain.tls_secret}" in r.path
        ]

    def _issue_certificate(self):
        with api_client(host=self.kube.url) as client:
            k8s.CoreV1Api(client).create_namespaced_secret(
                "acme",
                {
                    "metadata": {"name": self.domain.tls_secret},
                    "type": "kubernetes.io/tls",
                    "data": {
                        "tls.crt": base64.b64encode(b"CERT").decode(),
                        "tls.key": base64.b64encode(b"KEY").decode(),
                    },
                },
            )

    def test_an_issued_certificate_is_read_again_only_after_a_day(self):
        self.assertIn(DOMAIN, self.app.ingress_hosts or "")
        self.kube.reset_requests()
        self.app._refresh_status()
        self.assertEqual(self.domain.tls_state, "pending")
        self.assertEqual(len(self._secret_gets()), 1, "pending: read")
        self._issue_certificate()
        self.app._refresh_status()
        self.assertEqual(self.domain.tls_state, "ready")
        self.assertEqual(len(self._secret_gets()), 2, "pending: read again")
        self.app._refresh_status()
        self.assertEqual(len(self._secret_gets()), 2, "ready since now: not read")
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE kubernetes_app_domain SET tls_checked_at = "
            "now() at time zone 'UTC' - interval '25 hours' WHERE id = %s",
            (self.domain.id,),
        )
        self.domain.invalidate_recordset()
        self.app._refresh_status()
        self.assertEqual(len(self._secret_gets()), 3, "a day later: read again")
        self.assertEqual(self.domain.tls_state, "ready")

    def test_a_domain_cannot_move_to_another_app(self):
        other = self._create_app("other")
        with self.assertRaisesRegex(UserError, "cannot move to another app"):
            self.domain.app_id = other
        self.assertEqual(self.domain.app_id, self.app)

    def test_a_terminated_app_gets_no_new_domain(self):
        self.app.write({"lifecycle": "terminated"})
        with self.assertRaisesRegex(UserError, "is terminated: it gets no new domains"):
            self.env["kubernetes.app.domain"].create(
                {"app_id": self.app.id, "name": "shop.customer.com"}
            )
        self.assertEqual(self.app.custom_domain_ids, self.domain)
