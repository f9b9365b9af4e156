"""deploy/rbac.yaml grants exactly what Mint Cloud sends to the API server.

The flows run the way the Odoo addon runs them. Each uses a new client from
a kubeconfig, as ``kubernetes.cluster._api_client`` does. The flows go
against the fake API server, which records every request.
``authorization_checks`` turns the recorded requests into what a real API
server's authorizer checks for them: RequestInfo's (apiGroup,
resource[/subresource], verb, namespace), or a non-resource URL. A
server-side apply that creates its object is checked a second time, as
``create``. The fake cannot show that second check: the test infers it by
replaying the writes. Then two assertions:

1. The ClusterRole allows every check.
2. Every (apiGroup, resource, verb) the ClusterRole grants was checked in at
   least one flow.

Rules match the way RBAC matches them: apiGroups, resources, verbs and
resourceNames. The matcher understands "*", but the file must not use it.
Mutation tests drop each rule, drop each granted verb and add extra grants.
They prove that the two assertions catch a missing or a needless grant.

Discovery and /version are non-resource URLs. Every authenticated user may
read them through the default ClusterRoles system:discovery and
system:public-info-viewer, so the file grants none of them. The tests only
check that the core reads nothing else outside /api and /apis.
"""

import base64
import collections
import fnmatch
import os
import pathlib
import shutil
import subprocess
from urllib.parse import unquote

import pytest
import yaml
from kubernetes import client as k8s

from mintcloud.apply import (
    DEFAULT_PRUNE_KINDS,
    FIELD_MANAGER,
    apply_app,
    delete_app,
    delete_namespace,
)
from mintcloud.appstate import DEPLOY_PRUNE_KINDS, job_names, new_reset_id
from mintcloud.garbage import delete_garbage, find_garbage
from mintcloud.kube import api_client, server_version
from mintcloud.observe import collect_problems, read_app, read_log
from mintcloud.render import render_manifests
from mintcloud.status import collect_status
from mintcloud.tenancy import _group
from mintcloud.validate import validate_documents
from mintcloud.variables import load_vars_yml
from tests.fakes.kube_api import FakeKubeServer

ROOT = pathlib.Path(__file__).resolve().parent.parent
RBAC = ROOT / "deploy" / "rbac.yaml"
SCRIPT = ROOT / "deploy" / "kubeconfig-from-serviceaccount.sh"
MANIFESTS = ROOT / "kubernetes_manifest" / "static" / "manifests"
DATA = ROOT / "tests" / "data"
#: The demo deploy manifests in their demo sequence, and the reset manifest.
DEPLOY_SET = (
    "secret.yaml",
    "filestore-pvc.yaml",
    "postgres.yaml",
    "odoo.yaml",
    "ingress.yaml",
)
RESET_SET = ("reset-job.yaml",)
BACKUP_SET = ("backup-job.yaml",)
MAILGUN_SET = ("mailgun-dns.yaml",)
#: What a terminated app's objects are deleted by (kubernetes.deployment.
#: _run_terminate: the prune kinds of its last deployment and Jobs).
TERMINATE_KINDS = DEPLOY_PRUNE_KINDS + (("batch/v1", "Job"),)
#: The Mailgun DNS records a cluster that publishes them renders.
MAILGUN_RECORDS = [
    {
        "dnsName": "acme.mint-cloud.ch",
        "recordType": "TXT",
        "targets": ["v=spf1 include:mailgun.org ~all"],
    },
    {
        "dnsName": "acme.mint-cloud.ch",
        "recordType": "MX",
        "targets": ["10 mxa.mailgun.org", "10 mxb.mailgun.org"],
    },
]
SECRETS = ("admin_password", "db_password", "smtp_password")

#: kind -> its resource (plural), for the kinds the tests name.
PLURALS = {
    "ConfigMap": "configmaps",
    "Secret": "secrets",
    "Service": "services",
    "PersistentVolumeClaim": "persistentvolumeclaims",
    "ServiceAccount": "serviceaccounts",
    "Deployment": "deployments",
    "StatefulSet": "statefulsets",
    "Job": "jobs",
    "CronJob": "cronjobs",
    "Ingress": "ingresses",
}


SA_NAMESPACE = "mint-cloud-system"
SA_NAME = "mint-cloud"
ROLE_NAME = "mint-cloud"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.not-a-real-token.sig"

#: Non-resource URLs the default ClusterRoles system:discovery and
#: system:public-info-viewer open to every authenticated user (the patterns
#: of their nonResourceURLs that matter here).
DISCOVERY_URLS = ("/api", "/api/*", "/apis", "/apis/*", "/version", "/version/")
OPENAPI_URLS = ("/openapi", "/openapi/*")


# --- request -> authorization attributes -------------------------------------

Resource = collections.namedtuple(
    "Resource", "group resource subresource verb namespace name"
)
NonResource = collections.namedtuple("NonResource", "path verb")

_VERB_OF_METHOD = {
    "POST": "create",
    "GET": "get",
    "HEAD": "get",
    "PUT": "update",
    "PATCH": "patch",
    "DELETE": "delete",
}
_NAMESPACE_SUBRESOURCES = ("status", "finalize")


def authorization_attributes(method, path, query=None):
    """What the API server authorizes for one request.

    This follows k8s.io/apiserver's ``RequestInfoFactory.NewRequestInfo``:

    * ``/api/v1/...`` is the core group ``""`` and ``/apis/<group>/<v>/...``
      is a named group.
    * Shorter paths (``/api``, ``/api/v1``, ``/apis``, ``/apis/apps/v1``)
      and paths outside /api and /apis (``/version``, ``/openapi/v2``) are
      non-resource URLs. Their verb is the lower-case HTTP method.
    * POST is create, GET/HEAD is get, PUT is update, PATCH is patch (any
      patch type, server-side apply included) and DELETE is delete.
    * A GET without a name is list, or watch with ``watch=true``. A DELETE
      without a name is deletecollection.
    * ``dryRun=All`` does not change the verb.

    ``/api/v1/namespaces/<name>`` is the cluster-scoped resource
    ``namespaces``: its namespace here is None. (RequestInfo also sets the
    namespace to the name, so a RoleBinding inside that namespace would
    allow the GET. The POST that creates it has no namespace and needs a
    cluster-wide grant.)
    """
    query = query or {}
    verb_of_method = _VERB_OF_METHOD.get(method.upper(), "")
    parts = [unquote(p) for p in path.strip("/").split("/") if p]
    prefix = parts[0] if parts else ""
    if prefix not in ("api", "apis") or len(parts) < (3 if prefix == "api" else 4):
        return NonResource(path, method.lower())
    rest = parts[1:]
    group = ""
    if prefix == "apis":
        group, rest = rest[0], rest[1:]
    rest = rest[1:]  # the version
    verb = verb_of_method
    if rest[0] == "watch" and len(rest) > 1:  # deprecated /watch/ paths
        verb, rest = "watch", rest[1:]
    namespace = None
    if rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in _NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
    resource = rest[0]
    name = rest[1] if len(rest) > 1 else None
    subresource = rest[2] if len(rest) > 2 else None
    if resource == "namespaces":
        namespace = None
    if name is None and verb == "get":
        verb = "watch" if query.get("watch") in ("true", "1") else "list"
        selector = query.get("fieldSelector") or ""
        if selector.startswith("metadata.name=") and "," not in selector:
            name = selector.split("=", 1)[1]
    if name is None and verb == "delete":
        verb = "deletecollection"
    return Resource(group, resource, subresource, verb, namespace, name)


def triple(attrs):
    """``(apiGroup, resource[/subresource], verb)``: what a rule must name."""
    resource = attrs.resource
    if attrs.subresource:
        resource = f"{resource}/{attrs.subresource}"
    return attrs.group, resource, attrs.verb


APPLY_PATCH = ("application/apply-patch+yaml", "application/apply-patch+cbor")
INITIAL_OBJECTS = ("/api/v1/namespaces/default",)


def authorization_checks(records, existing=INITIAL_OBJECTS):
    """Every authorization check of ``records``, in order: ``[(record, attrs)]``.

    Each request is checked as ``authorization_attributes`` says. A
    server-side apply (PATCH with ``application/apply-patch+yaml``) whose
    object does not exist yet is checked a second time, as ``create`` of
    that name. The API server's patch handler wraps createValidation in
    withAuthorization, dry run or not. To know whether the object exists,
    the writes are replayed from ``existing``, the item paths present at
    the start. An apply that is not a dry run creates its path, and a
    DELETE removes it. POSTs are not replayed, because the fake does not
    record bodies. The core POSTs only Namespaces and never applies one.
    """
    existing = set(existing)
    checks = []
    for rec in records:
        attrs = authorization_attributes(rec.method, rec.path, rec.query)
        checks.append((rec, attrs))
        if not isinstance(attrs, Resource) or attrs.name is None:
            continue
        dry_run = rec.query.get("dryRun") == "All"
        if attrs.verb == "patch" and rec.content_type in APPLY_PATCH:
            if rec.path not in existing:
                checks.append((rec, attrs._replace(verb="create")))
                if not dry_run:
                    existing.add(rec.path)
        elif attrs.verb == "delete" and not dry_run:
            existing.discard(rec.path)
    return checks


# --- RBAC rules --------------------------------------------------------------


def _matches(values, wanted):
    return "*" in values or wanted in values


def rule_allows(rule, attrs):
    """True when one PolicyRule allows the resource request ``attrs``.

    Follows k8s.io/kubernetes's rbac ``RuleAllows``: verb, apiGroup,
    resource (``res/sub`` for subresources, ``*/sub`` too) and
    resourceNames, which never match a request without a name.
    """
    group, resource, verb = triple(attrs)
    resources = rule.get("resources") or []
    resource_ok = _matches(resources, resource) or (
        attrs.subresource is not None and f"*/{attrs.subresource}" in resources
    )
    names = rule.get("resourceNames") or []
    return (
        _matches(rule.get("verbs") or [], verb)
        and _matches(rule.get("apiGroups") or [], group)
        and resource_ok
        and (not names or attrs.name in names)
    )


def uncovered(rules, used):
    """The resource requests in ``used`` that no rule allows, sorted."""
    return sorted(
        {triple(a) for a in used if not any(rule_allows(r, a) for r in rules)}
    )


def granted(rules):
    """Every ``(apiGroup, resource, verb)`` the rules name."""
    return {
        (group, resource, verb)
        for rule in rules
        for group in rule.get("apiGroups") or []
        for resource in rule.get("resources") or []
        for verb in rule.get("verbs") or []
    }


def unused_grants(rules, used):
    """What the rules grant that no request in ``used`` needed, sorted."""
    return sorted(granted(rules) - {triple(a) for a in used})


def wildcards(rules):
    """Every place a "*" appears in the rules."""
    return [
        (index, key)
        for index, rule in enumerate(rules)
        for key in ("apiGroups", "resources", "verbs", "resourceNames")
        if any("*" in value for value in rule.get(key) or [])
    ]


def load_rbac():
    return [doc for doc in yaml.safe_load_all(RBAC.read_text()) if doc]


def find(docs, kind, name):
    found = [
        doc
        for doc in docs
        if doc.get("kind") == kind and doc["metadata"].get("name") == name
    ]
    assert len(found) == 1, f"deploy/rbac.yaml needs exactly one {kind} {name}"
    return found[0]


def cluster_role_rules():
    return find(load_rbac(), "ClusterRole", ROLE_NAME)["rules"]


RULES = cluster_role_rules()


# --- the flows, as the addon drives the core ----------------------------------


def kubeconfig(url):
    """A kubeconfig with a bearer token, like the one the script prints."""
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "fake", "cluster": {"server": url}}],
            "users": [{"name": SA_NAME, "user": {"token": TOKEN}}],
            "contexts": [
                {"name": "fake", "context": {"cluster": "fake", "user": SA_NAME}}
            ],
            "current-context": "fake",
        }
    )


def variables(file, **overrides):
    values = load_vars_yml((DATA / file).read_text(encoding="utf-8"), SECRETS)
    for name, value in overrides.items():
        values[name] = value
    return values


def render(files, values):
    return render_manifests(
        [(name, (MANIFESTS / name).read_text(encoding="utf-8")) for name in files],
        values,
    )


class Addon:
    """The addon's calls into the core, each with a new client from the kubeconfig.

    Deploy is ``kubernetes.deployment._deploy``: apply_app with the deploy
    prune kinds (no prune on a reset), then collect_status for the app's
    namespace. Preview is ``kubernetes.app.preview._server_dry_run``. The
    status cron and "Check status" are ``kubernetes.app._refresh_status``.
    "Test connection" is ``kubernetes.cluster.action_test_connection``.
    """

    def __init__(self, url):
        self.config = kubeconfig(url)
        #: Names of the objects the results report as created by an apply.
        self.created = []
        #: {app: {(apiVersion, kind)}} its last deployment applied.
        self.last_kinds = {}

    def _note(self, result):
        # Not the namespace, and not the objects a dry run did not send
        # because their namespace does not exist yet.
        self.created += [
            o.name
            for o in result.objects
            if o.action == "created"
            and o.kind != "Namespace"
            and o.message in (None, "dry run")
        ]

    def client(self):
        return api_client(kubeconfig=self.config)

    def deploy(self, app, namespace, docs, trigger="apply"):
        """kubernetes.deployment._deploy: the prune kinds are the default ones
        and the kinds the app's last deployment applied (_prune_kinds)."""
        no_prune = trigger in ("reset", "backup")
        kinds = list(DEPLOY_PRUNE_KINDS)
        for key in self.last_kinds.get(app, ()):
            if key not in kinds:
                kinds.append(key)
        with self.client() as client:
            result = apply_app(
                client, app, namespace, docs, prune=not no_prune, prune_kinds=kinds
            )
            assert result.ok, result.errors
            self._note(result)
            statuses = collect_status(client, namespaces=[namespace])
        if not no_prune:
            self.last_kinds[app] = {
                (o.api_version, o.kind)
                for o in result.objects
                if o.kind not in ("Namespace", "Job") and o.action != "pruned"
            }
        return result, statuses

    def preview(self, app, namespace, docs):
        with self.client() as client:
            result = apply_app(
                client,
                app,
                namespace,
                docs,
                dry_run=True,
                prune_kinds=DEPLOY_PRUNE_KINDS,
            )
        assert result.ok and result.dry_run, result.errors
        self._note(result)
        return result

    def refresh_status(self):
        """The status cron (every app of the cluster): the objects' status,
        then pods and warning events, one LIST each across the cluster."""
        with self.client() as client:
            statuses = collect_status(client)
            problems = collect_problems(client, statuses)
            return statuses, problems

    def read_cluster(self, app, namespace):
        """The app form's Cluster tab, then one container's Logs."""
        with self.client() as client:
            observation = read_app(client, app, namespace)
            pod = observation.pods[0]["metadata"]["name"]
            return observation, read_log(client, namespace, pod, "odoo")

    def terminate(self, app, namespace, last_in_namespace):
        """kubernetes.deployment._run_terminate."""
        with self.client() as client:
            result = delete_app(client, app, namespace, kinds=TERMINATE_KINDS)
            assert result.ok, result.errors
            if last_in_namespace:
                assert delete_namespace(client, namespace)
        return result

    def test_connection(self):
        with self.client() as client:
            return server_version(client)


def _actions(result):
    return collections.Counter(o.action for o in result.objects)


def _snapshot(server):
    return sorted(
        (o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"])
        + (o["metadata"]["resourceVersion"],)
        for o in server.list_objects()
    )


Flow = collections.namedtuple("Flow", "records created")


def run_flows(server):  # noqa: C901 - one small closure per flow
    """Run every flow: ``{flow name: Flow}`` in the order they ran.

    ``Flow.records`` are the recorded requests, ``Flow.created`` the names of
    the objects the core's results report as created by an apply.
    """
    addon = Addon(server.url)
    prod = variables("demo_vars.yml")
    integ = variables("demo_vars_int.yml")
    prod_docs, int_docs = render(DEPLOY_SET, prod), render(DEPLOY_SET, integ)
    flows = {}

    def flow(name, func):
        server.reset_requests()
        addon.created = []
        func()
        flows[name] = Flow(list(server.requests), addon.created)

    def test_connection():
        assert addon.test_connection() == f"v{server.version}"

    def deploy(app, docs, namespace_action):
        def run():
            result, _ = addon.deploy(app, "acme", docs, trigger="create")
            assert result.objects[0].action == namespace_action
            assert _actions(result)["created"] == len(docs) + (
                namespace_action == "created"
            )

        return run

    def play_controllers():
        for app in ("acme", "acme-int"):
            server.mark_ready("Deployment", f"{app}-odoo", "acme")
            server.mark_ready("StatefulSet", f"{app}-db", "acme")
            server.set_ingress_address(app, "acme")

    def reapply_unchanged():
        result, statuses = addon.deploy("acme", "acme", prod_docs)
        assert _actions(result) == {"unchanged": len(prod_docs) + 1}
        assert statuses["acme"].state == "running"

    def prune():
        # An Update may fetch manifests without some object: every rendered
        # kind can be pruned. Drop each manifest in turn, then restore it.
        pruned = set()
        for file in DEPLOY_SET:
            docs = render([f for f in DEPLOY_SET if f != file], prod)
            result, _ = addon.deploy("acme", "acme", docs, trigger="update")
            gone = {(o.kind, o.name) for o in result.objects if o.action == "pruned"}
            assert gone == {
                (d["kind"], d["metadata"]["name"]) for d in render([file], prod)
            }
            pruned |= {kind for kind, _ in gone}
            result, _ = addon.deploy("acme", "acme", prod_docs, trigger="update")
            assert _actions(result)["created"] == len(gone)
        assert pruned == {d["kind"] for d in prod_docs}
        play_controllers()

    def preview():
        before = _snapshot(server)
        # A changed variable and a removed manifest: every object is checked
        # by the server (dryRun=All), the prune is only reported.
        changed = render(DEPLOY_SET[:-1], variables("demo_vars.yml", odoo_workers=8))
        result = addon.preview("acme", "acme", changed)
        assert _actions(result)["configured"] >= 2
        assert _actions(result)["pruned"] == 1
        # A new app whose namespace does not exist yet.
        new = variables("demo_vars.yml", app_name="beta", namespace="beta")
        result = addon.preview("beta", "beta", render(DEPLOY_SET, new))
        assert result.objects[0].action == "created"
        assert _snapshot(server) == before

    reset_id = new_reset_id()
    reset_docs = render(RESET_SET, variables("demo_vars_int.yml", reset_id=reset_id))

    def reset():
        result, statuses = addon.deploy("acme-int", "acme", reset_docs, trigger="reset")
        assert _actions(result) == {"unchanged": 1, "created": 1}
        assert [j["name"] for j in statuses["acme-int"].jobs] == job_names(reset_docs)

    def apply_after_reset():
        (job,) = job_names(reset_docs)
        server.finish_job(job, "acme")
        result, _ = addon.deploy("acme-int", "acme", int_docs)
        assert "pruned" not in _actions(result)  # the reset Job stays
        assert server.get_object("batch/v1", "Job", job, "acme") is not None

    def status_cron():
        server.start_pods("Deployment", "acme-odoo", "acme")
        server.add_event(
            "acme",
            "Deployment",
            "acme-odoo",
            "BackOff",
            "Back-off restarting",
            type="Warning",
        )
        statuses, problems = addon.refresh_status()
        assert statuses["acme"].state == "running"
        assert statuses["acme-int"].jobs[0]["state"] == "succeeded"
        assert "acme" in problems

    def cluster_tab():
        observation, log = addon.read_cluster("acme", "acme")
        assert observation.pods and isinstance(log, str)

    def garbage_collection():
        # A failed run left a Secret its app's inventory does not hold.
        leftover = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "acme-old"},
        }
        result, _ = addon.deploy(
            "acme", "acme", [*prod_docs, leftover], trigger="reset"
        )
        inventory = [e for e in result.inventory() if e["name"] != "acme-old"]
        with addon.client() as client:
            garbage = find_garbage(client, {"acme": inventory})
            assert [g["name"] for g in garbage] == ["acme-old"]
            assert [o.action for o in delete_garbage(client, garbage)] == ["pruned"]

    mail_docs = render(
        DEPLOY_SET + MAILGUN_SET,
        variables("demo_vars.yml", mailgun_dns_records=MAILGUN_RECORDS),
    )

    def publish_mailgun_dns():
        result, _ = addon.deploy("acme", "acme", mail_docs)
        assert _actions(result)["created"] == 1  # the DNSEndpoint
        # Its manifest dropped: the DNSEndpoint is pruned.
        result, _ = addon.deploy("acme", "acme", prod_docs, trigger="update")
        assert [o.kind for o in result.objects if o.action == "pruned"] == [
            "DNSEndpoint"
        ]

    def suspend_and_resume():
        suspended = render(DEPLOY_SET, variables("demo_vars.yml", app_suspended=True))
        result, _ = addon.deploy("acme", "acme", suspended, trigger="suspend")
        assert _actions(result)["created"] == 2  # the page's Deployment and Service
        result, _ = addon.deploy("acme", "acme", prod_docs, trigger="resume")
        assert _actions(result)["pruned"] == 2

    backup_id = new_reset_id()

    def backup_then_terminate():
        for app, file in (("acme-int", "demo_vars_int.yml"), ("acme", "demo_vars.yml")):
            docs = render(BACKUP_SET, variables(file, backup_id=backup_id))
            result, _ = addon.deploy(app, "acme", docs, trigger="backup")
            assert _actions(result)["created"] == 2  # claim and Job
            (job,) = job_names(docs)
            server.finish_job(job, "acme")
            assert addon.refresh_status()[0][app].jobs
            addon.terminate(app, "acme", last_in_namespace=app == "acme")
        assert server.get_object("v1", "Namespace", "acme") is None

    flow("test connection", test_connection)
    flow("deploy acme", deploy("acme", prod_docs, "created"))
    flow("deploy acme-int", deploy("acme-int", int_docs, "unchanged"))
    play_controllers()
    flow("re-apply unchanged", reapply_unchanged)
    flow("prune", prune)
    flow("preview (server dry run)", preview)
    flow("reset acme-int", reset)
    flow("apply acme-int after reset", apply_after_reset)
    flow("status cron", status_cron)
    flow("garbage collection", garbage_collection)
    flow("cluster tab and logs", cluster_tab)
    flow("publish Mailgun DNS", publish_mailgun_dns)
    flow("suspend and resume", suspend_and_resume)
    flow("final backup and terminate", backup_then_terminate)
    return flows


@pytest.fixture(scope="module")
def flows():
    """The recorded requests of every flow, against a fake API server of our own.

    A module-scoped server lets the many parametrized tests share one
    recording. It also gets a URL no other test used, so the core's
    discovery cache starts empty and discovery is recorded too.
    """
    with FakeKubeServer() as server:
        server.reset_requests()
        yield run_flows(server)


def flow_checks(flows):
    """``[(flow name, record, attrs)]``: the checks of all flows, replayed in order."""
    flow_of = {id(rec): name for name, flow in flows.items() for rec in flow.records}
    records = [rec for flow in flows.values() for rec in flow.records]
    return [
        (flow_of[id(rec)], rec, attrs) for rec, attrs in authorization_checks(records)
    ]


@pytest.fixture(scope="module")
def checks(flows):
    return flow_checks(flows)


@pytest.fixture(scope="module")
def used(checks):
    """Every resource check of all flows together."""
    return [attrs for _, _, attrs in checks if isinstance(attrs, Resource)]


def usage_table(checks):
    """``{(apiGroup, resource, verb): [flow names]}``, sorted."""
    table = collections.defaultdict(list)
    for name, _, attrs in checks:
        if isinstance(attrs, Resource) and name not in table[triple(attrs)]:
            table[triple(attrs)].append(name)
    return dict(sorted(table.items()))


# --- the example file ---------------------------------------------------------


def test_rbac_example_has_the_account_its_token_and_a_cluster_wide_binding():
    docs = load_rbac()
    assert validate_documents(docs, strict=True) == []
    assert find(docs, "Namespace", SA_NAMESPACE)
    account = find(docs, "ServiceAccount", SA_NAME)
    assert account["metadata"]["namespace"] == SA_NAMESPACE
    assert account.get("automountServiceAccountToken") is False
    token = find(docs, "Secret", "mint-cloud-token")
    assert token["type"] == "kubernetes.io/service-account-token"
    assert token["metadata"]["namespace"] == SA_NAMESPACE
    assert token["metadata"]["annotations"] == {
        "kubernetes.io/service-account.name": SA_NAME
    }
    binding = find(docs, "ClusterRoleBinding", ROLE_NAME)
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": ROLE_NAME,
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": SA_NAME, "namespace": SA_NAMESPACE}
    ]
    kinds = [doc["kind"] for doc in docs]
    # kubectl apply goes in file order: the token Secret needs its account.
    assert kinds.index("Namespace") < kinds.index("ServiceAccount")
    assert kinds.index("ServiceAccount") < kinds.index("Secret")
    assert {"Role", "RoleBinding"}.isdisjoint(kinds)


def test_rules_have_no_wildcard_no_resource_names_and_no_url_rules():
    assert wildcards(RULES) == []
    for rule in RULES:
        assert set(rule) == {"apiGroups", "resources", "verbs"}, rule


# --- the proof ----------------------------------------------------------------


def test_every_flow_talked_to_the_api_server(flows):
    assert [name for name, flow in flows.items() if not flow.records] == []


def test_rules_allow_every_request_the_core_sends(used):
    assert used
    assert uncovered(RULES, used) == []


def test_rules_grant_nothing_the_core_does_not_use(used):
    assert unused_grants(RULES, used) == []


def test_an_apply_that_creates_is_also_checked_as_create(flows):
    """The replayed creates are exactly the objects the core reports as created."""
    replayed = collections.defaultdict(list)
    for name, rec, attrs in flow_checks(flows):
        if attrs.verb == "create" and rec.method == "PATCH":
            replayed[name].append(attrs.name)
    assert {k: sorted(v) for k, v in replayed.items()} == {
        name: sorted(flow.created) for name, flow in flows.items() if flow.created
    }


def test_non_resource_requests_are_only_discovery_and_version(checks):
    paths = {
        (attrs.verb, attrs.path)
        for _, _, attrs in checks
        if isinstance(attrs, NonResource)
    }
    allowed = DISCOVERY_URLS + OPENAPI_URLS
    assert {verb for verb, _ in paths} == {"get"}
    assert [
        p for _, p in paths if not any(fnmatch.fnmatch(p, a) for a in allowed)
    ] == []
    # "Test connection" reads the version and nothing that needs a grant.
    assert [attrs for name, _, attrs in checks if name == "test connection"] == [
        NonResource("/version/", "get")
    ]


def test_requests_are_the_kinds_the_rules_assume(flows):
    """Writes are server-side applies or a namespace POST; deletes hit one object."""
    records = [rec for flow in flows.values() for rec in flow.records]
    patches = [r for r in records if r.method == "PATCH"]
    assert patches
    for rec in patches:
        assert rec.content_type == "application/apply-patch+yaml", rec
        assert rec.query.get("fieldManager") == FIELD_MANAGER, rec
        assert rec.query.get("force", "false") == "false", rec
    posts = {
        triple(authorization_attributes(r.method, r.path))
        for r in records
        if r.method == "POST"
    }
    assert posts == {("", "namespaces", "create")}
    assert [r for r in records if r.method == "PUT"] == []
    assert {r.query.get("dryRun") for r in records} <= {None, "All"}
    dry = {
        triple(authorization_attributes(r.method, r.path, r.query))
        for r in flows["preview (server dry run)"].records
        if r.query.get("dryRun")
    }
    assert ("", "namespaces", "create") in dry
    assert {verb for _, _, verb in dry} == {"create", "patch"}
    for rec in (r for r in records if r.method == "DELETE"):
        attrs = authorization_attributes(rec.method, rec.path, rec.query)
        assert attrs.verb == "delete" and attrs.name, rec
        assert rec.query.get("propagationPolicy") == "Background", rec
    assert all(r.query.get("watch") is None for r in records)


def test_a_namespace_scoped_role_could_not_do_it(used):
    """Namespace creation and deletion, the status LISTs (objects, pods,
    Warning events) and the garbage collection's LISTs (every prune kind),
    one each per cluster, are cluster-scoped requests."""
    cluster_scoped = {triple(a) for a in used if a.namespace is None}
    assert cluster_scoped == {
        ("", "namespaces", "get"),
        ("", "namespaces", "create"),
        ("", "namespaces", "delete"),
        ("", "pods", "list"),
        ("", "events", "list"),
    } | {
        (_group(api_version), PLURALS[kind], "list")
        for api_version, kind in DEFAULT_PRUNE_KINDS
    }


def test_status_and_test_connection_need_no_write(checks):
    verbs = {
        attrs.verb
        for name, _, attrs in checks
        if name in ("status cron", "test connection")
    }
    assert verbs == {"get", "list"}


# --- the proof catches a missing or a needless grant --------------------------


@pytest.mark.parametrize("index", range(len(RULES)))
def test_dropping_a_rule_leaves_a_request_uncovered(used, index):
    rules = RULES[:index] + RULES[index + 1 :]
    assert uncovered(rules, used) != []


def without(rules, grant):
    """The rules as one rule per granted triple, less ``grant``."""
    return [
        {"apiGroups": [group], "resources": [resource], "verbs": [verb]}
        for group, resource, verb in sorted(granted(rules))
        if (group, resource, verb) != grant
    ]


@pytest.mark.parametrize(
    "grant", sorted(granted(RULES)), ids=lambda g: "/".join(p or "core" for p in g)
)
def test_dropping_a_single_grant_leaves_a_request_uncovered(used, grant):
    assert uncovered(without(RULES, grant), used) == [grant]


@pytest.mark.parametrize(
    "extra",
    [
        {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["watch"]},
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["update"]},
        {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["deletecollection"]},
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
        {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["patch"]},
        {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]},
    ],
    ids=lambda e: f"{e['resources'][0]}-{e['verbs'][0]}",
)
def test_an_extra_grant_is_reported(used, extra):
    assert unused_grants(RULES + [extra], used) == sorted(granted([extra]))


def test_an_extra_verb_in_an_existing_rule_is_reported(used):
    rules = [dict(rule) for rule in RULES]
    rules[0] = {**rules[0], "verbs": rules[0]["verbs"] + ["list"]}
    assert unused_grants(rules, used) == [("", "namespaces", "list")]


def test_a_wildcard_is_reported():
    rules = RULES + [{"apiGroups": ["apps"], "resources": ["*"], "verbs": ["get"]}]
    assert wildcards(rules) == [(len(RULES), "resources")]


# --- the request mapping ------------------------------------------------------


@pytest.mark.parametrize(
    "method, path, query, expected",
    [
        ("GET", "/api/v1/namespaces/acme/secrets/x", {}, ("", "secrets", "get")),
        ("GET", "/api/v1/namespaces/acme/secrets", {}, ("", "secrets", "list")),
        (
            "GET",
            "/apis/apps/v1/deployments",
            {"watch": "true"},
            ("apps", "deployments", "watch"),
        ),
        (
            "GET",
            "/apis/apps/v1/watch/namespaces/a/deployments",
            {},
            ("apps", "deployments", "watch"),
        ),
        ("POST", "/api/v1/namespaces", {}, ("", "namespaces", "create")),
        ("POST", "/api/v1/namespaces", {"dryRun": "All"}, ("", "namespaces", "create")),
        ("GET", "/api/v1/namespaces/acme", {}, ("", "namespaces", "get")),
        (
            "PUT",
            "/api/v1/namespaces/acme/finalize",
            {},
            ("", "namespaces/finalize", "update"),
        ),
        ("PUT", "/apis/batch/v1/namespaces/a/jobs/j", {}, ("batch", "jobs", "update")),
        (
            "PATCH",
            "/apis/apps/v1/namespaces/a/deployments/d",
            {"dryRun": "All"},
            ("apps", "deployments", "patch"),
        ),
        (
            "PATCH",
            "/apis/apps/v1/namespaces/a/deployments/d/status",
            {},
            ("apps", "deployments/status", "patch"),
        ),
        (
            "DELETE",
            "/apis/networking.k8s.io/v1/namespaces/a/ingresses/i",
            {},
            ("networking.k8s.io", "ingresses", "delete"),
        ),
        (
            "DELETE",
            "/api/v1/namespaces/a/configmaps",
            {},
            ("", "configmaps", "deletecollection"),
        ),
        (
            "GET",
            "/api/v1/namespaces/a/pods",
            {"fieldSelector": "metadata.name=p"},
            ("", "pods", "list"),
        ),
    ],
)
def test_authorization_attributes_of_resource_requests(method, path, query, expected):
    assert triple(authorization_attributes(method, path, query)) == expected


def test_authorization_attributes_scope_and_names():
    attrs = authorization_attributes("GET", "/apis/apps/v1/namespaces/a/deployments/d")
    assert (attrs.namespace, attrs.name) == ("a", "d")
    assert (
        authorization_attributes("GET", "/apis/apps/v1/deployments").namespace is None
    )
    assert authorization_attributes("GET", "/api/v1/namespaces/a").namespace is None
    listed = authorization_attributes(
        "GET", "/api/v1/namespaces/a/pods", {"fieldSelector": "metadata.name=p"}
    )
    assert listed.name == "p"
    one_name = [
        {
            "apiGroups": [""],
            "resources": ["pods"],
            "verbs": ["list"],
            "resourceNames": ["p"],
        }
    ]
    assert uncovered(one_name, [listed]) == []
    assert uncovered(one_name, [authorization_attributes("GET", "/api/v1/pods")]) != []


@pytest.mark.parametrize(
    "path",
    [
        "/api",
        "/api/v1",
        "/apis",
        "/apis/apps",
        "/apis/apps/v1",
        "/version",
        "/version/",
        "/openapi/v2",
        "/healthz",
    ],
)
def test_authorization_attributes_of_non_resource_urls(path):
    assert authorization_attributes("GET", path) == NonResource(path, "get")


# --- the kubeconfig script ----------------------------------------------------


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubeconfig_script_prints_a_kubeconfig_the_cluster_record_accepts(tmp_path):
    ca_pem = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
    (tmp_path / "ca.crt").write_text(ca_pem)
    with FakeKubeServer() as server:
        core = k8s.CoreV1Api(k8s.ApiClient(k8s.Configuration(host=server.url)))
        core.create_namespace({"metadata": {"name": SA_NAMESPACE}})
        core.create_namespaced_secret(
            SA_NAMESPACE,
            {
                "metadata": {"name": "mint-cloud-token"},
                "type": "kubernetes.io/service-account-token",
                "data": {"token": base64.b64encode(TOKEN.encode()).decode()},
            },
        )
        # The operator's own kubeconfig, with the CA in a file.
        (tmp_path / "admin").write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [
                        {
                            "name": "prod-cluster",
                            "cluster": {
                                "server": server.url,
                                "certificate-authority": str(tmp_path / "ca.crt"),
                            },
                        }
                    ],
                    "users": [{"name": "admin", "user": {"token": "admin-token"}}],
                    "contexts": [
                        {
                            "name": "admin",
                            "context": {"cluster": "prod-cluster", "user": "admin"},
                        }
                    ],
                    "current-context": "admin",
                }
            )
        )
        env = {
            "PATH": os.environ["PATH"],
            "HOME": str(tmp_path),
            "KUBECONFIG": str(tmp_path / "admin"),
        }
        done = subprocess.run(
            ["sh", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""
        config = yaml.safe_load(done.stdout)
        assert config["current-context"] == "mint-cloud@prod-cluster"
        (cluster,) = config["clusters"]
        assert cluster["cluster"]["server"] == server.url
        assert (
            base64.b64decode(cluster["cluster"]["certificate-authority-data"]).decode()
            == ca_pem
        )
        assert config["users"] == [{"name": SA_NAME, "user": {"token": TOKEN}}]
        assert "admin-token" not in done.stdout
        with api_client(kubeconfig=done.stdout) as client:
            assert client.configuration.api_key["BearerToken"] == f"Bearer {TOKEN}"
            assert server_version(client) == f"v{server.version}"
        # Without a token yet, it says so and prints nothing.
        core.delete_namespaced_secret("mint-cloud-token", SA_NAMESPACE)
        core.create_namespaced_secret(
            SA_NAMESPACE,
            {"metadata": {"name": "mint-cloud-token"}, "type": "Opaque"},
        )
        done = subprocess.run(
            ["sh", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 1 and done.stdout == ""
        assert "has no token yet" in done.stderr
