# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The tenant boundary in deployments: nothing of a crossing deployment is applied."""

from odoo.exceptions import ValidationError

from .common import KubernetesAppCase, manifest_url

#: A manifest an operator could write: its namespace and an extra
#: ClusterRoleBinding come from variables (app lines or product defaults).
ROGUE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: "{{ resource_prefix }}-settings"
  namespace: "{{ target_namespace | default(namespace) }}"
data:
  greeting: hello
{% if grant_cluster_admin | default(false) | bool %}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: "{{ resource_prefix }}-admin"
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects:
- kind: ServiceAccount
  name: default
  namespace: "{{ namespace }}"
{% endif %}
{% if bind_role | default('') %}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: "{{ resource_prefix }}-binding"
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: "{{ bind_role }}"
subjects:
- kind: ServiceAccount
  name: default
  namespace: "{{ namespace }}"
{% endif %}
"""
WRITES = ("POST", "PUT", "PATCH", "DELETE")


class TestTenantBoundary(KubernetesAppCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rogue = cls.env["kubernetes.manifest"].create(
            {"name": "Rogue", "url": manifest_url("secret"), "sequence": 90}
        )
        cls.rogue.content = ROGUE

    def _app_with_rogue(self, name="acme", variables=()):
        lines = self._manifest_lines() + [
            (0, 0, {"sequence": 99, "manifest_id": self.rogue.id})
        ]
        values = {"manifest_line_ids": lines}
        if variables:
            values["variable_ids"] = [
                (0, 0, {"name": key, "value": value}) for key, value in variables
            ]
        return self._create_app(name, **values)

    def _writes(self):
        return [r for r in self.kube.requests if r.method in WRITES]

    def assert_refused_and_nothing_applied(self, app, *messages):
        deployment = app.last_deployment_id
        self.assertEqual(deployment.state, "failed")
        self.assertEqual(app.state, "error")
        self.assertIn(
            "outside the app's tenant boundary, nothing applied", deployment.error
        )
        for message in messages:
            self.assertIn(message, deployment.error)
        self.assertEqual(self._writes(), [], "nothing was sent to the API server")
        self.assertFalse(self._labelled(app.name))
        self.assertIsNone(self.kube.get_object("v1", "Namespace", app.namespace))
        self.assertFalse(deployment.object_ids)

    def test_the_rogue_manifest_deploys_inside_the_boundary(self):
        app = self._app_with_rogue()
        self.assertEqual(
            app.last_deployment_id.state, "done", app.last_deployment_id.error
        )
        self.assertIsNotNone(
            self.kube.get_object("v1", "ConfigMap", "acme-settings", "acme")
        )

    def test_an_app_variable_with_a_foreign_namespace_is_refused(self):
        app = self._app_with_rogue(variables=[("target_namespace", "globex")])
        self.assert_refused_and_nothing_applied(
            app,
            "manifest 'Rogue', document 1 (ConfigMap/acme-settings): "
            "metadata.namespace: 'globex' is not the app's namespace 'acme'",
        )

    def test_a_cluster_role_binding_is_refused(self):
        app = self._app_with_rogue(variables=[("grant_cluster_admin", "true")])
        self.assert_refused_and_nothing_applied(
            app,
            "manifest 'Rogue', document 2 (ClusterRoleBinding/acme-admin): kind: "
            "rbac.authorization.k8s.io/ClusterRoleBinding is cluster-scoped",
        )

    def test_a_role_binding_to_a_powerful_cluster_role_is_refused(self):
        app = self._app_with_rogue(variables=[("bind_role", "cluster-admin")])
        self.assert_refused_and_nothing_applied(
            app,
            "document 2 (RoleBinding/acme-binding): roleRef.name: binds the "
            "ClusterRole 'cluster-admin'",
        )
        # 'view' is on the cluster's list: the same manifest deploys.
        app.variable_ids.filtered(lambda v: v.name == "bind_role").value = "view"
        deployment = self._run("action_apply", app)
        self.assertEqual(deployment.state, "done", deployment.error)
        self.assertIsNotNone(
            self.kube.get_object(
                "rbac.authorization.k8s.io/v1", "RoleBinding", "acme-binding", "acme"
            )
        )

    def test_the_clusters_allowed_kinds_decide(self):
        self.cluster.allowed_kinds = "\n".join(
            k for k in self.cluster.allowed_kinds.splitlines() if k != "ConfigMap"
        )
        app = self._app_with_rogue()
        self.assert_refused_and_nothing_applied(
            app,
            "document 1 (ConfigMap/acme-settings): kind: ConfigMap is not among the "
            "cluster's allowed kinds",
        )

    def test_a_refused_apply_of_a_running_app_changes_nothing(self):
        app = self._app_with_rogue()
        deployed = len(self._labelled("acme"))
        self.kube.reset_requests()
        app.variable_ids = [(0, 0, {"name": "target_namespace", "value": "globex"})]
        deployment = self._run("action_apply", app)
        self.assertEqual(deployment.state, "failed")
        self.assertIn("'globex' is not the app's namespace", deployment.error)
        self.assertEqual(self._writes(), [])
        self.assertEqual(len(self._labelled("acme")), deployed, "nothing pruned")

    def test_preview_shows_the_problems(self):
        app = self._app_with_rogue()
        app.variable_ids = [(0, 0, {"name": "grant_cluster_admin", "value": "true"})]
        preview = self.env["kubernetes.app.preview"].browse(
            app.action_preview()["res_id"]
        )
        self.assertIn("ClusterRoleBinding is cluster-scoped", preview.problems)
        self.assertFalse(preview.server_result, "no server dry run")

    def test_cluster_settings_are_checked(self):
        with self.assertRaises(ValidationError) as info:
            self.cluster.allowed_kinds = "ConfigMap\nDeployment.apps"
        self.assertIn("'Deployment.apps'", str(info.exception))
        with self.assertRaises(ValidationError):
            self.cluster.allowed_cluster_roles = "view, Cluster Admin"
        self.cluster.allowed_cluster_roles = ""
        app = self._app_with_rogue(variables=[("bind_role", "view")])
        self.assertIn("the ClusterRoles none", app.last_deployment_id.error)
