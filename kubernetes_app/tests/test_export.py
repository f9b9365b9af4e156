# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Action > Export to YAML: the vars.yml download."""

from odoo.tests import HttpCase, new_test_user, tagged

from mintcloud.variables import DEFAULT_MASK, load_vars_yml

from .common import MANAGER_GROUP, USER_GROUP


@tagged("post_install", "-at_install")
class TestExportVarsYml(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cluster = cls.env["kubernetes.cluster"].create({"name": "Export cluster"})
        partner = cls.env["res.partner"].create(
            {"name": "Customer", "email": "customer@example.com"}
        )
        Apps = cls.env["kubernetes.app"].with_context(kubernetes_app_no_deploy=True)
        cls.prod = Apps.create(
            {"name": "acme", "cluster_id": cluster.id, "partner_id": partner.id}
        )
        cls.app = Apps.create({"name": "acme-int", "prod_app_id": cls.prod.id})
        cls.app.variable_ids = [
            (0, 0, {"name": "odoo_workers", "value": "4"}),
            (0, 0, {"name": "odoo_extra_args", "value": "{{ not a template }}"}),
        ]
        new_test_user(
            cls.env, login="export_user", groups=f"base.group_user,{USER_GROUP}"
        )
        new_test_user(
            cls.env, login="export_manager", groups=f"base.group_user,{MANAGER_GROUP}"
        )
        new_test_user(cls.env, login="export_other", groups="base.group_user")

    def _download(self, login):
        self.authenticate(login, login)
        return self.url_open(
            f"/kubernetes/app/{self.app.id}/vars.yml", allow_redirects=False
        )

    def test_manager_gets_every_variable_with_secrets(self):
        response = self._download("export_manager")
        self.assertEqual(response.status_code, 200)
        self.assertIn("attachment", response.headers["Content-Disposition"])
        self.assertIn("acme-int-vars.yml", response.headers["Content-Disposition"])
        self.assertIn("yaml", response.headers["Content-Type"])
        variables = self.app._get_variables()
        loaded = load_vars_yml(response.text)
        self.assertEqual(loaded.as_dict(), variables.as_dict())
        self.assertEqual(loaded["prod_app_name"], "acme")
        self.assertEqual(loaded["odoo_extra_args"], "{{ not a template }}")
        self.assertIn("!unsafe", response.text)
        self.assertEqual(len(loaded["admin_password"]), 32)

    def test_user_gets_the_secrets_redacted(self):
        response = self._download("export_user")
        self.assertEqual(response.status_code, 200)
        loaded = load_vars_yml(response.text)
        expected = self.app._get_variables().redacted()
        self.assertEqual(loaded.as_dict(), expected.as_dict())
        self.assertEqual(loaded["db_password"], DEFAULT_MASK)
        for secret in self.app._get_variables().secret_values():
            self.assertNotIn(secret, response.text)

    def test_others_and_anonymous_are_refused(self):
        self.assertEqual(self._download("export_other").status_code, 403)
        self.authenticate(None, None)
        response = self.url_open(
            f"/kubernetes/app/{self.app.id}/vars.yml", allow_redirects=False
        )
        self.assertIn(response.status_code, (302, 303))
        self.authenticate("export_manager", "export_manager")
        missing = self.url_open(
            "/kubernetes/app/999999/vars.yml", allow_redirects=False
        )
        self.assertEqual(missing.status_code, 404)
