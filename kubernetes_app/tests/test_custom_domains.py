# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The customer's own domains: add, DNS check against a fake resolver,
verified, served by the Ingress on the fake API server, removed."""

import base64
from unittest.mock import patch

from kubernetes import client as k8s

from odoo.exceptions import AccessError, UserError, ValidationError

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.tests.common import trap_jobs

from mintcloud.kube import api_client
from tests.fakes.dns_resolver import FakeResolver

from ..models.kubernetes_app_domain import KubernetesAppDomain
from .common import KubernetesAppCase

DOMAIN = "erp.customer.com"


class TestCustomDomains(KubernetesAppCase):
    def setUp(self):
        super().setUp()
        self.resolver = FakeResolver()
        patcher = patch.object(
            KubernetesAppDomain, "_dns_resolver", lambda _self: self.resolver
        )
        patcher.start()
        self.addCleanup(patcher.stop)
        self.app = self._create_app("acme")
        self.Domain = self.env["kubernetes.app.domain"]

    # --- helpers ----------------------------------------------------------

    def _add(self, name=DOMAIN, app=None):
        return self.Domain.create({"app_id": (app or self.app).id, "name": name})

    def _publish(self, domain, target="acme.mint-cloud.ch."):
        self.resolver.add(domain.name, "CNAME", target)
        self.resolver.add(
            domain.txt_name, "TXT", f'"mint-cloud-verification={domain.token}"'
        )

    def _check(self, domain):
        """Check now (queued), then the job; the jobs it queued in turn."""
        with trap_jobs() as trap:
            domain.action_check_dns()
            trap.assert_jobs_count(1, only=domain._job_check_dns)
            trap.perform_enqueued_jobs()
            later = list(trap.enqueued_jobs)
        return later

    def _verify(self, *domains):
        """A manager marks each domain verified; the apply jobs run."""
        for domain in domains:
            with trap_jobs() as trap:
                domain.with_user(self.manager).action_mark_verified()
                trap.perform_enqueued_jobs()

    def _ingress(self, app=None):
        app = app or self.app
        return self.kube.get_object(
            "networking.k8s.io/v1", "Ingress", app.name, app.namespace
        )

    def _hosts(self, ingress):
        return (
            [rule["host"] for rule in ingress["spec"]["rules"]],
            {
                tls["hosts"][0]: tls["secretName"]
                for tls in ingress["spec"].get("tls", [])
            },
        )

    # --- adding -----------------------------------------------------------

    def test_added_domain_waits_for_dns_and_shows_the_records(self):
        domain = self._add("ERP.Customer.com.")
        self.assertEqual(domain.name, DOMAIN)
        self.assertEqual(domain.state, "pending")
        self.assertEqual(len(domain.token), 32)
        self.assertEqual(
            (domain.route_type, domain.route_name, domain.route_value),
            ("CNAME", DOMAIN, "acme.mint-cloud.ch"),
        )
        self.assertEqual(domain.txt_name, f"_mint-cloud-challenge.{DOMAIN}")
        self.assertEqual(domain.txt_value, f"mint-cloud-verification={domain.token}")
        self.assertNotIn("custom_domains", self.app._get_builtin_variables())
        self.assertTrue(self.app.message_ids.filtered(lambda m: DOMAIN in m.body))

    def test_apex_domain_gets_the_cluster_ingress_addresses(self):
        self.cluster.ingress_addresses = "203.0.113.7, 2001:db8::7"
        domain = self._add("customer.com")
        records = domain._dns_records()
        self.assertEqual(
            [(r["type"], r["value"]) for r in records],
            [
                ("A", "203.0.113.7"),
                ("AAAA", "2001:db8::7"),
                ("TXT", f"mint-cloud-verification={domain.token}"),
            ],
        )
        with self.assertRaises(ValidationError):
            self.cluster.ingress_addresses = "lb.example.net"

    def test_idn_is_stored_in_punycode_and_shown_readable(self):
        domain = self._add("Bücher.example.net")
        self.assertEqual(domain.name, "xn--bcher-kva.example.net")
        self.assertEqual(domain.name_unicode, "bücher.example.net")

    def test_rules_are_enforced_with_clear_messages(self):
        cases = {
            "acme.mint-cloud.ch": "the platform's own domain",
            "other.example.org": "the platform's own domain",  # the dry cluster's
            "203.0.113.7": "IP address",
            "*.customer.com": "wildcards",
            "my_app.customer.com": "not allowed",
            "https://erp.customer.com/web": "here: erp.customer.com",
            "p\u0430ypal.com": "different scripts",
            "erp.local": "reserved for private use",
            "a" * 64 + ".com": "at most 63 characters",
        }
        for text, words in cases.items():
            with self.subTest(text=text), self.assertRaises(ValidationError) as caught:
                self._add(text)
            self.assertIn(words, str(caught.exception))

    def test_a_domain_is_used_by_one_app_on_any_cluster(self):
        self._add(DOMAIN)
        with trap_jobs():
            other = self.env["kubernetes.app"].create(
                self._app_values("other", cluster_id=self.dry_cluster.id)
            )
        for text in (DOMAIN, "ERP.customer.COM.", " erp.customer.com "):
            with self.subTest(text=text), self.assertRaises(ValidationError) as caught:
                self._add(text, app=other)
            self.assertIn("already used by an app", str(caught.exception))

    def test_at_most_the_limit_and_none_for_integration_apps(self):
        self.assertEqual(self.app.custom_domain_limit, 3)
        for index in range(3):
            self._add(f"d{index}.customer.com")
        with self.assertRaises(UserError) as caught:
            self._add("d3.customer.com")
        self.assertIn("at most 3 custom domains", str(caught.exception))
        int_app = self._create_int_app(self.app)
        self.assertEqual(int_app.custom_domain_limit, 0)
        with self.assertRaises(UserError) as caught:
            self._add("staging.customer.com", app=int_app)
        self.assertIn("Only production apps", str(caught.exception))
        self.assertNotIn("custom_domains", int_app._get_builtin_variables())

    def test_a_domain_cannot_be_renamed_or_moved(self):
        domain = self._add()
        with self.assertRaises(UserError):
            domain.name = "other.customer.com"

    # --- the whole flow ---------------------------------------------------

    def test_add_check_verify_apply_remove(self):
        domain = self._add()
        # Nothing in DNS yet: still pending, and the page says what is missing.
        self.assertEqual(self._check(domain), [])
        self.assertEqual(domain.state, "pending")
        self.assertEqual(
            (domain.dns_txt_state, domain.dns_route_state), ("missing", "missing")
        )
        self.assertIn("TXT record is not there yet", domain.missing_text)
        self.assertTrue(domain.dns_checked_at)
        self.assertFalse(domain.dns_check_queued)
        # The CNAME points elsewhere: wrong, and what was found is shown.
        self._publish(domain, target="elsewhere.example.net.")
        self._check(domain)
        self.assertEqual(domain.dns_route_state, "wrong")
        self.assertIn("elsewhere.example.net", domain.missing_text)
        # The records are right: verified, and the app is applied again.
        self.resolver.remove(DOMAIN, "CNAME")
        self._publish(domain)
        with trap_jobs() as trap:
            domain.action_check_dns()
            trap.perform_enqueued_jobs()
            self.assertEqual(domain.state, "verified")
            self.assertEqual(domain.verify_method, "dns")
            trap.assert_jobs_count(1)
            deployment = self.app.last_deployment_id
            self.assertEqual(
                (deployment.trigger, deployment.state), ("apply", "queued")
            )
            trap.perform_enqueued_jobs()
        self.assertEqual(deployment.state, "done", deployment.error)
        hosts, tls = self._hosts(self._ingress())
        self.assertEqual(hosts, ["acme.mint-cloud.ch", DOMAIN])
        self.assertEqual(
            tls,
            {
                "acme.mint-cloud.ch": "acme-tls",
                DOMAIN: "acme-erp-customer-com-0636fd19-tls",
            },
        )
        self.assertEqual(
            self.app._get_builtin_variables()["custom_domains"],
            [
                {
                    "host": DOMAIN,
                    "tls_secret": "acme-erp-customer-com-0636fd19-tls",
                    "primary": False,
                }
            ],
        )
        self.assertIn("custom_domains", self.app.builtin_variables_yaml)
        self.assertTrue(
            self.app.message_ids.filtered(lambda m: "verified (its DNS" in m.body)
        )
        # Removed: applied again without it.
        with trap_jobs() as trap:
            domain.action_remove()
            trap.assert_jobs_count(1)
            trap.perform_enqueued_jobs()
        self.assertFalse(domain.exists())
        self.assertEqual(self.app.last_deployment_id.state, "done")
        hosts, tls = self._hosts(self._ingress())
        self.assertEqual(hosts, ["acme.mint-cloud.ch"])
        self.assertEqual(list(tls), ["acme.mint-cloud.ch"])

    def test_removing_a_pending_domain_applies_nothing(self):
        domain = self._add()
        with trap_jobs() as trap:
            domain.unlink()
            trap.assert_jobs_count(0)

    def test_dns_that_does_not_answer_keeps_the_domain_pending(self):
        domain = self._add()
        self.resolver.time_out(domain.txt_name, "TXT")
        self.resolver.time_out(DOMAIN, "CNAME")
        self.resolver.time_out(DOMAIN, "A")
        self._check(domain)
        self.assertEqual(domain.state, "pending")
        self.assertEqual(
            (domain.dns_txt_state, domain.dns_route_state), ("error", "error")
        )
        self.assertIn("DNS did not answer", domain.missing_text)

    def test_suspended_app_serves_the_suspended_page_at_its_domains(self):
        domain = self._add()
        self._publish(domain)
        with trap_jobs() as trap:
            domain._check_dns()
            trap.perform_enqueued_jobs()
        with trap_jobs() as trap:
            self.app.action_suspend()
            for _round in range(3):
                trap.perform_enqueued_jobs()
        self.assertEqual(self.app.state, "suspended")
        ingress = self._ingress()
        backends = {
            rule["host"]: rule["http"]["paths"][0]["backend"]["service"]["name"]
            for rule in ingress["spec"]["rules"]
        }
        self.assertEqual(
            backends, {"acme.mint-cloud.ch": "acme-suspended", DOMAIN: "acme-suspended"}
        )

    # --- operators --------------------------------------------------------

    def test_manager_marks_verified_with_a_chatter_note(self):
        domain = self._add()
        with self.assertRaises(AccessError):
            domain.with_user(self.user).action_mark_verified()
        with trap_jobs() as trap:
            domain.with_user(self.manager).action_mark_verified()
            trap.assert_jobs_count(1)
            trap.perform_enqueued_jobs()
        self.assertEqual(
            (domain.state, domain.verify_method, domain.verified_by_id),
            ("verified", "manual", self.manager),
        )
        note = self.app.message_ids.filtered(lambda m: "marked verified by" in m.body)
        self.assertEqual(len(note), 1)
        self.assertIn(self.manager.name, note.body)
        self.assertEqual(self._hosts(self._ingress())[0][-1], DOMAIN)

    def test_operator_adds_on_the_app_form(self):
        app = self.app.with_user(self.user)
        app.write({"custom_domain_ids": [(0, 0, {"name": "shop.customer.com"})]})
        self.assertEqual(app.custom_domain_ids.name, "shop.customer.com")
        # Check now from the row queues the job and returns a notification.
        with trap_jobs() as trap:
            action = app.custom_domain_ids.action_check_dns()
            trap.assert_jobs_count(1)
        self.assertEqual(action["tag"], "display_notification")

    def test_primary_domain_becomes_the_base_url(self):
        domain = self._add()
        second = self._add("shop.customer.com")
        self._verify(domain, second)
        with self.assertRaises(UserError):
            self._add("new.customer.com").action_make_primary()
        with trap_jobs() as trap:
            second.action_make_primary()
            trap.assert_jobs_count(1)
            trap.perform_enqueued_jobs()
        self.assertTrue(second.is_primary)
        deployment = self.kube.get_object("apps/v1", "Deployment", "acme-odoo", "acme")
        init = {
            c["name"]: c
            for c in deployment["spec"]["template"]["spec"]["initContainers"]
        }
        env = {e["name"]: e.get("value") for e in init["base-url"]["env"]}
        self.assertEqual(env["WEB_BASE_URL"], "https://shop.customer.com")
        # Another primary: the first one is no longer.
        with trap_jobs() as trap:
            domain.action_make_primary()
            trap.perform_enqueued_jobs()
        self.assertEqual((domain.is_primary, second.is_primary), (True, False))
        with trap_jobs() as trap:
            domain.action_unset_primary()
            trap.perform_enqueued_jobs()
        deployment = self.kube.get_object("apps/v1", "Deployment", "acme-odoo", "acme")
        init = deployment["spec"]["template"]["spec"]["initContainers"]
        env = {e["name"]: e.get("value") for e in init[-1]["env"]}
        self.assertEqual(env["WEB_BASE_URL"], "https://acme.mint-cloud.ch")

    # --- a busy app, TLS, the cron ------------------------------------------

    def _apply_rendered_first(self, trap):
        """Apply the app: its deployment renders now and is still running
        when what follows commits; the deployment."""
        self.app.action_apply()
        busy = self.app.last_deployment_id
        trap.perform_enqueued_jobs()
        busy.state = "running"
        return busy

    def _waiting(self, trap):
        return [j for j in trap.enqueued_jobs if j.method_name == "_job_apply_again"]

    def test_verified_while_busy_waits_then_applies(self):
        domain = self._add()
        with trap_jobs() as trap:
            busy = self._apply_rendered_first(trap)
            domain.with_user(self.manager).action_mark_verified()
            waiting = self._waiting(trap)
            self.assertEqual(len(waiting), 1)
            # The app is busy: the job waits without applying.
            with self.assertRaises(RetryableJobError):
                waiting[0].perform()
            trap.enqueued_jobs.remove(waiting[0])
            busy.state = "done"  # the busy deployment finished
            self.assertEqual(busy.state, "done")
            waiting[0].perform()
            self.assertEqual(self.app.last_deployment_id.trigger, "apply")
            self.assertNotEqual(self.app.last_deployment_id, busy)
            trap.perform_enqueued_jobs()
        self.assertEqual(self._hosts(self._ingress())[0][-1], DOMAIN)
        # Two changes while the app is busy: a later change supersedes a
        # waiting job, the app is applied again once.
        second = self._add("shop.customer.com")
        with trap_jobs() as trap:
            busy = self._apply_rendered_first(trap)
            second.with_user(self.manager).action_mark_verified()
            second.action_make_primary()
            waiting = self._waiting(trap)
            self.assertEqual(len(waiting), 2)
            busy.state = "done"
            count = len(self.app.deployment_ids)
            for job in waiting:
                trap.enqueued_jobs.remove(job)
            results = [job.perform() for job in waiting]
            self.assertIn("later change", results[0])
            self.assertEqual(len(self.app.deployment_ids), count + 1)
            self.assertEqual(self.app.last_deployment_id.trigger, "apply")
            trap.perform_enqueued_jobs()
        hosts, _tls = self._hosts(self._ingress())
        self.assertEqual(hosts, ["acme.mint-cloud.ch", DOMAIN, "shop.customer.com"])

    def test_a_busy_deployment_that_rendered_the_change_is_enough(self):
        """The queued deployment runs after the change committed: it serves
        the domain, and the waiting job applies nothing more."""
        domain = self._add()
        with trap_jobs() as trap:
            self.app.action_apply()
            busy = self.app.last_deployment_id
            domain.with_user(self.manager).action_mark_verified()
            (waiting,) = self._waiting(trap)
            trap.enqueued_jobs.remove(waiting)
            trap.perform_enqueued_jobs()  # the busy deployment
            self.assertEqual(busy.state, "done")
            self.assertIn("rendered the new values", waiting.perform())
            self.assertEqual(self.app.last_deployment_id, busy)
            trap.assert_jobs_count(0)
        self.assertEqual(self._hosts(self._ingress())[0][-1], DOMAIN)

    def test_a_terminating_app_is_not_applied_again(self):
        domain = self._add()
        self.app.lifecycle = "terminating"
        count = len(self.app.deployment_ids)
        with trap_jobs() as trap:
            domain.with_user(self.manager).action_mark_verified()
            trap.assert_jobs_count(0)
        self.assertEqual(len(self.app.deployment_ids), count)
        self.assertIn("terminated", self.app._job_apply_again(1, "note"))

    def test_tls_ready_per_domain_from_its_secret(self):
        ready, waiting = self._add(), self._add("shop.customer.com")
        self._verify(ready, waiting)
        # cert-manager issued the certificate of one domain only.
        with api_client(host=self.kube.url) as client:
            k8s.CoreV1Api(client).create_namespaced_secret(
                "acme",
                {
                    "metadata": {
                        "name": ready.tls_secret,
                        "annotations": {"cert-manager.io/alt-names": DOMAIN},
                    },
                    "type": "kubernetes.io/tls",
                    "data": {
                        "tls.crt": base64.b64encode(b"CERT").decode(),
                        "tls.key": base64.b64encode(b"KEY").decode(),
                    },
                },
            )
        self.app._refresh_status()
        self.assertEqual(ready.tls_state, "ready")
        self.assertEqual(waiting.tls_state, "pending")
        self.assertTrue(ready.tls_checked_at)

    def test_cron_checks_due_domains_with_back_off(self):
        fresh, old = self._add(), self._add("old.customer.com")
        self._publish(fresh)
        with trap_jobs() as trap:
            checked = self.Domain._cron_check_dns()
            self.assertEqual(checked, fresh | old)
            trap.perform_enqueued_jobs()
        self.assertEqual((fresh.state, old.state), ("verified", "pending"))
        # Checked just now: not due again at once.
        self.assertFalse(self.Domain._cron_check_dns())
        self.env.cr.execute(
            "UPDATE kubernetes_app_domain SET create_date = now() - interval '30 days', "
            "dns_checked_at = now() - interval '2 hours' WHERE id = %s",
            (old.id,),
        )
        old.invalidate_recordset()
        self.assertFalse(self.Domain._cron_check_dns(), "an old domain: daily")
