# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The operator starts a rollout in the backend and sees it reach 100 %
(static/tests/tours/kubernetes_rollout_tour.js).

Queue jobs do not run inside a test: between the two tours this test runs
the jobs the rollout enqueued, as the job runner would.
"""

from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from .common import MANAGER_GROUP, manifest_url, run_stored_jobs

MANIFEST = "Tour rollout: Odoo"
FILES = {"Secret": "secret", "PostgreSQL": "postgres", "Ingress": "ingress"}


@tagged("post_install", "-at_install")
class TestRolloutTour(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Manifest = cls.env["kubernetes.manifest"]
        manifests = Manifest.browse()
        for index, (name, file) in enumerate(
            [*FILES.items(), ("Odoo", "odoo")], start=1
        ):
            manifests |= Manifest.create(
                {
                    "name": f"Tour rollout: {name}",
                    "url": manifest_url(file),
                    "sequence": index,
                }
            )
        cls.manifest = manifests.filtered(lambda m: m.name == MANIFEST)
        # A cluster without a connection: deployments are rendered and recorded.
        cluster = cls.env["kubernetes.cluster"].create(
            {"name": "Tour rollout cluster", "domain": "rollout.example.com"}
        )
        partner = cls.env["res.partner"].create(
            {"name": "Rollout Customer", "email": "rollout@example.com"}
        )
        Apps = cls.env["kubernetes.app"]
        with trap_jobs() as trap:
            prod = Apps.create(
                {
                    "name": "tourroll",
                    "cluster_id": cluster.id,
                    "partner_id": partner.id,
                    "manifest_line_ids": [
                        (0, 0, {"sequence": m.sequence, "manifest_id": m.id})
                        for m in manifests
                    ],
                }
            )
            Apps.create({"name": "tourroll-int", "prod_app_id": prod.id})
            trap.perform_enqueued_jobs()
        cls.apps = prod | prod.int_app_ids
        new_test_user(
            cls.env,
            login="rollout_operator",
            groups=f"base.group_user,{MANAGER_GROUP}",
        )

    def _run_jobs(self):
        """Run the stored jobs as the job runner would, until none is left."""
        mine = [
            ("model_name", "like", "kubernetes."),
            ("user_id.login", "=", "rollout_operator"),
        ]
        run_stored_jobs(self.env, mine, rounds=20)
        if self.env["queue.job"].search_count([("state", "=", "pending"), *mine]):
            self.fail("the rollout's jobs did not come to an end")

    def test_operator_rolls_a_manifest_out_and_sees_it_done(self):
        self.assertEqual(set(self.apps.mapped("state")), {"dry-run"})
        self.assertFalse(any(self.apps.mapped("is_outdated")))
        # The operator changed the template: both apps run an older revision.
        self.manifest.content = self.manifest.content.replace(
            "    mintcloud.io/hostname: {{ hostname | to_json }}\n",
            "    mintcloud.io/hostname: {{ hostname | to_json }}\n"
            '    mintcloud.io/tour: "rollout"\n',
        )
        self.assertTrue(all(self.apps.mapped("is_outdated")))

        self.start_tour(
            "/web", "kubernetes_app_tour_rollout_start", login="rollout_operator"
        )
        self.env.invalidate_all()
        rollout = self.env["kubernetes.rollout"].search(
            [("manifest_id", "=", self.manifest.id)]
        )
        self.assertEqual(rollout.state, "running")
        self.assertEqual(rollout.line_ids.app_id, self.apps)

        self._run_jobs()
        self.assertEqual(rollout.state, "done")
        self.assertEqual(rollout.progress, 100)
        self.assertFalse(any(self.apps.mapped("is_outdated")))

        self.start_tour(
            "/web", "kubernetes_app_tour_rollout_done", login="rollout_operator"
        )
