# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Fleet rollouts against the fake API server: outdated apps, canaries,
batches, pause/resume/abort, restarts, busy and suspended apps, and the
database upgrade (with a backup first) before the new pods serve.

The jobs are stored as the job runner finds them and run as it runs them
(:meth:`_run_jobs`): one after another, each in its own savepoint; a job
that asks to be retried later (a Job still running, a busy app) stays
pending.
"""

import datetime
import json

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form
from odoo.tools import file_open

from odoo.addons.queue_job.job import Job

from tests.fakes.file_server import FakeFileServer

from ..models.kubernetes_rollout_line import JOB_TIMEOUT
from .common import KubernetesAppCase, manifest_url, run_stored_jobs

ODOO_PATH = "/manifests/odoo.yaml"
ANNOTATION = "mintcloud.io/rollout-check"
OLD_IMAGE = "odoo:17.0"
NEW_IMAGE = "odoo:17.0-20260101"
JOB_MODELS = ("kubernetes.rollout", "kubernetes.rollout.line", "kubernetes.deployment")


class RolloutCase(KubernetesAppCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.files = FakeFileServer().start()
        cls.addClassCleanup(cls.files.stop)
        with file_open("kubernetes_manifest/static/manifests/odoo.yaml") as fh:
            cls.odoo_template = fh.read()
        Manifest = cls.env["kubernetes.manifest"]
        cls.odoo_manifest = Manifest.create(
            {
                "name": "Rollout: Odoo",
                "url": cls.files.set(ODOO_PATH, cls.odoo_template),
                "sequence": 4,
            }
        )
        cls.upgrade_manifest = Manifest.create(
            {
                "name": "Rollout: upgrade",
                "url": manifest_url("upgrade-job"),
                "kind": "upgrade",
            }
        )
        cls.backup_manifest = Manifest.create(
            {
                "name": "Rollout: backup",
                "url": manifest_url("backup-job"),
                "kind": "backup",
            }
        )

    def setUp(self):
        super().setUp()
        self.files.set(ODOO_PATH, self.odoo_template)
        self.odoo_manifest._fetch(force=True)
        self.job_floor = self.env["queue.job"].search([], order="id desc", limit=1).id

    # --- helpers ----------------------------------------------------------

    def _lines(self, with_odoo=True):
        manifests = [
            self.manifests["secret"],
            self.manifests["filestore"],
            self.manifests["postgres"],
        ]
        if with_odoo:
            manifests.append(self.odoo_manifest)
        manifests.append(self.manifests["ingress"])
        return [
            (0, 0, {"sequence": index, "manifest_id": manifest.id})
            for index, manifest in enumerate(manifests, start=1)
        ]

    def _app(self, name, with_int=False, **values):
        """A deployed production app (and its integration app)."""
        app = self._create_app(
            name,
            manifest_line_ids=self._lines(),
            upgrade_manifest_ids=[(6, 0, self.upgrade_manifest.ids)],
            backup_manifest_ids=[(6, 0, self.backup_manifest.ids)],
            **values,
        )
        self.assertEqual(
            app.last_deployment_id.state, "done", app.last_deployment_id.error
        )
        if with_int:
            return app | self._create_int_app(app)
        return app

    def _change_odoo_manifest(self, old, new):
        """The file behind the Odoo manifest changes; the operator fetches it."""
        text = self.odoo_template.replace(old, new, 1)
        self.assertNotEqual(text, self.odoo_template)
        self.files.set(ODOO_PATH, text)
        self.odoo_manifest.action_fetch()

    def _annotate(self):
        """A new annotation on the Odoo Deployment: no new code."""
        self._change_odoo_manifest(
            "    mintcloud.io/hostname: {{ hostname | to_json }}\n",
            "    mintcloud.io/hostname: {{ hostname | to_json }}\n"
            f'    {ANNOTATION}: "two"\n',
        )

    def _new_image(self):
        self._change_odoo_manifest(
            f"odoo_image | default('{OLD_IMAGE}')",
            f"odoo_image | default('{NEW_IMAGE}')",
        )

    def _odoo(self, app):
        return self.kube.get_object(
            "apps/v1", "Deployment", f"{app.name}-odoo", app.namespace
        )

    def _rollout(self, **values):
        return (
            self.env["kubernetes.rollout"]
            .with_user(self.manager)
            .create({"manifest_id": self.odoo_manifest.id, **values})
        )

    def _run_jobs(self, models=JOB_MODELS, rounds=40):
        """Run the pending jobs of ``models`` as the runner does, until only
        jobs that wait (RetryableJobError) are left; the number run."""
        return run_stored_jobs(
            self.env,
            [("id", ">", self.job_floor), ("model_name", "in", list(models))],
            rounds,
        )

    def _rollout_deployments(self, apps):
        return apps.deployment_ids.filtered(lambda d: d.trigger == "rollout")


class TestOutdated(RolloutCase):
    def test_outdated_after_a_manifest_fetch(self):
        acme = self._app("acme")
        other = self._create_app(
            "other", manifest_line_ids=self._lines(with_odoo=False)
        )
        deployment = acme.last_deployment_id
        self.assertEqual(acme.revision_deployment_id, deployment)
        revisions = json.loads(deployment.manifest_revisions)
        self.assertEqual(len(revisions), 5)
        self.assertEqual(
            revisions[str(self.odoo_manifest.id)], self.odoo_manifest.sha256
        )
        self.assertFalse(acme.is_outdated or other.is_outdated)
        self.assertEqual(self.odoo_manifest.outdated_app_count, 0)

        old = self.odoo_manifest.sha256
        self._annotate()
        self.assertNotEqual(self.odoo_manifest.sha256, old)
        Apps = self.env["kubernetes.app"]
        self.assertEqual(Apps.search([("is_outdated", "=", True)]), acme)
        self.assertFalse(other.is_outdated, "it does not use the manifest")
        groups = Apps.read_group(
            [("id", "in", (acme | other).ids)], ["is_outdated"], ["is_outdated"]
        )
        self.assertEqual(
            {g["is_outdated"]: g["is_outdated_count"] for g in groups},
            {True: 1, False: 1},
        )
        self.assertEqual(self.odoo_manifest.outdated_app_count, 1)
        action = self.odoo_manifest.action_view_outdated_apps()
        self.assertEqual(Apps.search(action["domain"]), acme)

        # A template written directly is a new revision too.
        self.odoo_manifest.content = self.odoo_manifest.content + "\n# comment\n"
        self.assertTrue(acme.is_outdated)
        # Apply renders the current revision: up to date again.
        self._run("action_apply", acme)
        self.assertFalse(acme.is_outdated)
        self.assertEqual(acme.revision_deployment_id.trigger, "apply")
        self.odoo_manifest.invalidate_recordset(["outdated_app_count"])
        self.assertEqual(self.odoo_manifest.outdated_app_count, 0)

    def test_the_manifest_form_proposes_a_rollout_of_the_outdated_apps(self):
        apps = self._app("acme", with_int=True) | self._app("beta")
        self._annotate()
        self.assertEqual(self.odoo_manifest.outdated_app_count, 3)
        action = self.odoo_manifest.with_user(self.manager).action_new_rollout()
        self.assertEqual(action["res_model"], "kubernetes.rollout")
        form = Form(
            self.env["kubernetes.rollout"]
            .with_user(self.manager)
            .with_context(**action["context"])
        )
        self.assertEqual(form.manifest_id, self.odoo_manifest)
        rollout = form.save()
        self.assertEqual(rollout.app_ids, apps)
        self.assertIn(self.odoo_manifest.sha256[:8], rollout.name)
        # The filters change the proposal.
        rollout.environment = "int"
        self.assertEqual(rollout.app_ids.mapped("name"), ["acme-int"])
        rollout.write({"environment": False, "app_domain": "[('name', '=', 'beta')]"})
        self.assertEqual(rollout.app_ids.mapped("name"), ["beta"])

    def test_only_managers_roll_out(self):
        with self.assertRaises(AccessError):
            self.env["kubernetes.rollout"].with_user(self.user).create(
                {"manifest_id": self.odoo_manifest.id}
            )


class TestRollout(RolloutCase):
    def test_canaries_first_then_production_in_batches(self):
        apps = self._app("acme", with_int=True) | self._app("beta", with_int=True)
        self._annotate()
        rollout = self._rollout(batch_size=1, max_concurrent=1)
        self.assertEqual(len(rollout.app_ids), 4)
        rollout.with_user(self.manager).action_start()
        self.assertEqual(rollout.state, "running")
        self.assertEqual(rollout.batch_count, 4)
        lines = rollout.line_ids.sorted("batch")
        self.assertEqual(
            [(line.app_id.name, line.batch, line.canary) for line in lines],
            [
                ("acme-int", 1, True),
                ("beta-int", 2, True),
                ("acme", 3, False),
                ("beta", 4, False),
            ],
        )
        self.assertEqual(rollout.progress, 0)

        self._run_jobs()
        self.assertEqual(rollout.state, "done")
        self.assertEqual(rollout.progress, 100)
        self.assertEqual(set(rollout.line_ids.mapped("state")), {"done"})
        deployments = self._rollout_deployments(apps).sorted("id")
        self.assertEqual(
            deployments.app_id.mapped("name"), ["acme-int", "beta-int", "acme", "beta"]
        )
        self.assertEqual(set(deployments.mapped("state")), {"done"})
        for app in apps:
            self.assertEqual(
                self._odoo(app)["metadata"]["annotations"][ANNOTATION], "two"
            )
            self.assertFalse(app.is_outdated)
            self.assertFalse(
                app.deployment_ids.filtered(lambda d: d.trigger == "upgrade")
            )
        bodies = rollout.message_ids.mapped("body")
        self.assertTrue(any("Batch 1 of 4 finished" in body for body in bodies))
        self.assertTrue(any("Done: 4 apps deployed" in body for body in bodies))

    def test_a_canary_failure_halts_before_production(self):
        apps = self._app("acme", with_int=True) | self._app("beta", with_int=True)
        acme, acme_int, beta, beta_int = apps
        self._annotate()
        # The integration app of acme cannot be rendered any more.
        acme_int.variable_ids.filtered(lambda v: v.name == "admin_password").unlink()
        rollout = self._rollout()
        rollout.action_start()
        self._run_jobs()

        self.assertEqual(rollout.state, "halted")
        self.assertIn("canary", rollout.halt_reason)
        states = {line.app_id.name: line.state for line in rollout.line_ids}
        self.assertEqual(
            states,
            {
                "acme-int": "failed",
                "beta-int": "done",
                "acme": "cancelled",
                "beta": "cancelled",
            },
        )
        failed = rollout.line_ids.filtered(lambda line: line.state == "failed")
        self.assertIn("admin_password", failed.message)
        self.assertFalse(self._rollout_deployments(acme | beta), "production untouched")
        for app in acme | beta:
            self.assertNotIn(ANNOTATION, self._odoo(app)["metadata"]["annotations"])
            self.assertTrue(app.is_outdated)
        self.assertEqual(
            self._odoo(beta_int)["metadata"]["annotations"][ANNOTATION], "two"
        )
        self.assertTrue(rollout.activity_ids.filtered(lambda a: "halted" in a.summary))
        with self.assertRaises(UserError):
            rollout.action_resume()
        # A new rollout proposes the apps still outdated.
        again = self._rollout()
        self.assertEqual(again.app_ids, acme | acme_int | beta)

    def test_more_failures_than_allowed_halt(self):
        apps = self._app("acme") | self._app("beta") | self._app("gamma")
        self._annotate()
        for app in apps[:2]:
            app.variable_ids.filtered(lambda v: v.name == "admin_password").unlink()
        rollout = self._rollout(
            max_failures=1, max_failure_percent=100, batch_size=1, max_concurrent=1
        )
        rollout.action_start()
        self._run_jobs()
        self.assertEqual(rollout.state, "halted")
        self.assertIn("2 apps failed, more than 1", rollout.halt_reason)
        self.assertEqual(
            rollout.line_ids.mapped("state"), ["failed", "failed", "cancelled"]
        )

    def test_pause_resume_abort(self):
        apps = self._app("acme") | self._app("beta") | self._app("gamma")
        self._annotate()
        rollout = self._rollout(batch_size=1, max_concurrent=1)
        rollout.action_start()
        self._run_jobs(models=["kubernetes.rollout"])
        first, second, third = rollout.line_ids.sorted("batch")
        self.assertEqual(first.state, "deploying")

        rollout.action_pause()
        self._run_jobs()
        self.assertEqual(rollout.state, "paused")
        self.assertEqual(
            (first.state, second.state), ("done", "pending"), "no new start"
        )
        self.assertAlmostEqual(rollout.progress, 100 / 3, places=2)
        with self.assertRaises(UserError):
            rollout.action_pause()

        rollout.action_resume()
        self._run_jobs(models=["kubernetes.rollout"])
        self.assertEqual((rollout.state, second.state), ("running", "deploying"))
        rollout.action_abort()
        self.assertEqual(rollout.state, "aborted")
        self.assertEqual(third.state, "cancelled")
        self._run_jobs()
        self.assertEqual(second.state, "done", "the app in progress finished")
        self.assertEqual(third.state, "cancelled")
        self.assertEqual(rollout.state, "aborted")
        self.assertEqual(len(self._rollout_deployments(apps)), 2)
        bodies = " ".join(rollout.message_ids.mapped("body"))
        for word in ("Paused", "Resumed", "Aborted"):
            self.assertIn(word, bodies)
        with self.assertRaises(UserError):
            rollout.action_resume()

    def test_a_restart_loses_no_work_and_deploys_no_app_twice(self):
        apps = self._app("acme") | self._app("beta")
        self._annotate()
        rollout = self._rollout(max_concurrent=2)
        rollout.action_start()
        self._run_jobs(models=["kubernetes.rollout"])
        deployments = self._rollout_deployments(apps)
        self.assertEqual(len(deployments), 2)
        self.assertEqual(set(deployments.mapped("state")), {"queued"})

        # Odoo stops: the queued deployments' jobs are gone; the step runs again.
        self.env["queue.job"].search(
            [("uuid", "in", deployments.mapped("job_uuid"))]
        ).unlink()
        rollout._job_step()
        for line in rollout.line_ids:
            line._job_advance()
        self.assertEqual(self._rollout_deployments(apps), deployments, "nothing twice")

        # The watchdog enqueues the same deployments again, and the steps.
        self.env["kubernetes.rollout"]._cron_watch()
        self.assertEqual(
            self.env["queue.job"].search_count(
                [
                    ("uuid", "in", deployments.mapped("job_uuid")),
                    ("state", "=", "pending"),
                ]
            ),
            2,
        )
        self._run_jobs()
        self.assertEqual(rollout.state, "done")
        self.assertEqual(self._rollout_deployments(apps), deployments)
        self.assertEqual(deployments.mapped("attempts"), [1, 1])
        # A job that runs once more (a worker died after it): nothing happens.
        self.assertIn(
            "Nothing to do", Job.load(self.env, deployments[0].job_uuid).perform()
        )
        self.assertIn("Nothing to do", rollout._job_step())
        self.assertIn("Nothing to do", rollout.line_ids[0]._job_advance())
        self.env["kubernetes.rollout"]._cron_watch()
        self.assertEqual(self._run_jobs(), 0)
        self.assertEqual(self._rollout_deployments(apps), deployments)

    def test_a_busy_app_is_retried_later_not_skipped(self):
        acme = self._app("acme")
        self._annotate()
        acme.action_apply()  # queued, its job not run yet
        apply = acme.last_deployment_id
        rollout = self._rollout()
        rollout.action_start()
        self._run_jobs(models=["kubernetes.rollout"])
        line = rollout.line_ids
        self.assertEqual(line.state, "queued")
        self.assertIn("waiting", line.message)
        self.assertFalse(line.deployment_id)

        self._run_jobs()
        self.assertEqual(apply.state, "done")
        self.assertEqual(line.state, "done")
        self.assertGreater(line.deployment_id.id, apply.id)
        self.assertEqual(rollout.state, "done")

    def test_suspended_apps_are_skipped_with_a_reason(self):
        acme = self._app("acme")
        beta = self._app("beta")
        self._annotate()
        beta.sudo().lifecycle = "suspended"
        rollout = self._rollout()
        self.assertEqual(rollout.app_ids, acme | beta)
        rollout.action_start()
        skipped = rollout.line_ids.filtered(lambda line: line.app_id == beta)
        self.assertEqual((skipped.state, skipped.batch), ("skipped", 0))
        self.assertIn("suspended", skipped.message)
        self._run_jobs()
        self.assertEqual(rollout.state, "done")
        self.assertFalse(self._rollout_deployments(beta))
        self.assertEqual((rollout.done_count, rollout.skipped_count), (1, 1))
        self.assertEqual(rollout.progress, 100)

    def test_the_rollout_halts_when_the_manifest_changes_meanwhile(self):
        self._app("acme")
        self._app("beta")
        self._annotate()
        rollout = self._rollout(batch_size=1, max_concurrent=1)
        rollout.action_start()
        self._run_jobs(models=["kubernetes.rollout"])
        self._new_image()
        self._run_jobs()
        self.assertEqual(rollout.state, "halted")
        self.assertIn("changed while the rollout ran", rollout.halt_reason)
        first, second = rollout.line_ids
        self.assertEqual((first.state, second.state), ("failed", "cancelled"))
        self.assertIn("nothing applied", first.message)
        self.assertNotIn(NEW_IMAGE, first.deployment_id.rendered or "")


class TestUpgrade(RolloutCase):
    def _job(self, name, namespace="acme"):
        return self.kube.get_object("batch/v1", "Job", name, namespace)

    def test_an_annotation_needs_no_upgrade(self):
        acme = self._app("acme")
        self._annotate()
        rollout = self._rollout()
        rollout.action_start()
        self._run_jobs()
        self.assertEqual(rollout.line_ids.state, "done")
        self.assertFalse(rollout.line_ids.upgrade)
        self.assertFalse(acme.deployment_ids.filtered(lambda d: d.trigger == "upgrade"))

    def test_a_failed_upgrade_keeps_the_old_pods_and_fails_the_app(self):
        acme = self._app("acme")
        self._new_image()
        self.assertTrue(acme.is_outdated)
        rollout = self._rollout()
        rollout.action_start()
        self._run_jobs()
        line = rollout.line_ids
        self.assertEqual((line.state, line.upgrade), ("upgrade", True))
        upgrade = line.upgrade_deployment_id
        self.assertEqual(upgrade.state, "done", upgrade.error)
        job_name = f"acme-upgrade-{upgrade.upgrade_id}"
        self.assertEqual(line.job_name, job_name)
        job = self._job(job_name)
        pod_spec = job["spec"]["template"]["spec"]
        self.assertEqual(
            {c["image"] for c in pod_spec["initContainers"] + pod_spec["containers"]},
            {NEW_IMAGE},
            "the upgrade runs the new code",
        )
        self.assertEqual(
            self._odoo(acme)["spec"]["template"]["spec"]["containers"][0]["image"],
            OLD_IMAGE,
            "nothing else applied while the upgrade runs",
        )

        # The cluster: the update step fails.
        (pod,) = self.kube.start_pods("Job", job_name, "acme")
        self.kube.set_container_state(pod, "acme", "plan", "terminated", exit_code=0)
        self.kube.set_container_state(pod, "acme", "update", "running")
        self.kube.add_log(
            pod,
            "acme",
            [
                "updating sale in acme",
                "ERROR acme odoo.modules.loading: KeyError: 'x_field'",
            ],
            container="update",
        )
        self.kube.set_container_state(pod, "acme", "update", "terminated", exit_code=1)
        self.kube.finish_job(job_name, "acme", succeeded=False)
        self._run_jobs()

        self.assertEqual(line.state, "failed")
        self.assertIn("upgrade Job", line.message)
        self.assertIn("old pods keep serving", line.message)
        self.assertIn("KeyError: 'x_field'", line.log)
        self.assertIn("KeyError: 'x_field'", upgrade.diagnosis_logs)
        self.assertFalse(line.deployment_id, "the new revision was not applied")
        self.assertEqual(
            self._odoo(acme)["spec"]["template"]["spec"]["containers"][0]["image"],
            OLD_IMAGE,
        )
        self.assertTrue(acme.is_outdated)
        self.assertEqual(rollout.state, "halted", "counts toward the threshold")
        self.assertTrue(
            any("upgrade Job" in body for body in acme.message_ids.mapped("body"))
        )

    def test_an_upgrade_job_that_never_ends_fails_the_app_after_the_timeout(self):
        acme = self._app("acme")
        self._new_image()
        rollout = self._rollout()
        rollout.action_start()
        self._run_jobs()
        line = rollout.line_ids
        self.assertEqual(line.state, "upgrade")
        self.kube.start_pods("Job", line.job_name, "acme")  # and it never ends
        self._run_jobs()
        self.assertEqual(line.state, "upgrade", "still awaited")
        line.job_applied_at = (
            fields.Datetime.now() - JOB_TIMEOUT - datetime.timedelta(minutes=1)
        )
        self._run_jobs()
        self.assertEqual(line.state, "failed")
        self.assertIn("did not finish in 6 hours", line.message)
        self.assertFalse(line.deployment_id, "the new revision was not applied")
        self.assertEqual(
            self._odoo(acme)["spec"]["template"]["spec"]["containers"][0]["image"],
            OLD_IMAGE,
        )
        self.assertEqual(rollout.state, "halted", "counts toward the threshold")

    def test_backup_then_upgrade_then_the_new_pods(self):
        acme = self._app("acme")
        self._new_image()
        rollout = self._rollout(with_backup=True, upgrade_all=True)
        rollout.action_start()
        self._run_jobs()
        line = rollout.line_ids
        self.assertEqual(line.state, "backup")
        backup = line.backup_deployment_id
        self.assertEqual(line.job_name, f"acme-backup-{backup.backup_id}")
        self.assertFalse(line.upgrade_deployment_id, "the upgrade waits for the backup")

        self.kube.finish_job(line.job_name, "acme", succeeded=True)
        self._run_jobs()
        self.assertEqual(line.state, "upgrade")
        upgrade = line.upgrade_deployment_id
        job = self._job(line.job_name)
        env = {
            e["name"]: e.get("value")
            for e in job["spec"]["template"]["spec"]["initContainers"][0]["env"]
        }
        self.assertEqual(env["UPGRADE_MODULES"], "all")

        self.kube.finish_job(line.job_name, "acme", succeeded=True)
        self._run_jobs()
        self.assertEqual(line.state, "done")
        self.assertEqual(rollout.state, "done")
        deployment = line.deployment_id
        self.assertLess(backup.id, upgrade.id)
        self.assertLess(upgrade.id, deployment.id)
        self.assertEqual(
            self._odoo(acme)["spec"]["template"]["spec"]["containers"][0]["image"],
            NEW_IMAGE,
        )
        self.assertFalse(acme.is_outdated)
        self.assertEqual(acme.revision_deployment_id, deployment)
        # The Jobs were not pruned by the new revision's deployment.
        self.assertTrue(self._job(f"acme-upgrade-{upgrade.upgrade_id}"))
        self.assertTrue(self._job(f"acme-backup-{backup.backup_id}"))
