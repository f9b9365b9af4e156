"""The fake API server serves external-dns' DNSEndpoint like a cluster with
the CRD installed, and the Mailgun fake reads published records from it.

DNSEndpoint is a custom resource: its group ``externaldns.k8s.io`` must be
discovered (``/apis``, ``/apis/externaldns.k8s.io/v1alpha1``) before the
real client can address it, and its objects live in a namespace.
"""

import json
import pathlib

import pytest
import urllib3
from kubernetes.dynamic.exceptions import NotFoundError

from mintcloud.apply import apply_app
from mintcloud.appvars import app_variables, builtin_variables
from mintcloud.maildns import dns_endpoints, mailgun_records, published_records
from mintcloud.mailgun import MailgunClient, dns_records, domain_state
from mintcloud.render import render_manifests
from tests.fakes.mailgun_api import _domain_body

GROUP = "externaldns.k8s.io"
API_VERSION = "externaldns.k8s.io/v1alpha1"
HOST = "acme.mint-cloud.ch"
TEMPLATE = (
    pathlib.Path(__file__).resolve().parent.parent
    / "kubernetes_manifest/static/manifests/mailgun-dns.yaml"
).read_text(encoding="utf-8")


def endpoint(name="acme-mailgun", namespace="acme", targets=("v=spf1 -all",)):
    return {
        "apiVersion": API_VERSION,
        "kind": "DNSEndpoint",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "endpoints": [
                {"dnsName": HOST, "recordType": "TXT", "targets": list(targets)}
            ]
        },
    }


def get_json(kube_api, path):
    response = urllib3.PoolManager().request("GET", kube_api.url + path)
    return response.status, json.loads(response.data)


# --- discovery ----------------------------------------------------------------------


def test_the_crd_group_is_discovered(kube_api):
    status, groups = get_json(kube_api, "/apis")
    assert status == 200
    (group,) = [g for g in groups["groups"] if g["name"] == GROUP]
    assert group["preferredVersion"]["groupVersion"] == API_VERSION
    status, body = get_json(kube_api, f"/apis/{GROUP}")
    assert (status, body["kind"]) == (200, "APIGroup")
    status, resources = get_json(kube_api, f"/apis/{API_VERSION}")
    assert status == 200
    (resource,) = [r for r in resources["resources"] if r["name"] == "dnsendpoints"]
    assert resource["kind"] == "DNSEndpoint"
    assert resource["namespaced"] is True
    assert {"create", "get", "list", "patch", "delete"} <= set(resource["verbs"])
    assert "dnsendpoints/status" in {r["name"] for r in resources["resources"]}


def test_the_real_client_resolves_the_kind(dyn):
    resource = dyn.resources.get(api_version=API_VERSION, kind="DNSEndpoint")
    assert resource.namespaced is True
    assert resource.group == GROUP
    assert (
        resource.path(namespace="acme")
        == "/apis/externaldns.k8s.io/v1alpha1/namespaces/acme/dnsendpoints"
    )


# --- namespaced objects ---------------------------------------------------------------


def test_dnsendpoints_are_namespaced_objects(dyn, kube_api):
    resource = dyn.resources.get(api_version=API_VERSION, kind="DNSEndpoint")
    for namespace in ("acme", "globex"):
        dyn.resources.get(api_version="v1", kind="Namespace").create(
            body={
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": namespace},
            }
        )
    resource.create(body=endpoint(namespace="acme"), namespace="acme")
    resource.create(
        body=endpoint(namespace="globex", targets=("other",)), namespace="globex"
    )
    got = resource.get(name="acme-mailgun", namespace="acme")
    assert got.metadata.namespace == "acme"
    assert got.spec.endpoints[0].targets == ["v=spf1 -all"]
    assert [i.metadata.namespace for i in resource.get(namespace="acme").items] == [
        "acme"
    ]
    assert sorted(i.metadata.namespace for i in resource.get().items) == [
        "acme",
        "globex",
    ]
    resource.delete(name="acme-mailgun", namespace="acme")
    with pytest.raises(NotFoundError):
        resource.get(name="acme-mailgun", namespace="acme")
    stored = kube_api.get_object(API_VERSION, "DNSEndpoint", "acme-mailgun", "globex")
    assert stored["spec"]["endpoints"][0]["targets"] == ["other"]


def test_the_demo_manifest_is_applied_into_the_apps_namespace(kube_client, kube_api):
    records = dns_endpoints(dns_records(_body()))
    variables = app_variables(
        builtin_variables("acme", HOST, "prod", "acme", "a@example.com")
    )
    variables["mailgun_dns_records"] = records
    docs = render_manifests([("mailgun-dns.yaml", TEMPLATE)], variables)
    result = apply_app(kube_client, "acme", "acme", docs)
    assert result.ok, result
    assert [o.action for o in result.objects if o.kind == "DNSEndpoint"] == ["created"]
    (stored,) = kube_api.list_objects(api_version=API_VERSION, kind="DNSEndpoint")
    assert stored["metadata"]["namespace"] == "acme"
    assert stored["metadata"]["labels"]["mint-cloud.ch/app"] == "acme"
    assert published_records([stored]) == mailgun_records(dns_records(_body()))
    again = apply_app(kube_client, "acme", "acme", docs)
    assert [o.action for o in again.objects if o.kind == "DNSEndpoint"] == ["unchanged"]


# --- the Mailgun fake reads DNS from the cluster -----------------------------------------


def _body():
    return _domain_body(HOST)


def test_mailgun_fake_verifies_once_the_cluster_publishes_the_records(
    kube_client, kube_api, mailgun_api
):
    mailgun_api.publish_dns_from(kube_api)
    client = MailgunClient(mailgun_api.api_key, base_url=mailgun_api.url)
    body = client.create_domain(HOST)
    assert domain_state(client.verify_domain(HOST)) == "unverified"

    variables = app_variables(
        builtin_variables("acme", HOST, "prod", "acme", "a@example.com")
    )
    variables["mailgun_dns_records"] = dns_endpoints(dns_records(body))
    docs = render_manifests([("mailgun-dns.yaml", TEMPLATE)], variables)
    assert apply_app(kube_client, "acme", "acme", docs).ok

    verified = client.verify_domain(HOST)
    assert domain_state(verified) == "active"
    assert {r["valid"] for r in dns_records(verified)} == {"valid"}


def test_mailgun_fake_needs_every_sending_record(kube_client, kube_api, mailgun_api):
    mailgun_api.publish_dns_from(kube_api)
    client = MailgunClient(mailgun_api.api_key, base_url=mailgun_api.url)
    body = client.create_domain(HOST)
    records = dns_endpoints(dns_records(body))
    dkim = [e for e in records if "_domainkey" in e["dnsName"]]
    variables = app_variables(
        builtin_variables("acme", HOST, "prod", "acme", "a@example.com")
    )
    variables["mailgun_dns_records"] = [e for e in records if e not in dkim]
    docs = render_manifests([("mailgun-dns.yaml", TEMPLATE)], variables)
    assert apply_app(kube_client, "acme", "acme", docs).ok
    partial = client.verify_domain(HOST)
    assert domain_state(partial) == "unverified"
    valid = {r["name"]: r["valid"] for r in dns_records(partial)}
    assert valid[f"pic._domainkey.{HOST}"] == "invalid"
    assert valid[f"email.{HOST}"] == "valid"
    # A wrong value does not count either.
    variables["mailgun_dns_records"] = (
        records[:1] + [dict(dkim[0], targets=["k=rsa; p=WRONG"])] + records[2:]
    )
    docs = render_manifests([("mailgun-dns.yaml", TEMPLATE)], variables)
    assert apply_app(kube_client, "acme", "acme", docs).ok
    assert domain_state(client.verify_domain(HOST)) == "unverified"
    mailgun_api.reset()
    assert mailgun_api.published_records() == set()
