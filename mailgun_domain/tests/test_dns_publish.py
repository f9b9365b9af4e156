# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The cluster publishes the Mailgun DNS records: the built-in variable
``mailgun_dns_records``, the demo manifest's DNSEndpoint on the (fake)
cluster, and a verification right after the deployment that completes
without a human (the Mailgun fake reads DNS from the fake cluster's
DNSEndpoints, as external-dns would publish them)."""

from odoo.addons.kubernetes_app.tests.common import manifest_url
from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.tests.common import trap_jobs

from mintcloud.maildns import (
    DNSENDPOINT_API_VERSION,
    DNSENDPOINT_ENTRY,
    dns_endpoints,
    mailgun_records,
    published_records,
)
from mintcloud.mailgun import dns_records
from mintcloud.tenancy import parse_kinds

from .common import MailgunCase

HOST = "acme.mint-cloud.ch"


class TestDnsPublishedByTheCluster(MailgunCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dns_manifest = cls.env["kubernetes.manifest"].create(
            {
                "name": "Test mailgun-dns",
                "url": manifest_url("mailgun-dns"),
                "sequence": 99,
            }
        )
        cls.cluster.mailgun_publish_dns = True

    def _dns_lines(self):
        return self._manifest_lines() + [
            (0, 0, {"sequence": 99, "manifest_id": self.dns_manifest.id})
        ]

    def _values(self, name="acme"):
        return self._app_values(name, manifest_line_ids=self._dns_lines())

    def _endpoints_on_the_cluster(self):
        return self.kube.list_objects(
            api_version=DNSENDPOINT_API_VERSION, kind="DNSEndpoint"
        )

    def _mailguns_records(self, name=HOST):
        return mailgun_records(dns_records(self.mailgun.domains[name]))

    # --- the option ---------------------------------------------------------------

    def test_the_option_allows_the_dnsendpoint_kind(self):
        kinds = "ConfigMap\napps/Deployment"
        cluster = self.env["kubernetes.cluster"].create(
            {"name": "Other", "allowed_kinds": kinds, "mailgun_publish_dns": True}
        )
        self.assertIn(DNSENDPOINT_ENTRY, parse_kinds(cluster.allowed_kinds))
        self.assertIn("apps/Deployment", parse_kinds(cluster.allowed_kinds))
        plain = self.env["kubernetes.cluster"].create(
            {"name": "Plain", "allowed_kinds": kinds}
        )
        self.assertEqual(plain.allowed_kinds, kinds)
        plain.mailgun_publish_dns = True
        self.assertEqual(
            parse_kinds(plain.allowed_kinds),
            ("ConfigMap", "apps/Deployment", DNSENDPOINT_ENTRY),
        )
        plain.write({"mailgun_publish_dns": True})  # no second line
        self.assertEqual(plain.allowed_kinds.count(DNSENDPOINT_ENTRY), 1)
        demo = self.env.ref("kubernetes_app.cluster_demo", raise_if_not_found=False)
        if demo:
            self.assertTrue(demo.mailgun_publish_dns, "on in the demo")
            self.assertIn(DNSENDPOINT_ENTRY, parse_kinds(demo.allowed_kinds))

    def test_the_records_become_the_builtin_variable(self):
        with trap_jobs():
            app = (
                self.env["kubernetes.app"]
                .with_context(kubernetes_app_no_deploy=True)
                .create(self._values("acme"))
            )
        variables = app._get_variables()
        self.assertEqual(variables["mailgun_dns_records"], [], "not registered yet")
        with trap_jobs() as trap:
            app.mailgun_domain_id._job_register()
            self._perform_all(trap)
        variables = app._get_variables()
        records = variables["mailgun_dns_records"]
        self.assertEqual(
            records, dns_endpoints(dns_records(self.mailgun.domains[HOST]))
        )
        self.assertEqual(len(records), 4)
        self.assertIn("mailgun_dns_records:", app.builtin_variables_yaml)
        self.assertIn("_domainkey.acme.mint-cloud.ch", app._vars_yml(redact=True))
        # Off: the variable is not set, the manifest renders nothing.
        self.cluster.mailgun_publish_dns = False
        self.assertNotIn("mailgun_dns_records", app._get_variables())
        self.assertEqual(app.mailgun_record_ids.mapped("record_type").count("MX"), 2)

    # --- published by the deployment, verified without a human ------------------------

    def test_deployment_publishes_the_records_and_the_invitation_follows(self):
        with trap_jobs() as trap:
            app = self.env["kubernetes.app"].create(self._values("acme"))
            self._perform_all(trap)
        deployment = app.deployment_ids.sorted("id")[0]
        self.assertEqual(deployment.state, "done", deployment.error)
        (endpoint,) = self._endpoints_on_the_cluster()
        self.assertEqual(endpoint["metadata"]["namespace"], "acme")
        self.assertEqual(endpoint["metadata"]["name"], "acme-mailgun")
        # What the cluster publishes is what Mailgun asked for.
        self.assertEqual(published_records([endpoint]), self._mailguns_records())
        dns_object = deployment.object_ids.filtered(lambda o: o.kind == "DNSEndpoint")
        self.assertEqual(dns_object.action, "created")
        # The verification after the deployment saw the records: active.
        verifies = [
            r for r in self.mailgun.request_log if r["path"].endswith("/verify")
        ]
        self.assertEqual(len(verifies), 1, "one verify right after the deployment")
        self.assertEqual(app.mailgun_state, "active")
        self.assertEqual(set(app.mailgun_record_ids.mapped("valid")), {"valid"})
        self.assertEqual(app.mail_status, "verified")
        # ... and the invitation went out once, via Mailgun.
        self.assertEqual(len(self.mailgun.messages), 1)
        self.assertEqual(self.mailgun.messages[0]["domain"], HOST)
        self.assertEqual(app.invitation_state, "sent")

    def test_verify_after_the_deployment_is_retried_while_dns_propagates(self):
        with trap_jobs() as trap:
            app = self.env["kubernetes.app"].create(self._values("acme"))
            trap.perform_enqueued_jobs()  # the registration, then the deployment
            verify = [j for j in trap.enqueued_jobs if j.method_name == "_job_verify"]
            self.assertEqual(len(verify), 1)
            # The DNSEndpoint is applied, but DNS does not show it yet.
            self.mailgun.unpublish_dns()
            with self.assertRaises(RetryableJobError) as caught:
                verify[0].perform()
            self.assertIn("does not see the DNS records", str(caught.exception))
            self.assertEqual(app.mailgun_state, "unverified")
            self.assertEqual(self.mailgun.messages, [])
            # external-dns and DNS catch up: the retry succeeds.
            self.mailgun.publish_dns_from(self.kube)
            verify[0].perform()
            self.assertEqual(app.mailgun_state, "active")
            self._perform_all(trap)
        self.assertEqual(len(self.mailgun.messages), 1)

    def test_records_registered_while_the_first_deployment_runs_are_applied_after(
        self,
    ):
        """The registration and the first deployment run in parallel (two
        channels): the deployment renders without the records; an apply
        follows once it has finished."""
        with trap_jobs() as trap:
            app = self.env["kubernetes.app"].create(self._values("acme"))
            register = [
                j for j in trap.enqueued_jobs if j.method_name == "_job_register"
            ]
            deploy = [j for j in trap.enqueued_jobs if j.method_name == "_job_run"]
            deploy[0].perform()
            first = app.last_deployment_id
            self.assertEqual(first.state, "done")
            self.assertFalse(
                first.object_ids.filtered(lambda o: o.kind == "DNSEndpoint")
            )
            first.state = "running"  # still running when the registration commits
            register[0].perform()
            (helper,) = [
                j for j in trap.enqueued_jobs if j.method_name == "_job_apply_again"
            ]
            with self.assertRaises(RetryableJobError):
                helper.perform()
            self.assertEqual(app.deployment_ids, first)
            first.state = "done"
            trap.enqueued_jobs.remove(helper)
            helper.perform()
            self.assertEqual(app.last_deployment_id.trigger, "apply")
            self._perform_all(trap)
        self.assertEqual(len(self._endpoints_on_the_cluster()), 1)
        self.assertEqual(app.mailgun_state, "active")
        self.assertEqual(len(self.mailgun.messages), 1)
        self.assertEqual(len(app.deployment_ids), 2)

    def test_changed_records_of_a_terminating_app_apply_nothing(self):
        app = self._create(
            "acme", cluster=self.cluster, manifest_line_ids=self._dns_lines()
        )
        app.lifecycle = "terminating"
        with trap_jobs() as trap:
            app._mailgun_dns_records_changed()
            trap.assert_jobs_count(0)
        self.assertEqual(len(app.deployment_ids), 1)
        self.assertFalse(self._notes(app, "DNS records changed"))

    def test_without_the_option_nothing_is_published_and_the_invitation_waits(self):
        self.cluster.mailgun_publish_dns = False
        app = self._create(
            "acme", cluster=self.cluster, manifest_line_ids=self._dns_lines()
        )
        self.assertEqual(app.last_deployment_id.state, "done")
        self.assertEqual(self._endpoints_on_the_cluster(), [])
        self.assertFalse(
            [r for r in self.mailgun.request_log if r["path"].endswith("/verify")],
            "no verify job: nothing was published",
        )
        self.assertEqual(app.mailgun_state, "unverified")
        self.assertEqual(len(app.mailgun_record_ids), 5, "shown to the operator")
        self.assertIn("publish its DNS records", app.invitation_reason)
        self.assertEqual(self.mailgun.messages, [])

    def test_changed_records_are_published_again(self):
        app = self._create(
            "acme", cluster=self.cluster, manifest_line_ids=self._dns_lines()
        )
        self.assertEqual(app.mailgun_state, "active")
        # Mailgun rotates the DKIM key: the next verification sees new records.
        body = self.mailgun.domains[HOST]
        dkim = next(r for r in body["sending_dns_records"] if "_domainkey" in r["name"])
        dkim["value"] = "k=rsa; p=ROTATED"
        with trap_jobs() as trap:
            self.env["mailgun.domain"]._cron_verify()  # active: not asked
            app.action_verify_mailgun_domain()
            self._perform_all(trap)
        self.assertTrue(self._notes(app, "DNS records changed"))
        self.assertEqual(app.last_deployment_id.trigger, "apply")
        (endpoint,) = self._endpoints_on_the_cluster()
        self.assertEqual(published_records([endpoint]), self._mailguns_records())
