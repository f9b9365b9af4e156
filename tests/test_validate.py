"""Tests of mintcloud.validate: schema and extra checks of rendered documents."""

import copy

import pytest
import yaml

from mintcloud import validate
from mintcloud.errors import PermanentError, ValidationError
from mintcloud.validate import (
    check_documents,
    document_label,
    is_dns_name,
    is_label_key,
    is_label_value,
    resolve_version,
    supported_versions,
    validate_documents,
)

VALID_YAML = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: acme-odoo
  namespace: acme
  labels: {app.kubernetes.io/name: odoo, app.kubernetes.io/instance: acme}
spec:
  replicas: 2
  selector:
    matchLabels: {app.kubernetes.io/instance: acme}
  template:
    metadata:
      labels: {app.kubernetes.io/name: odoo, app.kubernetes.io/instance: acme}
    spec:
      containers:
        - name: odoo
          image: odoo:17.0
          ports: [{containerPort: 8069, name: http}]
          env: [{name: HOST, value: acme-db}]
          resources: {requests: {cpu: 100m, memory: 512Mi}, limits: {memory: 1Gi}}
          readinessProbe: {httpGet: {path: /web/health, port: http}}
---
apiVersion: v1
kind: Service
metadata: {name: acme-odoo, namespace: acme}
spec:
  selector: {app.kubernetes.io/instance: acme}
  ports: [{name: http, port: 80, targetPort: 8069}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: acme-odoo
  namespace: acme
  annotations: {cert-manager.io/cluster-issuer: letsencrypt}
spec:
  ingressClassName: nginx
  tls: [{hosts: [acme.mint-cloud.ch, "*.acme.mint-cloud.ch"], secretName: acme-tls}]
  rules:
    - host: acme.mint-cloud.ch
      http:
        paths:
          - path: /
            pathType: Prefix
            backend: {service: {name: acme-odoo, port: {number: 80}}}
---
apiVersion: v1
kind: Secret
metadata: {name: acme-db, namespace: acme}
type: Opaque
stringData: {password: not-a-real-secret}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: acme-filestore, namespace: acme}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 10Gi}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: acme-db, namespace: acme}
spec:
  serviceName: acme-db
  replicas: 1
  selector: {matchLabels: {app: acme-db}}
  template:
    metadata: {labels: {app: acme-db}}
    spec:
      containers: [{name: postgres, image: "postgres:16"}]
  volumeClaimTemplates:
    - metadata: {name: data}
      spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 5Gi}}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: acme-init, namespace: acme}
spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      containers: [{name: init, image: "odoo:17.0", args: ["-i", "base", "--stop-after-init"]}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: acme-backup, namespace: acme}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: backup, image: "postgres:16", command: [pg_dump]}]
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: acme-cert, namespace: acme}
spec: {secretName: acme-tls, dnsNames: [acme.mint-cloud.ch]}
"""


def valid_docs():
    return [doc for doc in yaml.safe_load_all(VALID_YAML) if doc]


def by_kind(kind):
    return copy.deepcopy(next(doc for doc in valid_docs() if doc["kind"] == kind))


# --- valid documents -------------------------------------------------------------------


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("version", ["1.29", "1.25", "v1.37.0"])
def test_realistic_documents_are_valid(version, strict):
    docs = valid_docs()
    assert len(docs) == 9
    problems = validate_documents(docs, version, strict=strict)
    if strict:
        # only the custom resource is mentioned, as not validated
        assert problems == [
            "Certificate/acme-cert: no schema for kind Certificate in cert-manager.io/v1 "
            f"(Kubernetes {resolve_version(version)}); not validated"
        ]
    else:
        assert problems == []


def test_check_documents_returns_docs_when_valid():
    docs = valid_docs()
    assert check_documents(iter(docs)) == docs


def test_empty_documents_are_ignored():
    assert validate_documents([None, by_kind("Service"), None]) == []
    assert validate_documents([]) == []


# --- schema errors ------------------------------------------------------------------------


def test_wrong_type():
    doc = by_kind("Deployment")
    doc["spec"]["replicas"] = "two"
    assert validate_documents([doc]) == [
        "Deployment/acme-odoo: spec.replicas: expected integer, got string"
    ]


def test_unknown_field_only_in_strict_mode():
    doc = by_kind("Deployment")
    doc["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    assert validate_documents([doc]) == []
    assert validate_documents([doc], strict=True) == [
        "Deployment/acme-odoo: spec.template.spec.containers[0]: unknown field 'imagePullPolicyy'"
    ]


def test_missing_required_field():
    doc = by_kind("Deployment")
    del doc["spec"]["template"]["spec"]["containers"]
    assert validate_documents([doc]) == [
        "Deployment/acme-odoo: spec.template.spec: missing required field 'containers'"
    ]


def test_enum_and_int_or_string_messages():
    doc = by_kind("Ingress")
    doc["kind"] = "ingress"  # wrong case: validated, and the schema's enum complains
    service = by_kind("Service")
    service["spec"]["ports"][0]["targetPort"] = [8069]
    deployment = by_kind("Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"][
        "memory"
    ] = {"gi": 1}
    assert validate_documents([doc, service, deployment]) == [
        "ingress/acme-odoo: kind: must be one of 'Ingress'",
        "Service/acme-odoo: spec.ports[0].targetPort: expected string or integer, got array",
        "Deployment/acme-odoo: spec.template.spec.containers[0].resources.limits.memory: "
        "expected string or number, got object",
    ]


def test_schema_messages_never_echo_secret_values():
    secret = by_kind("Secret")
    secret["stringData"]["password"] = ["hunter2-very-secret"]
    secret["data"] = {"token": 123456789}
    problems = validate_documents([secret])
    assert problems == [
        "Secret/acme-db: data.token: expected string, got integer",
        "Secret/acme-db: stringData.password: expected string, got array",
    ]
    assert not any("hunter2" in p or "123456789" in p for p in problems)


def test_schema_rule_fallback_message():
    class FakeError:
        validator = "minimum"
        absolute_path = ["spec", "replicas"]

    assert (
        validate._describe(FakeError())
        == "spec.replicas: does not satisfy schema rule 'minimum'"
    )


def test_labels_of_wrong_type_and_unquoted_dates():
    doc = by_kind("Secret")
    doc["metadata"]["labels"] = "app=web"
    doc["metadata"]["annotations"] = yaml.safe_load("rotated: 2024-01-31")
    assert validate_documents([doc]) == [
        "Secret/acme-db: metadata.annotations.rotated: expected string, got date",
        "Secret/acme-db: metadata.labels: expected object, got string",
    ]


def test_document_level_type_error():
    problems = validate_documents(
        [
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "c"},
                "data": 5,
            }
        ]
    )
    assert problems == ["ConfigMap/c: data: expected object, got integer"]


# --- names ---------------------------------------------------------------------------------


def test_bad_name():
    doc = by_kind("Deployment")
    doc["metadata"]["name"] = "Upper_Case"
    assert validate_documents([doc]) == [
        "Deployment/Upper_Case: metadata.name 'Upper_Case' is not a valid DNS-1123 label "
        "(lowercase letters, digits and '-', at most 63 characters)"
    ]


@pytest.mark.parametrize(
    "kind, name, ok",
    [
        ("Secret", "acme.db-1", True),
        ("Secret", "acme_db", False),
        ("Secret", "a" * 253, True),
        ("Secret", "a" * 254, False),
        ("Deployment", "acme.web", False),
        ("Deployment", "a" * 63, True),
        ("Deployment", "a" * 64, False),
        ("StatefulSet", "-db", False),
        ("Job", "init-", False),
        ("Namespace", "acme", True),
        ("Service", "1web", False),  # DNS-1035: must start with a letter
        ("Service", "web-1", True),
        ("CronJob", "a" * 52, True),
        ("CronJob", "a" * 53, False),
        ("CronJob", "Backup", False),
        ("ConfigMap", "app.config", True),
    ],
)
def test_object_name_rules(kind, name, ok):
    assert (validate._object_name_problems(name, kind) == []) is ok


def test_missing_metadata_name_and_bad_namespace():
    doc = by_kind("Service")
    del doc["metadata"]["name"]
    doc["metadata"]["namespace"] = "Acme"
    problems = validate_documents([doc])
    assert problems == [
        "Service/?: metadata.name is missing",
        "Service/?: metadata.namespace 'Acme' is not a valid DNS-1123 label",
    ]
    doc["metadata"] = {"generateName": "svc-"}
    assert validate_documents([doc]) == []


def test_missing_kind_apiversion_and_metadata():
    assert validate_documents([{"spec": {}}]) == [
        "?/?: apiVersion is missing",
        "?/?: kind is missing",
        "?/?: metadata is missing",
    ]
    assert validate_documents(["just text", 3]) == [
        "document 1: expected a mapping, got string",
        "document 2: expected a mapping, got integer",
    ]


# --- labels and selectors ------------------------------------------------------------------


@pytest.mark.parametrize(
    "key, ok",
    [
        ("app", True),
        ("app.kubernetes.io/name", True),
        ("a/b/c", False),
        ("/name", False),
        ("Bad_Prefix.io/x", False),
        ("x" * 63, True),
        ("x" * 64, False),
        ("-app", False),
        ("a b", False),
        ("example.com/" + "n" * 63, True),
    ],
)
def test_label_keys(key, ok):
    assert is_label_key(key) is ok


@pytest.mark.parametrize(
    "value, ok",
    [
        ("", True),
        ("web", True),
        ("Web_1.x", True),
        ("-web", False),
        ("web-", False),
        ("a b", False),
        ("v" * 63, True),
        ("v" * 64, False),
    ],
)
def test_label_values(value, ok):
    assert is_label_value(value) is ok


def test_bad_labels_everywhere_are_reported():
    doc = by_kind("Deployment")
    doc["metadata"]["labels"]["bad key!"] = "ok"
    doc["spec"]["template"]["metadata"]["labels"]["tier"] = "-front-"
    doc["spec"]["selector"]["matchLabels"]["tier"] = "-front-"
    problems = validate_documents([doc])
    assert problems == [
        "Deployment/acme-odoo: metadata.labels: label key 'bad key!' is not valid",
        "Deployment/acme-odoo: spec.template.metadata.labels: value of label 'tier' is not valid "
        "(at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)",
        "Deployment/acme-odoo: spec.selector.matchLabels: value of label 'tier' is not valid "
        "(at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)",
    ]


def test_service_selector_and_cronjob_labels_are_checked():
    service = by_kind("Service")
    service["spec"]["selector"]["app"] = "x" * 64
    cron = by_kind("CronJob")
    cron["spec"]["jobTemplate"]["metadata"] = {"labels": {"Bad Key": "v"}}
    problems = validate_documents([service, cron])
    assert problems[0].startswith(
        "Service/acme-odoo: spec.selector: value of label 'app' is not valid"
    )
    assert (
        problems[1]
        == "CronJob/acme-backup: spec.jobTemplate.metadata.labels: label key 'Bad Key' is not valid"
    )
    assert len(problems) == 2


def test_selector_mismatch():
    doc = by_kind("Deployment")
    doc["spec"]["selector"]["matchLabels"]["app.kubernetes.io/instance"] = "other"
    assert validate_documents([doc]) == [
        "Deployment/acme-odoo: selector does not match template labels (label 'app.kubernetes.io/instance')"
    ]
    statefulset = by_kind("StatefulSet")
    del statefulset["spec"]["template"]["metadata"]["labels"]
    assert validate_documents([statefulset]) == [
        "StatefulSet/acme-db: selector does not match template labels (label 'app')"
    ]


def test_cronjob_selector_mismatch():
    cron = by_kind("CronJob")
    job_spec = cron["spec"]["jobTemplate"]["spec"]
    job_spec["selector"] = {"matchLabels": {"job": "backup"}}
    job_spec["template"]["metadata"] = {"labels": {"job": "restore"}}
    assert validate_documents([cron]) == [
        "CronJob/acme-backup: selector does not match template labels (label 'job')"
    ]


def test_selector_subset_is_fine_and_services_are_not_workloads():
    doc = by_kind("Deployment")
    doc["spec"]["template"]["metadata"]["labels"]["extra"] = "yes"
    job = by_kind("Job")  # no selector: generated by Kubernetes
    assert validate_documents([doc, job, by_kind("Service")]) == []


# --- duplicates ---------------------------------------------------------------------------------


def test_duplicate_documents():
    docs = valid_docs()
    service = by_kind("Service")
    other_namespace = by_kind("Service")
    other_namespace["metadata"]["namespace"] = "other"
    same_group_other_version = by_kind("Deployment")
    same_group_other_version["apiVersion"] = "apps/v1beta2"
    problems = validate_documents(
        docs + [service, other_namespace, same_group_other_version]
    )
    assert problems == [
        "Service/acme-odoo: duplicate document (same object as document 2)",
        # apps/v1beta2 has no schema any more: not validated, but still a duplicate
        "Deployment/acme-odoo: duplicate document (same object as document 1)",
    ]


# --- Ingress hosts ------------------------------------------------------------------------------


def test_ingress_hosts():
    doc = by_kind("Ingress")
    doc["spec"]["rules"][0]["host"] = "Acme_Shop.mint-cloud.ch"
    doc["spec"]["rules"].append({"host": "ok.mint-cloud.ch"})
    doc["spec"]["tls"][0]["hosts"].append("bad..host")
    assert validate_documents([doc]) == [
        "Ingress/acme-odoo: spec.rules[0].host 'Acme_Shop.mint-cloud.ch' is not a valid DNS name",
        "Ingress/acme-odoo: spec.tls[0].hosts[2] 'bad..host' is not a valid DNS name",
    ]


@pytest.mark.parametrize(
    "host, ok",
    [
        ("acme.mint-cloud.ch", True),
        ("*.mint-cloud.ch", True),
        ("a.*.ch", False),
        ("-a.ch", False),
        ("a" * 64 + ".ch", False),
        ("xn--80ak6aa92e.com", True),
        ("", False),
        ("exa mple.com", False),
    ],
)
def test_is_dns_name(host, ok):
    assert is_dns_name(host) is ok


# --- several errors at once --------------------------------------------------------------------


def test_several_errors_are_all_reported():
    deployment = by_kind("Deployment")
    deployment["metadata"]["name"] = "Upper_Case"
    deployment["spec"]["replicas"] = "two"
    deployment["spec"]["selector"]["matchLabels"] = {"app": "other"}
    del deployment["spec"]["template"]["spec"]["containers"][0]["name"]
    pvc = by_kind("PersistentVolumeClaim")
    pvc["spec"]["accessModes"] = "ReadWriteOnce"
    docs = [deployment, pvc, by_kind("Service"), by_kind("Service")]
    with pytest.raises(ValidationError) as info:
        check_documents(docs, strict=True)
    errors = info.value.errors
    assert errors == [
        "Deployment/Upper_Case: spec.replicas: expected integer, got string",
        "Deployment/Upper_Case: spec.template.spec.containers[0]: missing required field 'name'",
        "Deployment/Upper_Case: metadata.name 'Upper_Case' is not a valid DNS-1123 label "
        "(lowercase letters, digits and '-', at most 63 characters)",
        "Deployment/Upper_Case: selector does not match template labels (label 'app')",
        "PersistentVolumeClaim/acme-filestore: spec.accessModes: expected array, got string",
        "Service/acme-odoo: duplicate document (same object as document 3)",
    ]
    assert isinstance(info.value, PermanentError)
    assert str(info.value).startswith("6 validation error(s):\nDeployment/Upper_Case: ")


# --- versions and schemas -----------------------------------------------------------------------


def test_supported_versions_and_resolution():
    versions = supported_versions()
    assert "1.29.0" in versions and versions == sorted(
        versions, key=lambda v: tuple(map(int, v.split(".")))
    )
    assert resolve_version("1.29") == "1.29.0"
    assert resolve_version("v1.30.4+k3s1") == "1.30.0"
    assert resolve_version("1.29.3-gke.100") == "1.29.0"
    assert resolve_version("1.9") == versions[0]  # older than anything bundled
    assert resolve_version("1.99") == versions[-1]  # newer than anything bundled


@pytest.mark.parametrize("bad", ["", "latest", "1", "one.two", None])
def test_bad_version_is_permanent_error(bad):
    with pytest.raises(PermanentError) as info:
        validate_documents([], kubernetes_version=bad)
    assert "not a Kubernetes version" in str(info.value)


def test_custom_resource_sharing_a_file_name_is_not_validated_as_builtin():
    fake = {
        "apiVersion": "networking.example.com/v1",
        "kind": "Ingress",
        "metadata": {"name": "x"},
        "spec": 5,
    }
    assert validate_documents([fake]) == []
    assert validate_documents([fake], strict=True) == [
        "Ingress/x: no schema for kind Ingress in networking.example.com/v1 (Kubernetes 1.29.0); not validated"
    ]


def test_validators_are_cached():
    validate._validator.cache_clear()
    validate_documents([by_kind("Service"), by_kind("Service")])
    info = validate._validator.cache_info()
    assert info.misses == 1 and info.hits == 1


def test_document_label():
    assert (
        document_label({"kind": "Service", "metadata": {"name": "web"}})
        == "Service/web"
    )
    assert document_label({"kind": 5, "metadata": "x"}) == "?/?"
