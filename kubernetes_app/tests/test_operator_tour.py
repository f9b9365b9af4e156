# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The operator's backend workflow in Chromium (static/tests/tours/).

Specification, "Hosting-Produkt erfassen" 1-3, "Manuelles Deployment" and
"Export": the operator records a manifest (title and URL) and sees its
preview, creates an app (its first deployment is queued), clicks Apply and
Update and sees the state and the Ingress status; Action > Export to YAML
downloads the app's vars.yml.

Queue jobs do not run inside a test, so the flow is split into short tours;
between them this test performs the jobs the browser enqueued and plays
the cluster's controllers on the fake Kubernetes API server.
"""

from urllib.parse import quote

from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import file_open

from odoo.addons.queue_job.job import Job

from mintcloud.apply import APP_LABEL
from mintcloud.variables import load_vars_yml
from tests.fakes.file_server import FakeFileServer

from .common import MANAGER_GROUP, USER_GROUP, fake_cluster, manifest_url

APP = "tourapp"
DOMAIN = "tour.example.com"
ADDRESS = "203.0.113.10"
INGRESS_PATH = "/manifests/ingress.yaml"
# Recorded here; the tour records the Ingress manifest itself.
STACK = {
    "Tour stack: Secret": "secret",
    "Tour stack: Filestore": "filestore-pvc",
    "Tour stack: PostgreSQL": "postgres",
    "Tour stack: Odoo": "odoo",
}
TOUR_MANIFEST = "Tour stack: Ingress"
APP_KINDS = {
    "Secret",
    "PersistentVolumeClaim",
    "Service",
    "StatefulSet",
    "Deployment",
    "Ingress",
}
UPDATED_LABEL = "mint-cloud.ch/tour-revision"


@tagged("post_install", "-at_install")
class TestOperatorTour(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.files = FakeFileServer().start()
        cls.addClassCleanup(cls.files.stop)
        with file_open("kubernetes_manifest/static/manifests/ingress.yaml") as fh:
            cls.ingress_template = fh.read()
        cls.manifest_url = cls.files.set(INGRESS_PATH, cls.ingress_template)
        cls.kube, cls.cluster = fake_cluster(
            cls.env, cls.addClassCleanup, name="Tour cluster", domain=DOMAIN
        )
        for name, file in STACK.items():
            cls.env["kubernetes.manifest"].create(
                {"name": name, "url": manifest_url(file)}
            )
        cls.partner = cls.env["res.partner"].create(
            {"name": "Tour Customer", "email": "tour@example.com", "lang": "en_US"}
        )
        new_test_user(
            cls.env,
            login="tour_operator",
            groups=f"base.group_user,{MANAGER_GROUP}",
        )

    # --- helpers -----------------------------------------------------------

    def _tour(self, name, url="/web"):
        self.start_tour(url, name, login="tour_operator")
        # See what the browser's requests wrote.
        self.env.invalidate_all()

    def _perform_jobs(self, app):
        """Run the app's pending deployment jobs as the job runner would."""
        uuids = app.deployment_ids.filtered(lambda d: d.state == "queued").mapped(
            "job_uuid"
        )
        records = self.env["queue.job"].search(
            [("uuid", "in", uuids), ("state", "=", "pending")]
        )
        self.assertEqual(len(records), len(uuids), "every queued run has a job")
        for record in records:
            job = Job.load(self.env, record.uuid)
            job.set_started()
            job.store()
            job.perform()
            job.set_done()
            job.store()
        self.env.flush_all()
        self.env.invalidate_all()
        return len(records)

    def _labelled(self):
        return self.kube.list_objects(label_selector=f"{APP_LABEL}={APP}")

    def _ingress(self):
        return self.kube.get_object("networking.k8s.io/v1", "Ingress", APP, APP)

    # --- tests -------------------------------------------------------------

    def test_operator_records_manifest_creates_app_applies_and_updates(self):
        # 1. Manifest recorded and previewed, app created: first run queued.
        self._tour(
            "kubernetes_app_tour_record",
            f"/web?mintcloud_manifest_url={quote(self.manifest_url, safe='')}",
        )
        manifest = self.env["kubernetes.manifest"].search(
            [("name", "=", TOUR_MANIFEST)]
        )
        self.assertEqual(manifest.url, self.manifest_url)
        self.assertEqual(manifest.content, self.ingress_template)
        self.assertFalse(manifest.fetch_error)
        self.assertTrue(self.files.requests_for(INGRESS_PATH))
        app = self.env["kubernetes.app"].search([("name", "=", APP)])
        self.assertEqual(len(app), 1)
        self.assertEqual(app.cluster_id, self.cluster)
        self.assertEqual(app.partner_id, self.partner)
        self.assertEqual(app.hostname, f"{APP}.{DOMAIN}")
        self.assertEqual(
            app.manifest_line_ids.sorted(
                lambda line: (line.sequence, line.id)
            ).manifest_id.mapped("name"),
            [*STACK, TOUR_MANIFEST],
        )
        self.assertEqual(app.state, "queued")
        self.assertEqual(app.deployment_ids.mapped("trigger"), ["create"])
        self.assertFalse(self._labelled(), "nothing is sent before the job runs")

        self.assertEqual(self._perform_jobs(app), 1)
        self.assertEqual(app.last_deployment_id.state, "done")
        self.assertEqual(app.state, "deploying")
        objects = self._labelled()
        self.assertEqual({o["kind"] for o in objects}, APP_KINDS)
        self.assertTrue(all(o["metadata"]["namespace"] == APP for o in objects))
        # The controllers report: workloads up, load balancer address.
        self.kube.mark_ready("Deployment", f"{APP}-odoo", APP)
        self.kube.mark_ready("StatefulSet", f"{APP}-db", APP)
        self.kube.set_ingress_address(APP, APP, ip=ADDRESS)

        # 2. Apply.
        self._tour("kubernetes_app_tour_apply")
        self.assertEqual(app.state, "queued")
        self.assertEqual(app.last_deployment_id.trigger, "apply")
        self.assertEqual(self._perform_jobs(app), 1)
        self.assertEqual(app.state, "running")
        self.assertEqual(app.ingress_address, ADDRESS)

        # 3. Update after the manifest file changed: fetched again, applied.
        self.files.set(
            INGRESS_PATH,
            self.ingress_template.replace(
                "    app.kubernetes.io/part-of: mintcloud\n",
                f"    app.kubernetes.io/part-of: mintcloud\n    {UPDATED_LABEL}: two\n",
                1,
            ),
        )
        self.assertNotIn(UPDATED_LABEL, self._ingress()["metadata"]["labels"])
        self._tour("kubernetes_app_tour_update")
        self.assertEqual(app.last_deployment_id.trigger, "update")
        self.assertEqual(self._perform_jobs(app), 1)
        self.assertEqual(self._ingress()["metadata"]["labels"][UPDATED_LABEL], "two")

        # 4. State and Ingress status after the update; Action > Export to YAML.
        self._tour("kubernetes_app_tour_status")

        self.assertEqual(app.state, "running")
        self.assertEqual(app.ingress_hosts, f"{APP}.{DOMAIN}")
        self.assertEqual(app.ingress_address, ADDRESS)
        self.assertTrue(app.tls_ready)
        self.assertEqual(len(app.manifest_line_ids), 5)
        deployments = app.deployment_ids.sorted("id")
        self.assertEqual(deployments.mapped("trigger"), ["create", "apply", "update"])
        self.assertEqual(deployments.mapped("state"), ["done"] * 3)
        self.assertEqual(deployments.create_uid.login, "tour_operator")
        objects = self._labelled()
        self.assertEqual({o["kind"] for o in objects}, APP_KINDS)
        for obj in objects:
            self.assertEqual(obj["metadata"]["labels"][APP_LABEL], APP)

    def test_export_to_yaml_is_in_the_action_menu_and_downloads(self):
        app = (
            self.env["kubernetes.app"]
            .with_context(kubernetes_app_no_deploy=True)
            .create(
                {
                    "name": "exportapp",
                    "cluster_id": self.cluster.id,
                    "partner_id": self.partner.id,
                }
            )
        )
        action = self.env.ref("kubernetes_app.kubernetes_app_action_export_yaml")
        new_test_user(
            self.env, login="tour_user", groups=f"base.group_user,{USER_GROUP}"
        )
        new_test_user(self.env, login="tour_employee", groups="base.group_user")
        for login, offered in (
            ("tour_operator", True),
            ("tour_user", True),
            ("tour_employee", False),
        ):
            user = self.env["res.users"].search([("login", "=", login)])
            bindings = (
                self.env["ir.actions.actions"]
                .with_user(user)
                .get_bindings("kubernetes.app")
            )
            ids = [binding["id"] for binding in bindings.get("action", [])]
            self.assertEqual(action.id in ids, offered, login)
        # What a click on Action > Export to YAML does, then the download.
        self.authenticate("tour_operator", "tour_operator")
        result = self.make_jsonrpc_request(
            "/web/action/run",
            {
                "action_id": action.id,
                "context": {
                    "active_model": "kubernetes.app",
                    "active_id": app.id,
                    "active_ids": [app.id],
                },
            },
        )
        self.assertEqual(result["type"], "ir.actions.act_url")
        self.assertEqual(result["target"], "download")
        response = self.url_open(result["url"])
        self.assertEqual(response.status_code, 200)
        self.assertIn("exportapp-vars.yml", response.headers["Content-Disposition"])
        loaded = load_vars_yml(response.text)
        self.assertEqual(loaded.as_dict(), app._get_variables().as_dict())
        self.assertEqual(loaded["hostname"], f"exportapp.{DOMAIN}")
