# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Apps: names, variables, enqueueing, access rights and the preview."""

from psycopg2 import IntegrityError

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import mute_logger

from odoo.addons.queue_job.job import identity_exact
from odoo.addons.queue_job.tests.common import trap_jobs

from mintcloud.variables import DEFAULT_MASK

from .common import KubernetesAppCase

NO_DEPLOY = {"kubernetes_app_no_deploy": True}


class TestKubernetesApp(KubernetesAppCase):
    def _new(self, name="acme", **values):
        Apps = self.env["kubernetes.app"].with_context(**NO_DEPLOY)
        return Apps.create(self._app_values(name, **values))

    # --- names ------------------------------------------------------------

    def test_hostname_namespace_and_int_defaults(self):
        prod = self._new("acme")
        self.assertEqual(prod.hostname, "acme.mint-cloud.ch")
        self.assertEqual(prod.namespace, "acme")
        int_app = (
            self.env["kubernetes.app"]
            .with_context(**NO_DEPLOY)
            .create({"name": "acme-int", "prod_app_id": prod.id})
        )
        self.assertEqual(int_app.environment, "int")
        self.assertEqual(int_app.namespace, "acme")
        self.assertEqual(int_app.hostname, "acme-int.mint-cloud.ch")
        self.assertEqual(int_app.cluster_id, self.cluster)
        self.assertEqual(int_app.partner_id, self.partner)
        self.assertEqual(
            int_app.manifest_line_ids.manifest_id, prod.manifest_line_ids.manifest_id
        )
        dry = self._new("beta", cluster_id=self.dry_cluster.id)
        self.assertEqual(dry.hostname, "beta.example.org")

    def test_name_rules_from_the_core(self):
        for name in ("Acme", "ab", "demo", "acme-int", "a--b", "1acme"):
            with self.subTest(name=name), self.assertRaises(ValidationError):
                self._new(name)
        prod = self._new("acme")
        with self.assertRaisesRegex(ValidationError, "must be named acme-int"):
            self._new("acme-test", environment="int", prod_app_id=prod.id)
        with self.assertRaisesRegex(ValidationError, "needs a production app"):
            self._new("other-int", environment="int")

    def test_name_unique_per_cluster(self):
        self._new("acme")
        self._new("acme", cluster_id=self.dry_cluster.id)
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.env.cr.savepoint():
                self._new("acme")

    # --- variables --------------------------------------------------------

    def test_variables_builtins_lines_and_generated_secrets(self):
        app = self._new("acme")
        app.variable_ids = [(0, 0, {"name": "odoo_workers", "value": "4"})]
        variables = app._get_variables()
        self.assertEqual(
            list(variables)[:6],
            [
                "app_name",
                "hostname",
                "app_environment",
                "namespace",
                "partner_email",
                "partner_lang",
            ],
        )
        self.assertEqual(variables["app_environment"], "production")
        self.assertEqual(variables["partner_email"], "customer@example.com")
        self.assertEqual(variables["odoo_workers"], "4")
        self.assertEqual(variables.secret_names, {"admin_password", "db_password"})
        self.assertEqual(len(variables["admin_password"]), 32)
        self.assertNotEqual(variables["admin_password"], variables["db_password"])
        lines = app.variable_ids.filtered("secret")
        self.assertEqual(set(lines.mapped("source")), {"default"})
        self.assertFalse(any(lines.mapped("value")), "secrets never in value")
        other = self._new("beta")
        self.assertNotEqual(
            other._get_variables()["admin_password"], variables["admin_password"]
        )

    def test_int_app_variables_name_the_prod_app(self):
        prod = self._new("acme")
        int_app = self._new("acme-int", environment="int", prod_app_id=prod.id)
        variables = int_app._get_variables()
        self.assertEqual(variables["prod_app_name"], "acme")
        self.assertEqual(variables["namespace"], "acme")
        self.assertEqual(variables["app_environment"], "integration")

    def test_variable_lines_refuse_builtins_and_reserved_names(self):
        app = self._new("acme")
        for name in ("hostname", "environment", "bad name"):
            with self.subTest(name=name), self.assertRaises(ValidationError):
                app.variable_ids = [(0, 0, {"name": name, "value": "x"})]

    def test_secret_flag_moves_value_and_masks_it_for_users(self):
        app = self._new("acme")
        line = self.env["kubernetes.app.variable"].create(
            {"app_id": app.id, "name": "api_token", "value": "tok-123456"}
        )
        line.secret = True
        self.assertFalse(line.value)
        self.assertEqual(line.secret_value, "tok-123456")
        self.assertEqual(line.with_user(self.manager).display_value, "tok-123456")
        as_user = line.with_user(self.user)
        self.assertEqual(as_user.display_value, DEFAULT_MASK)
        with self.assertRaises(AccessError):
            as_user.read(["secret_value"])
        line.write({"secret": False})
        self.assertEqual(line.value, "tok-123456")
        self.assertFalse(line.secret_value)

    def test_variable_defaults_hook(self):
        app = self._new("acme")
        self.assertEqual(app._get_variable_defaults(), {})
        self.assertIn("app_name: 'acme'", app.builtin_variables_yaml)
        self.assertNotIn(self._secrets(app)[0], app.builtin_variables_yaml)

    # --- enqueueing -------------------------------------------------------

    def test_create_enqueues_the_first_deployment(self):
        with trap_jobs() as trap:
            app = self.env["kubernetes.app"].create(self._app_values("acme"))
            deployment = app.last_deployment_id
            trap.assert_jobs_count(1)
            trap.assert_enqueued_job(
                deployment._job_run,
                properties={
                    "channel": "root.kubernetes",
                    "identity_key": identity_exact,
                    "max_retries": 5,
                },
            )
        self.assertEqual(deployment.trigger, "create")
        self.assertEqual(deployment.state, "queued")
        self.assertEqual(app.state, "queued")
        self.assertTrue(app.is_busy)
        self.assertTrue(deployment.job_uuid)
        self.assertEqual(self.kube.requests, [], "the request returns at once")

    def test_second_apply_refused_while_one_is_queued(self):
        app = self._new("acme")
        with trap_jobs() as trap:
            app.action_apply()
            with self.assertRaisesRegex(UserError, "already queued or running"):
                app.action_update()
            with self.assertRaisesRegex(UserError, "already queued or running"):
                app.action_apply()
            trap.assert_jobs_count(1)
            trap.perform_enqueued_jobs()
        self.assertEqual(app.last_deployment_id.state, "done")
        self.assertFalse(app.is_busy)
        self._run("action_apply", app)
        self.assertEqual(app.deployment_count, 2)

    def test_deployment_whose_job_ended_no_longer_blocks(self):
        app = self._new("acme")
        app.action_apply()  # stored job (no trap): stays pending in tests
        first = app.last_deployment_id
        self.assertEqual(first.job_id.state, "pending")
        with self.assertRaises(UserError):
            app.action_apply()
        first.job_id.state = "failed"
        app.action_apply()
        self.assertEqual(first.state, "failed")
        self.assertIn("ended before", first.error)
        self.assertNotEqual(app.last_deployment_id, first)

    def test_reset_only_for_integration_apps(self):
        prod = self._new("acme")
        with self.assertRaisesRegex(UserError, "Only integration apps can be reset"):
            prod.action_reset()
        int_app = self._new("acme-int", environment="int", prod_app_id=prod.id)
        with self.assertRaisesRegex(UserError, "no reset manifests"):
            int_app.action_reset()

    def test_check_status_refused_on_dry_run_cluster(self):
        app = self._new("acme", cluster_id=self.dry_cluster.id)
        with self.assertRaisesRegex(UserError, "dry-run"):
            app.action_check_status()

    def test_user_can_apply_but_not_create_or_read_kubeconfig(self):
        app = self._new("acme")
        as_user = app.with_user(self.user)
        with trap_jobs() as trap:
            action = as_user.action_apply()
            trap.perform_enqueued_jobs()
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(app.last_deployment_id.state, "done")
        self.assertEqual(as_user.last_deployment_id.state, "done")
        with self.assertRaises(AccessError):
            self.env["kubernetes.app"].with_user(self.user).create(
                self._app_values("beta")
            )
        with self.assertRaises(AccessError):
            self.cluster.with_user(self.user).read(["kubeconfig"])
        self.assertTrue(self.cluster.with_user(self.manager).kubeconfig)

    def test_export_action_points_to_the_download(self):
        app = self._new("acme")
        action = app.action_export_yaml()
        self.assertEqual(action["type"], "ir.actions.act_url")
        self.assertEqual(action["url"], f"/kubernetes/app/{app.id}/vars.yml")
        server_action = self.env.ref("kubernetes_app.kubernetes_app_action_export_yaml")
        self.assertEqual(server_action.binding_model_id.model, "kubernetes.app")
        result = server_action.with_context(
            active_model="kubernetes.app", active_id=app.id, active_ids=app.ids
        ).run()
        self.assertEqual(result["url"], action["url"])
        with self.assertRaises(UserError):
            (app | self._new("beta")).action_export_yaml()

    # --- preview ----------------------------------------------------------

    def test_preview_renders_redacted_and_dry_runs_on_the_server(self):
        app = self._create_app("acme")
        app.variable_ids = [(0, 0, {"name": "odoo_replicas", "value": "2"})]
        self.kube.reset_requests()
        action = app.action_preview()
        preview = self.env["kubernetes.app.preview"].browse(action["res_id"])
        self.assertFalse(preview.problems)
        self.assertEqual(preview.document_count, 8)
        self.assertIn("kind: Ingress", preview.rendered)
        self.assertIn("replicas: 2", preview.rendered)
        for secret in self._secrets(app):
            self.assertNotIn(secret, preview.rendered)
            self.assertNotIn(secret, preview.server_result)
        self.assertEqual(preview.server_summary, "1 configured, 8 unchanged (dry run)")
        self.assertIn("acme-odoo", preview.server_result)
        patches = [r for r in self.kube.requests if r.method == "PATCH"]
        self.assertTrue(patches)
        self.assertTrue(all(r.query.get("dryRun") == "All" for r in patches))
        odoo = self.kube.get_object("apps/v1", "Deployment", "acme-odoo", "acme")
        self.assertEqual(odoo["spec"]["replicas"], 1, "a dry run changes nothing")

    def test_preview_on_a_dry_run_cluster_stays_offline(self):
        app = self._new("acme", cluster_id=self.dry_cluster.id)
        preview = self.env["kubernetes.app.preview"].browse(
            app.action_preview()["res_id"]
        )
        self.assertEqual(preview.document_count, 8)
        self.assertFalse(preview.server_result)
        self.assertEqual(self.kube.requests, [])

    def test_preview_reports_render_problems(self):
        app = self._new("acme", partner_id=False)
        app.manifest_line_ids = [(5, 0, 0)]
        preview = self.env["kubernetes.app.preview"].browse(
            app.action_preview()["res_id"]
        )
        self.assertIn("no deploy manifests", preview.problems)
        self.assertFalse(preview.rendered)
