# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The backend views render in the web client without errors."""

from odoo.tests import HttpCase, new_test_user, tagged

from .common import MANAGER_GROUP, USER_GROUP

# Resolves once the selector is on the page; then the test succeeds.
WAIT_FOR = """
const selector = %r;
const wait = () => document.querySelector(selector)
    ? console.log("test successful") : setTimeout(wait, 100);
wait();
"""


@tagged("post_install", "-at_install")
class TestViews(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.cluster = cls.env["kubernetes.cluster"].create({"name": "View cluster"})
        Apps = cls.env["kubernetes.app"].with_context(kubernetes_app_no_deploy=True)
        prod = Apps.create({"name": "viewapp", "cluster_id": cls.cluster.id})
        cls.app = Apps.create({"name": "viewapp-int", "prod_app_id": prod.id})
        cls.deployment = cls.env["kubernetes.deployment"].create(
            {"app_id": cls.app.id, "trigger": "apply", "state": "done", "summary": "ok"}
        )
        new_test_user(
            cls.env, login="view_user", groups=f"base.group_user,{USER_GROUP}"
        )
        new_test_user(
            cls.env, login="view_manager", groups=f"base.group_user,{MANAGER_GROUP}"
        )

    def _open(self, url, selector, login):
        self.browser_js(url, WAIT_FOR % selector, login=login)

    def test_app_form_list_and_kanban(self):
        form = f"/web#model=kubernetes.app&id={self.app.id}&view_type=form"
        for login in ("view_user", "view_manager"):
            self._open(form, '.o_form_view button[name="action_reset"]', login)
        self._open(
            "/web#action=kubernetes_app.kubernetes_app_action",
            ".o_list_view .o_data_row",
            "view_user",
        )
        self._open(
            "/web#action=kubernetes_app.kubernetes_app_action&view_type=kanban",
            ".o_kanban_record",
            "view_user",
        )

    def test_deployment_and_cluster_views(self):
        self._open(
            f"/web#model=kubernetes.deployment&id={self.deployment.id}&view_type=form",
            ".o_form_view .o_field_widget[name=object_ids]",
            "view_user",
        )
        self._open(
            f"/web#model=kubernetes.cluster&id={self.cluster.id}&view_type=form",
            ".o_form_view .o_field_widget[name=connection]",
            "view_manager",
        )
