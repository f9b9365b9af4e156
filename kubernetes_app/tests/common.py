# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Shared set-up: a cluster connected to the fake Kubernetes API server.

The cluster's kubeconfig points at the fake's plain-HTTP URL without
credentials; the manifests are the demo templates of kubernetes_manifest,
read from the module's static folder (no network).
"""

from odoo.tests import TransactionCase, new_test_user

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import Job
from odoo.addons.queue_job.tests.common import trap_jobs

from tests.fakes.kube_api import FakeKubeServer

MANIFEST_FILES = {
    "secret": "secret",
    "filestore": "filestore-pvc",
    "postgres": "postgres",
    "odoo": "odoo",
    "ingress": "ingress",
}
USER_GROUP = "kubernetes_manifest.group_kubernetes_user"
MANAGER_GROUP = "kubernetes_manifest.group_kubernetes_manager"


def drain(call, *args, **kwargs):
    """Call ``call(*args, **kwargs)`` and run every job it leads to, in order,
    until none is left or one asks to be retried later (a Job still running
    on the cluster); what ``call`` returned."""
    with trap_jobs() as trap:
        result = call(*args, **kwargs)
        for _round in range(10):
            if not trap.enqueued_jobs:
                break
            try:
                trap.perform_enqueued_jobs()
            except RetryableJobError:
                break
    return result


def run_stored_jobs(env, domain=(), rounds=40):
    """Run the stored pending jobs matching ``domain`` as the job runner
    does (started, performed, done; each in its own savepoint), again and
    again until only jobs that wait (RetryableJobError) are left; the
    number run."""
    ran = 0
    for _round in range(rounds):
        records = env["queue.job"].search(
            [("state", "=", "pending"), *domain], order="id"
        )
        progressed = False
        for record in records:
            job = Job.load(env, record.uuid)
            try:
                with env.cr.savepoint():
                    job.set_started()
                    job.store()
                    job.perform()
                    job.set_done()
                    job.store()
            except RetryableJobError:
                env.invalidate_all()
                continue
            progressed = True
            ran += 1
        env.flush_all()
        env.invalidate_all()
        if not progressed:
            break
    return ran


def kubeconfig(url):
    """A kubeconfig for ``url`` with an anonymous user."""
    return (
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: fake\n  cluster:\n    server: {url}\n"
        "users:\n- name: anonymous\n  user: {}\n"
        "contexts:\n- name: fake\n  context:\n    cluster: fake\n    user: anonymous\n"
        "current-context: fake\n"
    )


def manifest_url(file):
    return f"/kubernetes_manifest/static/manifests/{file}.yaml"


def fake_cluster(env, add_cleanup, name="Fake cluster", **values):
    """Start a FakeKubeServer and a cluster connected to it: ``(kube, cluster)``.

    ``add_cleanup`` stops the server (``cls.addClassCleanup`` or
    ``self.addCleanup``).
    """
    kube = FakeKubeServer().start()
    add_cleanup(kube.stop)
    cluster = env["kubernetes.cluster"].create(
        {
            "name": name,
            "connection": "kubeconfig",
            "kubeconfig": kubeconfig(kube.url),
            **values,
        }
    )
    return kube, cluster


def demo_manifests(env, prefix):
    """The demo deploy manifests keyed like MANIFEST_FILES, and the reset one."""
    Manifest = env["kubernetes.manifest"]
    manifests = {
        key: Manifest.create(
            {"name": f"{prefix} {key}", "url": manifest_url(file), "sequence": index}
        )
        for index, (key, file) in enumerate(MANIFEST_FILES.items(), start=1)
    }
    reset = Manifest.create(
        {"name": f"{prefix} reset", "url": manifest_url("reset-job"), "kind": "reset"}
    )
    return manifests, reset


class KubernetesAppCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.kube, cls.cluster = fake_cluster(cls.env, cls.addClassCleanup)
        cls.dry_cluster = cls.env["kubernetes.cluster"].create(
            {"name": "Dry cluster", "domain": "example.org"}
        )
        cls.manifests, cls.reset_manifest = demo_manifests(cls.env, "Test")
        cls.partner = cls.env["res.partner"].create(
            {"name": "Customer", "email": "customer@example.com", "lang": "en_US"}
        )
        cls.user = new_test_user(
            cls.env, login="k8s_user", groups=f"base.group_user,{USER_GROUP}"
        )
        cls.manager = new_test_user(
            cls.env, login="k8s_manager", groups=f"base.group_user,{MANAGER_GROUP}"
        )

    def setUp(self):
        super().setUp()
        self.kube.reset()

    # --- helpers ----------------------------------------------------------

    def _manifest_lines(self, keys=None):
        keys = keys or list(MANIFEST_FILES)
        return [
            (0, 0, {"sequence": index, "manifest_id": self.manifests[key].id})
            for index, key in enumerate(keys, start=1)
        ]

    def _app_values(self, name="acme", **values):
        return {
            "name": name,
            "cluster_id": self.cluster.id,
            "partner_id": self.partner.id,
            "manifest_line_ids": self._manifest_lines(),
            **values,
        }

    def _create_app(self, name="acme", **values):
        """Create an app and run its first deployment; the app."""
        with trap_jobs() as trap:
            app = self.env["kubernetes.app"].create(self._app_values(name, **values))
            trap.assert_jobs_count(1)
            trap.perform_enqueued_jobs()
        return app

    def _create_int_app(self, prod):
        with trap_jobs() as trap:
            app = self.env["kubernetes.app"].create(
                {
                    "name": f"{prod.name}-int",
                    "prod_app_id": prod.id,
                    "reset_manifest_ids": [(6, 0, self.reset_manifest.ids)],
                }
            )
            trap.perform_enqueued_jobs()
        return app

    def _run(self, method, app):
        """Call ``app.<method>()`` and perform the job it enqueues."""
        with trap_jobs() as trap:
            getattr(app, method)()
            trap.assert_jobs_count(1)
            trap.perform_enqueued_jobs()
        return app.last_deployment_id

    def _labelled(self, app_name, kind=None):
        return self.kube.list_objects(
            kind=kind, label_selector=f"mint-cloud.ch/app={app_name}"
        )

    def _secrets(self, app):
        return app._get_variables().secret_values()
