"""The served product runs its jobs: Odoo as ``make run`` serves it, checked over HTTP.

Nothing here runs a queue job itself.  Each flow is started the way a person
starts it (the demo data at install, an operator's click on *Apply* sent as
the web client sends it, a customer's purchase as the browser's requests)
and then only polled, with a bound, until queue_job's runner has done the
work.  Without queue_job as a server-wide module every check here fails: the
apps stay ``queued``.
"""

import html
import json
import os
import pathlib
import re

import pytest

from mintcloud.apply import RETAIN_LABEL
from mintcloud.domains import tls_secret_name
from tests.fakes.file_server import FakeFileServer
from tests.fakes.kube_api import FakeKubeServer
from tests.fakes.mailgun_api import FakeMailgunServer
from tests.served.client import RpcError, wait_for

ROOT = pathlib.Path(__file__).resolve().parents[2]
#: Seconds a job may take to be picked up and done by the runner (it starts
#: five seconds after the server and then reacts to NOTIFY at once).
JOB_BOUND = 90
DEMO_APPS = ("acme", "acme-int")
OPERATOR_GROUP = "kubernetes_manifest.group_kubernetes_manager"


def kubeconfig(url):
    return (
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: fake\n  cluster:\n    server: {url}\n"
        "users:\n- name: anonymous\n  user: {}\n"
        "contexts:\n- name: fake\n  context:\n    cluster: fake\n    user: anonymous\n"
        "current-context: fake\n"
    )


def apps(session, names):
    return {
        app["name"]: app
        for app in session.call(
            "kubernetes.app",
            "search_read",
            [("name", "in", list(names))],
            fields=["name", "state", "status_message", "last_deployment_state"],
        )
    }


def settled(session, names, states):
    """All apps ``names`` exist and are in one of ``states``; else None."""
    found = apps(session, names)
    if len(found) == len(names) and all(a["state"] in states for a in found.values()):
        return found
    return None


def wait_settled(session, names, states, what):
    """Poll until ``settled``; a timeout reports the apps' states."""
    return wait_for(
        lambda: settled(session, names, states),
        JOB_BOUND,
        what,
        describe=lambda: {n: a["state"] for n, a in apps(session, names).items()},
    )


def test_demo_apps_leave_queued(served):
    """The demo apps' first deployments, queued at install, are run by the runner."""
    admin = served.admin()
    found = wait_settled(
        admin,
        DEMO_APPS,
        {"dry-run", "error"},
        "demo apps acme and acme-int leave 'queued'",
    )
    assert {name: app["state"] for name, app in found.items()} == {
        "acme": "dry-run",
        "acme-int": "dry-run",
    }, found
    jobs = admin.call(
        "queue.job",
        "search_read",
        [("model_name", "=", "kubernetes.deployment")],
        fields=["state", "func_string"],
    )
    assert jobs and all(job["state"] == "done" for job in jobs), jobs
    log = served.log()
    assert "starting jobrunner thread" in log, "queue_job's runner did not start"
    assert "Configured channel: root.kubernetes(C:2" in log, "channel not configured"


@pytest.fixture(scope="module")
def cluster(served):
    """The demo cluster connected to a fake API server, as a manager sets it up."""
    kube = FakeKubeServer().start()
    admin = served.admin()
    cluster_id = admin.xmlid("kubernetes_app.cluster_demo")
    admin.call(
        "kubernetes.cluster",
        "write",
        [cluster_id],
        {"connection": "kubeconfig", "kubeconfig": kubeconfig(kube.url)},
    )
    yield kube
    kube.stop()


@pytest.fixture(scope="module")
def operator(served):
    """A Kubernetes manager logged in through the web client's login."""
    admin = served.admin()
    group_id = admin.xmlid(OPERATOR_GROUP)
    admin.call(
        "res.users",
        "create",
        {
            "name": "Olga Operator",
            "login": "operator@example.com",
            # What the user form's login fills in.
            "email": "operator@example.com",
            "password": "operator-served-check",
            "groups_id": [(6, 0, [group_id, admin.xmlid("base.group_user")])],
        },
    )
    session = served.session()
    session.login(served.database, "operator@example.com", "operator-served-check")
    return session


def objects_of(kube, app):
    return kube.list_objects(label_selector=f"mint-cloud.ch/app={app}")


def test_operator_apply_is_run_by_the_runner(served, cluster, operator):
    """Apply clicked on the app form ends with the app's objects on the API server."""
    (app,) = operator.call(
        "kubernetes.app", "search_read", [("name", "=", "acme")], fields=["id"]
    )
    wait_settled(
        operator, ["acme"], {"dry-run", "error"}, "acme's first deployment done"
    )
    operator.click("kubernetes.app", "action_apply", [app["id"]])
    found = wait_settled(
        operator,
        ["acme"],
        {"running", "deploying", "degraded", "error"},
        "the Apply clicked by the operator is processed",
    )
    assert found["acme"]["state"] != "error", found["acme"]["status_message"]
    kinds = sorted(obj["kind"] for obj in objects_of(cluster, "acme"))
    assert "Deployment" in kinds and "Ingress" in kinds, kinds
    deployments = operator.call(
        "kubernetes.deployment",
        "search_read",
        [("app_id", "=", app["id"])],
        fields=["state", "trigger"],
        order="id desc",
        limit=1,
    )
    assert deployments[0]["state"] == "done", deployments


# --- a customer buys hosting in the shop -------------------------------------


def _form_value(page, name):
    match = re.search(rf'name="{re.escape(name)}"[^>]*?value="([^"]*)"', page)
    if not match:
        match = re.search(rf'value="([^"]*)"[^>]*?name="{re.escape(name)}"', page)
    assert match, f"no input {name!r} in the page"
    return html.unescape(match.group(1))


def _payment_form(page):
    """The data-* attributes of the payment form (what payment_form.js reads)."""
    match = re.search(r"<form[^>]*id=\"o_payment_form\"[^>]*>", page)
    assert match, "no payment form on /shop/payment"
    return {
        key: html.unescape(value)
        for key, value in re.findall(r'data-([a-z-]+)="([^"]*)"', match.group(0))
    }


def _demo_option(page):
    """(provider id, payment method id) of the demo provider's radio button."""
    for tag in re.findall(r"<input[^>]*name=\"o_payment_radio\"[^>]*>", page):
        attrs = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', tag))
        if (
            attrs.get("provider-code") == "demo"
            and attrs.get("payment-option-type") == "payment_method"
        ):
            return int(attrs["provider-id"]), int(attrs["payment-option-id"])
    raise AssertionError("the demo payment provider is not offered on /shop/payment")


def test_customer_buys_hosting(served, cluster):
    """Cart, app name, demo payment with Odoo's real post-processing, both apps deployed."""
    name = f"served{os.getpid() % 100000}"
    shop = served.session()

    # Product page, then "Add to cart" as website_sale's JS sends it.
    listing = shop.get("/shop?search=Odoo-Hosting").text
    path = re.search(r'href="(/shop/odoo-hosting-\d+)[?"]', listing)
    assert path, "Odoo-Hosting is not in /shop"
    product_page = shop.get(path.group(1)).text
    product_id = int(_form_value(product_page, "product_id"))
    shop.jsonrpc("/shop/cart/update_json", {"product_id": product_id, "add_qty": 1})
    assert "Odoo-Hosting" in shop.get("/shop/cart").text

    # Address of a new customer.
    address = shop.get("/shop/address").text
    country = re.search(
        r'<option value="(\d+)"[^>]*>\s*Switzerland\s*</option>', address
    )
    response = shop.post(
        "/shop/address",
        {
            "csrf_token": shop.csrf(address),
            "submitted": "1",
            "partner_id": "-1",
            "name": "Ada Served",
            "email": f"{name}@example.com",
            "phone": "+41 44 000 00 00",
            "street": "Bahnhofstrasse 1",
            "city": "Zürich",
            "zip": "8001",
            "country_id": country.group(1) if country else "",
        },
    )
    # /shop/confirm_order sends a hosting cart to the App Name step.
    assert response.url.endswith("/shop/app_name"), response.url

    # The App Name step: the live check, then the form.
    step = response.text
    field = re.search(r'name="(app_name_(\d+))"', step)
    assert field, "no app name field on /shop/app_name"
    check = shop.jsonrpc(
        "/shop/app_name/check", {"name": name, "line_id": int(field.group(2))}
    )
    assert check["valid"], check
    response = shop.post(
        "/shop/app_name", {"csrf_token": shop.csrf(step), field.group(1): name}
    )
    assert response.url.endswith("/shop/payment"), response.url

    # Payment with the demo provider, as payment_form.js and the demo
    # provider's JS do it: create the transaction, simulate a paid card,
    # then the status page polls, which runs Odoo's post-processing.
    payment = response.text
    form = _payment_form(payment)
    provider_id, method_id = _demo_option(payment)
    processing = shop.jsonrpc(
        form["transaction-route"],
        {
            "provider_id": provider_id,
            "payment_method_id": method_id,
            "token_id": None,
            "amount": float(form["amount"]),
            "flow": "direct",
            "tokenization_requested": False,
            "landing_route": form["landing-route"],
            "is_validation": False,
            "access_token": form["access-token"],
            "csrf_token": shop.csrf(payment),
        },
    )
    shop.jsonrpc(
        "/payment/demo/simulate_payment",
        {
            "reference": processing["reference"],
            "payment_details": "4242",
            "simulated_state": "done",
        },
    )
    shop.get("/payment/status")

    def poll():
        try:
            return shop.jsonrpc(
                "/payment/status/poll", {"csrf_token": shop.csrf(payment)}
            )
        except RpcError as error:  # the page's JS polls again on "retry"
            if "retry" in str(error):
                return None
            raise

    result = wait_for(poll, 60, "the payment status page gets its result")
    assert result.get("state") == "done" or result.get("is_post_processed"), result
    confirmation = shop.get(result.get("landing_route") or "/shop/confirmation").text
    assert f"https://{name}.mint-cloud.ch" in confirmation

    # The order is confirmed and both apps are deployed by the runner.
    admin = served.admin()
    order = admin.call(
        "sale.order",
        "search_read",
        [("order_line.kubernetes_app_name", "=", name)],
        fields=["state"],
    )
    assert order and order[0]["state"] == "sale", order
    names = [name, f"{name}-int"]
    found = wait_settled(
        admin,
        names,
        {"running", "deploying", "degraded", "error"},
        "both new apps deployed",
    )
    assert all(app["state"] != "error" for app in found.values()), found
    for app in names:
        kinds = sorted(obj["kind"] for obj in objects_of(cluster, app))
        assert "Deployment" in kinds, (app, kinds)


def _odoo_replicas(kube, app):
    obj = kube.get_object("apps/v1", "Deployment", f"{app}-odoo", app.split("-int")[0])
    return obj and obj["spec"]["replicas"]


def test_operator_suspends_and_resumes_an_app(served, cluster, operator):
    """Suspend and Resume clicked by a manager, run by the job runner."""
    (app,) = operator.call(
        "kubernetes.app", "search_read", [("name", "=", "acme")], fields=["id"]
    )
    operator.click("kubernetes.app", "action_suspend", [app["id"]])
    wait_settled(operator, ["acme"], {"suspended", "error"}, "acme suspended")
    assert _odoo_replicas(cluster, "acme") == 0
    assert cluster.get_object("apps/v1", "Deployment", "acme-suspended", "acme")
    operator.click("kubernetes.app", "action_resume", [app["id"]])
    wait_settled(
        operator,
        ["acme"],
        {"deploying", "running", "degraded", "error"},
        "acme resumed",
    )
    assert _odoo_replicas(cluster, "acme") == 1
    assert not cluster.get_object("apps/v1", "Deployment", "acme-suspended", "acme")


def test_closing_the_subscription_suspends_its_apps(served, cluster):
    """The purchased apps follow their subscription: closed, they are suspended."""
    admin = served.admin()
    apps = admin.call(
        "kubernetes.app",
        "search_read",
        [("subscription_id", "!=", False), ("name", "like", "served")],
        fields=["name", "subscription_id"],
    )
    assert len(apps) == 2, apps
    subscription_id = apps[0]["subscription_id"][0]
    closed = admin.xmlid("subscription_oca.subscription_stage_closed")
    admin.call("sale.subscription", "write", [subscription_id], {"stage_id": closed})
    names = [app["name"] for app in apps]
    found = wait_settled(admin, names, {"suspended", "error"}, "both apps suspended")
    assert {app["state"] for app in found.values()} == {"suspended"}, found
    for name in names:
        assert _odoo_replicas(cluster, name) == 0, name


def test_operator_rolls_a_changed_manifest_out(served, cluster, operator):
    """A changed manifest makes the demo apps outdated; a rollout started over
    JSON-RPC brings them to the new revision through the real job runner
    (integration app first), and skips the suspended apps with a reason."""
    template = (
        ROOT / "kubernetes_manifest" / "static" / "manifests" / "odoo.yaml"
    ).read_text(encoding="utf-8")
    hostname = "    mintcloud.io/hostname: {{ hostname | to_json }}\n"
    assert hostname in template
    files = FakeFileServer().start()
    try:
        url = files.set(
            "/odoo.yaml",
            template.replace(
                hostname, hostname + '    mintcloud.io/served-rollout: "two"\n', 1
            ),
        )
        manifest_id = served.admin().xmlid("kubernetes_manifest.manifest_demo_odoo")
        # The operator points the manifest at its new file: Odoo fetches it.
        operator.call("kubernetes.manifest", "write", [manifest_id], {"url": url})
    finally:
        files.stop()
    (manifest,) = operator.call(
        "kubernetes.manifest",
        "read",
        [manifest_id],
        ["fetch_error", "sha256", "outdated_app_count"],
    )
    assert not manifest["fetch_error"], manifest
    outdated = {
        app["name"]
        for app in operator.call(
            "kubernetes.app",
            "search_read",
            [("is_outdated", "=", True)],
            fields=["name"],
        )
    }
    assert {"acme", "acme-int"} <= outdated, outdated
    assert manifest["outdated_app_count"] == len(outdated), manifest

    rollout_id = operator.call(
        "kubernetes.rollout", "create", {"manifest_id": manifest_id}
    )
    (rollout,) = operator.call("kubernetes.rollout", "read", [rollout_id], ["app_ids"])
    assert len(rollout["app_ids"]) == len(outdated), rollout
    operator.click("kubernetes.rollout", "action_start", [rollout_id])

    def finished():
        (found,) = operator.call(
            "kubernetes.rollout",
            "read",
            [rollout_id],
            ["state", "progress", "halt_reason"],
        )
        return found if found["state"] in ("done", "halted") else None

    done = wait_for(finished, JOB_BOUND, "the rollout is done")
    assert done["state"] == "done" and done["progress"] == 100, done
    lines = {
        line["app_id"][1]: line
        for line in operator.call(
            "kubernetes.rollout.line",
            "search_read",
            [("rollout_id", "=", rollout_id)],
            fields=["app_id", "state", "message", "batch", "canary"],
        )
    }
    assert lines["acme-int"]["state"] == "done" and lines["acme-int"]["canary"], lines
    assert lines["acme"]["state"] == "done", lines
    assert lines["acme-int"]["batch"] < lines["acme"]["batch"], lines
    for line in lines.values():  # the purchased apps are suspended: skipped
        assert line["state"] in ("done", "skipped"), line
        if line["state"] == "skipped":
            assert "suspended" in line["message"], line
    assert any(line["state"] == "skipped" for line in lines.values()), lines
    for name in ("acme", "acme-int"):
        odoo = cluster.get_object("apps/v1", "Deployment", f"{name}-odoo", "acme")
        annotations = odoo["metadata"]["annotations"]
        assert annotations["mintcloud.io/served-rollout"] == "two", name
    still = operator.call(
        "kubernetes.app",
        "search_read",
        [("is_outdated", "=", True), ("name", "in", ["acme", "acme-int"])],
        fields=["name"],
    )
    assert not still, still


def _ingress_hosts(kube, app, namespace):
    obj = kube.get_object("networking.k8s.io/v1", "Ingress", app, namespace)
    return [rule["host"] for rule in obj["spec"]["rules"]] if obj else []


def test_customer_adds_a_domain_that_is_served_once_verified(served, cluster, operator):
    """A customer adds their own domain in the portal; once a manager marks it
    verified, the runner applies the app again and the Ingress serves both
    hosts; removing it applies the app without it."""
    admin = served.admin()
    (app,) = admin.call(
        "kubernetes.app",
        "search_read",
        [("name", "=", "acme")],
        fields=["id", "partner_id"],
    )
    admin.call(
        "res.users",
        "create",
        {
            "name": "Dora Domain",
            "login": "dora@example.com",
            "password": "dora-served-check",
            "parent_id": app["partner_id"][0],
            "groups_id": [(6, 0, [admin.xmlid("base.group_portal")])],
        },
    )
    customer = served.session()
    customer.login(served.database, "dora@example.com", "dora-served-check")
    page = customer.get(f"/my/apps/{app['id']}").text
    assert "Your own domains" in page
    page = customer.post(
        f"/my/apps/{app['id']}/domains/add",
        {"csrf_token": customer.csrf(page), "name": "ERP.Acme-Customer.com"},
    ).text
    assert 'data-domain="erp.acme-customer.com"' in page, "the domain is listed"
    assert "_mint-cloud-challenge.erp.acme-customer.com" in page
    assert 'data-type="CNAME"' in page and "acme.mint-cloud.ch" in page
    (domain,) = operator.call(
        "kubernetes.app.domain",
        "search_read",
        [("app_id", "=", app["id"])],
        fields=["id", "state"],
    )
    assert domain["state"] == "pending"
    assert _ingress_hosts(cluster, "acme", "acme") == ["acme.mint-cloud.ch"]

    operator.click("kubernetes.app.domain", "action_mark_verified", [domain["id"]])
    wait_for(
        lambda: (
            _ingress_hosts(cluster, "acme", "acme")
            == ["acme.mint-cloud.ch", "erp.acme-customer.com"]
        ),
        JOB_BOUND,
        "the runner applies acme with its verified domain",
        describe=lambda: _ingress_hosts(cluster, "acme", "acme"),
    )
    ingress = cluster.get_object("networking.k8s.io/v1", "Ingress", "acme", "acme")
    assert {t["hosts"][0]: t["secretName"] for t in ingress["spec"]["tls"]} == {
        "acme.mint-cloud.ch": "acme-tls",
        "erp.acme-customer.com": tls_secret_name("acme", "erp.acme-customer.com"),
    }

    page = customer.get(f"/my/apps/{app['id']}").text
    assert 'data-state="verified"' in page
    customer.post(
        f"/my/apps/{app['id']}/domains/{domain['id']}/remove",
        {"csrf_token": customer.csrf(page)},
    )
    wait_for(
        lambda: _ingress_hosts(cluster, "acme", "acme") == ["acme.mint-cloud.ch"],
        JOB_BOUND,
        "the runner applies acme without the removed domain",
        describe=lambda: _ingress_hosts(cluster, "acme", "acme"),
    )


def test_a_new_app_gets_its_mailgun_domain_and_the_invitation(served, cluster):
    """With Mailgun configured, the runner registers a new app's host name as
    a Mailgun domain while its first deployment runs (once: the change of
    its SMTP values never waits for the deployment), applies it again with
    the SMTP credentials, and sends the invitation once Mailgun verified it."""
    mailgun = FakeMailgunServer(api_key="key-served").start()
    admin = served.admin()
    try:
        for key, value in {
            "enabled": "True",
            "api_key": "key-served",
            "base_url": mailgun.url,
            "region": "us",
        }.items():
            admin.call(
                "ir.config_parameter", "set_param", f"mailgun_domain.{key}", value
            )
        (acme,) = admin.call(
            "kubernetes.app",
            "search_read",
            [("name", "=", "acme")],
            fields=["manifest_line_ids"],
        )
        manifest_ids = [
            line["manifest_id"][0]
            for line in admin.call(
                "kubernetes.app.manifest",
                "read",
                acme["manifest_line_ids"],
                ["manifest_id"],
            )
        ]
        partner_id = admin.call(
            "res.partner",
            "create",
            {"name": "Mara Mailer", "email": "mara@example.com"},
        )
        app_id = admin.call(
            "kubernetes.app",
            "create",
            {
                "name": "mailer",
                "cluster_id": admin.xmlid("kubernetes_app.cluster_demo"),
                "partner_id": partner_id,
                "manifest_line_ids": [
                    (0, 0, {"sequence": i, "manifest_id": manifest_id})
                    for i, manifest_id in enumerate(manifest_ids)
                ],
            },
        )
        host = "mailer.mint-cloud.ch"

        def registered():
            found = admin.call(
                "mailgun.domain",
                "search_read",
                [("name", "=", host)],
                fields=["state"],
            )
            if not found or found[0]["state"] != "unverified":
                return None
            applied = admin.call(
                "kubernetes.deployment",
                "search_read",
                [("app_id", "=", app_id), ("state", "in", ["queued", "running"])],
                fields=["id"],
            )
            smtp = admin.call(
                "kubernetes.app.variable",
                "search_count",
                [("app_id", "=", app_id), ("name", "=like", "smtp%")],
            )
            return found[0] if smtp and not applied else None

        domain = wait_for(registered, JOB_BOUND, "mailer's Mailgun domain registered")
        registrations = [
            r
            for r in mailgun.request_log
            if r["method"] == "POST" and r["path"].endswith("/domains")
        ]
        assert len(registrations) == 1, "registered once, never retried"
        assert objects_of(cluster, "mailer"), "the app is on the API server"
        assert not mailgun.messages, "no invitation before the domain is verified"

        mailgun.set_domain_active(host)
        admin.click("mailgun.domain", "action_verify", [domain["id"]])
        sent = wait_for(
            lambda: mailgun.messages or None, JOB_BOUND, "the invitation sent"
        )
        assert len(sent) == 1, sent
        assert sent[0]["to"] == ["mara@example.com"], sent[0]
        assert sent[0]["from"] == f"noreply@{host}", sent[0]
    finally:
        admin.call("ir.config_parameter", "set_param", "mailgun_domain.enabled", "")
        mailgun.stop()


def test_operator_terminates_the_integration_app(served, cluster, operator):
    """Terminate (the app name typed) runs the final backup Job through the
    runner, waits for it, then deletes the app's objects, and only its own:
    the production app in the same namespace keeps running."""
    (app,) = operator.call(
        "kubernetes.app", "search_read", [("name", "=", "acme-int")], fields=["id"]
    )
    wizard = operator.call(
        "kubernetes.app.terminate",
        "create",
        {"app_id": app["id"], "confirm_name": "acme-int"},
    )
    operator.click("kubernetes.app.terminate", "action_confirm", [wizard])

    def backup_job():
        (found,) = operator.call(
            "kubernetes.app",
            "read",
            [app["id"]],
            ["lifecycle", "backup_job_name", "backup_state"],
        )
        name = found["backup_job_name"]
        if found["lifecycle"] == "terminating" and name:
            if cluster.get_object("batch/v1", "Job", name, "acme"):
                return name
        return None

    job_name = wait_for(backup_job, JOB_BOUND, "the final backup Job applied")
    assert objects_of(cluster, "acme-int"), "nothing deleted before the backup"
    cluster.finish_job(job_name, "acme", succeeded=True)

    def terminated():
        (found,) = operator.call(
            "kubernetes.app",
            "search_read",
            [("id", "=", app["id"]), ("active", "in", [True, False])],
            fields=["lifecycle", "state", "active", "backup_state"],
        )
        return found if found["lifecycle"] == "terminated" else None

    # The runner polls the backup Job every 30 s.
    found = wait_for(terminated, JOB_BOUND + 30, "acme-int terminated")
    assert (found["state"], found["active"]) == ("terminated", False), found
    assert found["backup_state"] == "succeeded", found
    left = [
        o
        for o in objects_of(cluster, "acme-int")
        if not o["metadata"].get("deletionTimestamp")
        and o["metadata"]["name"] != job_name  # the backup Job: its TTL ends it
        and o["metadata"].get("labels", {}).get(RETAIN_LABEL) != "true"
    ]
    assert not left, [(o["kind"], o["metadata"]["name"]) for o in left]
    assert cluster.get_object("apps/v1", "Deployment", "acme-odoo", "acme")
    assert cluster.get_object("v1", "Namespace", "acme"), "acme still lives there"


def test_nothing_logged_as_error(served):
    """The served Odoo logged no ERROR or CRITICAL line while it did all that."""
    bad = [
        line
        for line in served.log().splitlines()
        if re.match(r"^\S+ \S+ \d+ (ERROR|CRITICAL) ", line)
    ]
    assert not bad, json.dumps(bad[:10], indent=1)
