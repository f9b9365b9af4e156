# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Shared set-up: Mailgun enabled against the local fake Mailgun API.

Builds on kubernetes_app's test case (clusters on the fake Kubernetes API,
the demo manifests); the Mailgun base URL points at FakeMailgunServer, which
reads DNS from the DNSEndpoints on the fake cluster (it plays external-dns
and DNS; see tests/fakes/mailgun_api.py).
"""

import logging

from odoo.addons.kubernetes_app.tests.common import KubernetesAppCase
from odoo.addons.queue_job.tests.common import trap_jobs

from tests.fakes.mailgun_api import FakeMailgunServer

API_KEY = "key-mailgun-test-0123456789"


class _Capture(logging.Handler):
    """Collects every formatted log record the loggers let through."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))


class MailgunCase(KubernetesAppCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mailgun = FakeMailgunServer(api_key=API_KEY).start()
        cls.addClassCleanup(cls.mailgun.stop)
        cls._set_params(
            enabled="True", api_key=API_KEY, base_url=cls.mailgun.url, region="us"
        )

    @classmethod
    def _set_params(cls, **values):
        params = cls.env["ir.config_parameter"].sudo()
        for key, value in values.items():
            params.set_param(f"mailgun_domain.{key}", value)

    def setUp(self):
        super().setUp()
        self.mailgun.reset()
        self.mailgun.publish_dns_from(self.kube)

    # --- helpers ----------------------------------------------------------

    def _perform_all(self, trap, rounds=6):
        """Perform the trapped jobs and the jobs they enqueue, until none is left."""
        for _round in range(rounds):
            if not trap.enqueued_jobs:
                return
            trap.perform_enqueued_jobs()
        self.fail(f"jobs still enqueued after {rounds} rounds: {trap.enqueued_jobs}")

    def _create(self, name="acme", cluster=None, perform=True, **values):
        """Create an app (on the dry-run cluster by default) and run its jobs."""
        cluster = cluster or self.dry_cluster
        with trap_jobs() as trap:
            app = self.env["kubernetes.app"].create(
                self._app_values(name, cluster_id=cluster.id, **values)
            )
            if perform:
                self._perform_all(trap)
        return app

    def _create_int(self, prod):
        with trap_jobs() as trap:
            app = self.env["kubernetes.app"].create(
                {"name": f"{prod.name}-int", "prod_app_id": prod.id}
            )
            self._perform_all(trap)
        return app

    def _verify_now(self, app):
        """Publish ``app``'s records by hand, run the verify cron and the jobs
        the verification queued (the invitation)."""
        self.mailgun.set_domain_active(app.hostname)
        with trap_jobs() as trap:
            self.env["mailgun.domain"]._cron_verify()
            self.assertEqual(app.mailgun_state, "active")
            self._perform_all(trap)

    def _messages_sent(self):
        """POST .../messages requests Mailgun received (refused ones too)."""
        return [r for r in self.mailgun.request_log if r["path"].endswith("/messages")]

    def _notes(self, app, text):
        """The chatter messages of ``app`` that contain ``text``."""
        return app.message_ids.filtered(lambda m: text in (m.body or ""))

    def _variable(self, app, name):
        line = app.sudo().variable_ids.filtered(lambda v: v.name == name)
        return line.secret_value if line.secret else line.value

    def _capture_logs(self):
        capture = _Capture()
        root = logging.getLogger()
        root.addHandler(capture)
        self.addCleanup(root.removeHandler, capture)
        return capture
