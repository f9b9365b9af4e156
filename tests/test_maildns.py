"""Mailgun's DNS records as external-dns endpoints, and the demo manifest
``mailgun-dns.yaml`` that renders them into DNSEndpoint objects."""

import pathlib

import pytest

from mintcloud.appvars import app_variables, builtin_variables
from mintcloud.maildns import (
    DNSENDPOINT_API_VERSION,
    DNSENDPOINT_ENTRY,
    DNSENDPOINT_KIND,
    dns_endpoints,
    endpoint_records,
    mailgun_records,
    published_records,
)
from mintcloud.mailgun import dns_records
from mintcloud.names import RESOURCE_PREFIX_MAX
from mintcloud.render import render_manifests
from mintcloud.tenancy import DEFAULT_ALLOWED_KINDS, TenantPolicy, check_tenancy
from mintcloud.validate import validate_documents
from mintcloud.variables import dump_vars_yml, load_vars_yml
from tests.fakes.mailgun_api import _domain_body

ROOT = pathlib.Path(__file__).resolve().parent.parent
TEMPLATE = (ROOT / "kubernetes_manifest/static/manifests/mailgun-dns.yaml").read_text(
    encoding="utf-8"
)
HOST = "acme.mint-cloud.ch"

#: GET /v4/domains/<name> as Mailgun documents it (the records only).
BODY = {
    "domain": {"name": HOST, "state": "unverified"},
    "sending_dns_records": [
        {
            "record_type": "TXT",
            "name": HOST,
            "value": "v=spf1 include:mailgun.org ~all",
            "valid": "unknown",
        },
        {
            "record_type": "TXT",
            "name": f"k1._domainkey.{HOST}",
            "value": "k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC",
            "valid": "unknown",
        },
        {
            "record_type": "CNAME",
            "name": f"email.{HOST}",
            "value": "eu.mailgun.org",
            "valid": "unknown",
        },
    ],
    "receiving_dns_records": [
        {"record_type": "MX", "priority": "10", "value": "mxa.eu.mailgun.org"},
        {"record_type": "MX", "priority": "20", "value": "mxb.eu.mailgun.org"},
    ],
}


def app_vars(records=None, name="acme", **builtin):
    variables = builtin_variables(
        name, f"{name}.mint-cloud.ch", "prod", name, "a@example.com", **builtin
    )
    if records is not None:
        variables["mailgun_dns_records"] = records
    return app_variables(variables)


def render(variables):
    return render_manifests([("mailgun-dns.yaml", TEMPLATE)], variables)


# --- the variable ------------------------------------------------------------------


def test_endpoints_group_records_by_name_and_type():
    assert dns_endpoints(dns_records(BODY)) == [
        {
            "dnsName": HOST,
            "recordType": "TXT",
            "targets": ["v=spf1 include:mailgun.org ~all"],
        },
        {
            "dnsName": f"k1._domainkey.{HOST}",
            "recordType": "TXT",
            "targets": ["k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC"],
        },
        {
            "dnsName": f"email.{HOST}",
            "recordType": "CNAME",
            "targets": ["eu.mailgun.org"],
        },
        {
            "dnsName": HOST,
            "recordType": "MX",
            "targets": ["10 mxa.eu.mailgun.org", "20 mxb.eu.mailgun.org"],
        },
    ]


def test_endpoints_are_plain_data_and_read_back_as_mailguns_records():
    endpoints = dns_endpoints(dns_records(BODY))
    assert all(
        set(e) == {"dnsName", "recordType", "targets"}
        and all(isinstance(t, str) for t in e["targets"])
        for e in endpoints
    )
    assert endpoint_records(endpoints) == {
        ("TXT", HOST, "v=spf1 include:mailgun.org ~all", None),
        (
            "TXT",
            f"k1._domainkey.{HOST}",
            "k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC",
            None,
        ),
        ("CNAME", f"email.{HOST}", "eu.mailgun.org", None),
        ("MX", HOST, "mxa.eu.mailgun.org", 10),
        ("MX", HOST, "mxb.eu.mailgun.org", 20),
    }


def test_endpoints_normalise_and_skip_what_cannot_be_published():
    records = [
        {"record_type": "cname", "name": "Email.ACME.example.", "value": "MG.org."},
        {"record_type": "mx", "name": "acme.example", "value": "mx.", "priority": None},
        {"record_type": "MX", "name": "acme.example", "value": "mx", "priority": 0},
        {"record_type": "TXT", "name": "acme.example", "value": "a"},
        {"record_type": "TXT", "name": "acme.example", "value": "a"},  # duplicate
        {"record_type": "TXT", "name": "", "value": "no name"},
        {"record_type": "", "name": "acme.example", "value": "no type"},
        {"record_type": "TXT", "name": "acme.example", "value": ""},
    ]
    assert dns_endpoints(records) == [
        {"dnsName": "email.acme.example", "recordType": "CNAME", "targets": ["mg.org"]},
        {
            "dnsName": "acme.example",
            "recordType": "MX",
            "targets": ["10 mx", "0 mx"],
        },
        {"dnsName": "acme.example", "recordType": "TXT", "targets": ["a"]},
    ]
    assert dns_endpoints([]) == []


def test_the_odoo_record_rows_give_the_same_endpoints():
    # mailgun.domain.record stores priority 0 for non-MX rows.
    rows = [dict(r, priority=r["priority"] or 0) for r in dns_records(BODY)]
    assert dns_endpoints(rows) == dns_endpoints(dns_records(BODY))


def test_the_dnsendpoint_kind_is_allowed_by_default():
    assert DNSENDPOINT_ENTRY in DEFAULT_ALLOWED_KINDS


# --- the demo manifest --------------------------------------------------------------


def test_manifest_renders_one_dnsendpoint_equal_to_mailguns_records():
    records = dns_endpoints(dns_records(BODY))
    (doc,) = render(app_vars(records))
    assert (doc["apiVersion"], doc["kind"]) == (
        DNSENDPOINT_API_VERSION,
        DNSENDPOINT_KIND,
    )
    assert doc["metadata"]["name"] == "acme-mailgun"
    assert doc["metadata"]["namespace"] == "acme"
    assert doc["metadata"]["labels"]["app.kubernetes.io/instance"] == "acme"
    assert doc["spec"]["endpoints"] == records
    assert published_records([doc]) == mailgun_records(dns_records(BODY))
    assert published_records([doc]) == endpoint_records(records)


def test_manifest_renders_the_fakes_records_too():
    body = _domain_body(HOST)
    docs = render(app_vars(dns_endpoints(dns_records(body))))
    assert published_records(docs) == mailgun_records(dns_records(body))
    assert len(docs[0]["spec"]["endpoints"]) == 4  # 2 MX share one endpoint


@pytest.mark.parametrize("records", [None, []])
def test_manifest_renders_no_document_without_records(records):
    assert render(app_vars(records)) == []


def test_manifest_keeps_every_value_a_string():
    odd = [
        {"dnsName": HOST, "recordType": "TXT", "targets": ["yes", "null", "1e5"]},
        {
            "dnsName": HOST,
            "recordType": "TXT",
            "targets": ['say "hi": # not a comment', "back\\slash", "*star"],
        },
        {"dnsName": HOST, "recordType": "TXT", "targets": ["ttl"], "recordTTL": "300"},
    ]
    (doc,) = render(app_vars(odd))
    assert doc["spec"]["endpoints"][:2] == odd[:2]
    assert doc["spec"]["endpoints"][2]["recordTTL"] == 300


def test_rendered_document_validates_and_stays_inside_the_tenant_boundary():
    docs = render(app_vars(dns_endpoints(dns_records(BODY))))
    assert validate_documents(docs, kubernetes_version="1.29") == []
    check_tenancy([("mailgun-dns.yaml", docs)], TenantPolicy("acme"))


def test_the_longest_app_name_fits():
    name = "a" * 59
    (doc,) = render(app_vars(dns_endpoints(dns_records(BODY)), name=name))
    assert len(doc["metadata"]["name"]) <= RESOURCE_PREFIX_MAX + len("-mailgun")
    assert validate_documents([doc], kubernetes_version="1.29") == []


def test_vars_yml_round_trip_renders_the_same():
    """What Ansible reads from the exported vars.yml renders the same object."""
    variables = app_vars(dns_endpoints(dns_records(BODY)))
    again = load_vars_yml(dump_vars_yml(variables))
    assert again["mailgun_dns_records"] == variables["mailgun_dns_records"]
    assert render(again) == render(variables)


def test_published_records_ignore_other_kinds():
    docs = [
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}},
        {"apiVersion": "externaldns.k8s.io/v1", "kind": "DNSEndpoint", "spec": {}},
    ]
    assert published_records(docs) == set()
    assert published_records(None) == set()
