# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Two customers with portal users, and their apps on the fake Kubernetes API.

Customer A (company ``Alpha Ltd``, portal user ``portal_a`` is one of its
contacts) has the production app ``alpha`` and its integration app
``alpha-int``; customer B (``portal_b``) has ``bravo``.  The apps are
deployed to ``tests/fakes/kube_api.FakeKubeServer`` by running their first
deployment jobs.
"""

from odoo import http
from odoo.tests import HttpCase, new_test_user

from odoo.addons.kubernetes_app.tests.common import demo_manifests, fake_cluster
from odoo.addons.queue_job.tests.common import trap_jobs


class PortalKubernetesCase(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.kube, cls.cluster = fake_cluster(cls.env, cls.addClassCleanup)
        manifests, cls.reset_manifest = demo_manifests(cls.env, "Portal")
        cls.manifests = cls.env["kubernetes.manifest"].union(*manifests.values())
        cls.company_a = cls._customer("Alpha Ltd", "alpha@example.com")
        cls.company_b = cls._customer("Bravo Ltd", "bravo@example.com")
        cls.user_a = cls._portal_user("portal_a", "Anna Alpha", cls.company_a)
        cls.user_b = cls._portal_user("portal_b", "Bruno Bravo", cls.company_b)
        cls.alpha = cls._create_app("alpha", cls.company_a)
        cls.alpha_int = cls._create_int_app(cls.alpha)
        cls.bravo = cls._create_app("bravo", cls.company_b)
        cls.apps = cls.alpha | cls.alpha_int | cls.bravo

    @classmethod
    def _customer(cls, name, email):
        return cls.env["res.partner"].create(
            {"name": name, "is_company": True, "email": email, "lang": "en_US"}
        )

    @classmethod
    def _portal_user(cls, login, name, company):
        user = new_test_user(
            cls.env, login=login, name=name, groups="base.group_portal"
        )
        user.partner_id.parent_id = company
        return user

    @classmethod
    def _create_app(cls, name, partner):
        lines = [
            (0, 0, {"sequence": manifest.sequence, "manifest_id": manifest.id})
            for manifest in cls.manifests
        ]
        with trap_jobs() as trap:
            app = cls.env["kubernetes.app"].create(
                {
                    "name": name,
                    "cluster_id": cls.cluster.id,
                    "partner_id": partner.id,
                    "manifest_line_ids": lines,
                }
            )
            cls._deploy(trap)
        return app

    @classmethod
    def _create_int_app(cls, prod):
        with trap_jobs() as trap:
            app = cls.env["kubernetes.app"].create(
                {
                    "name": f"{prod.name}-int",
                    "prod_app_id": prod.id,
                    "reset_manifest_ids": [(6, 0, cls.reset_manifest.ids)],
                }
            )
            cls._deploy(trap)
        return app

    @classmethod
    def _deploy(cls, trap):
        """Run the trapped deployment jobs (only those: other modules may
        enqueue jobs for services that are not there in tests)."""
        jobs = [
            job
            for job in trap.enqueued_jobs
            if job.recordset._name == "kubernetes.deployment"
        ]
        assert jobs, "creating an app queues its first deployment"
        for job in jobs:
            job.perform()

    # --- helpers ----------------------------------------------------------

    def _get(self, url, **kwargs):
        """GET ``url`` with the ORM flushed before and the cache cleared after."""
        self.env.flush_all()
        response = self.url_open(url, allow_redirects=False, **kwargs)
        self.env.invalidate_all()
        return response

    def _post_reset(self, app, csrf=True):
        data = {"csrf_token": http.Request.csrf_token(self)} if csrf else {"x": "1"}
        self.env.flush_all()
        response = self.url_open(
            f"/my/apps/{app.id}/reset", data=data, allow_redirects=False
        )
        self.env.invalidate_all()
        return response

    def _deployments(self, app):
        return self.env["kubernetes.deployment"].search([("app_id", "=", app.id)])
