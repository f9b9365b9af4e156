# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""17.0.1.3.0: applying an app again after new Mailgun values is
kubernetes_app's ``_apply_again`` (each change recorded as a kubernetes.app.change).

The waiting jobs of the old mechanism (``_job_apply_mailgun_changes``) are
replaced: each of their apps is applied again the new way (a job waiting
for its busy deployment, or an apply now)."""

from odoo import SUPERUSER_ID, api

OLD_METHOD = "_job_apply_mailgun_changes"
WAITING = ("wait_dependencies", "pending", "enqueued", "started")


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    jobs = env["queue.job"].search(
        [
            ("model_name", "=", "kubernetes.app"),
            ("method_name", "=", OLD_METHOD),
            ("state", "in", WAITING),
        ]
    )
    for job in jobs:
        note = job.args[1] if len(job.args) > 1 else ""
        for app in env["kubernetes.app"].browse(job.record_ids).exists():
            app._apply_again(note)
    jobs.unlink()
