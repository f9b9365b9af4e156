"""Resource types served by the fake Kubernetes API and their discovery documents.

Only the kinds Mint Cloud deploys or reads are known: the workloads, Pods and
Events, external-dns' DNSEndpoint (a custom resource), and the RBAC kinds
(the tenant boundary refuses the cluster-scoped ones; nothing here evaluates
RBAC).  Each :class:`ResourceType`
carries what the URL router and the discovery endpoints need; the documents
have the shape of a real API server so ``kubernetes.dynamic.DynamicClient``
discovers them unchanged.
"""

from dataclasses import dataclass, field

VERBS = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
]
STATUS_VERBS = ["get", "patch", "update"]


@dataclass(frozen=True)
class ResourceType:
    """One REST resource: ``/apis/<group>/<version>/[namespaces/<ns>/]<plural>``."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True
    short_names: tuple = ()
    has_status: bool = True
    dns_label: bool = False  # name must be an RFC 1123 label (no dots)
    verbs: tuple = field(default=tuple(VERBS))

    @property
    def api_version(self):
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self):
        return self.kind.lower()

    def prefix(self):
        """URL prefix of the group version, e.g. ``/apis/apps/v1``."""
        return f"/apis/{self.api_version}" if self.group else f"/api/{self.version}"


RESOURCE_TYPES = [
    ResourceType(
        "",
        "v1",
        "namespaces",
        "Namespace",
        namespaced=False,
        short_names=("ns",),
        dns_label=True,
        verbs=tuple(v for v in VERBS if v != "deletecollection"),
    ),
    ResourceType(
        "", "v1", "configmaps", "ConfigMap", short_names=("cm",), has_status=False
    ),
    ResourceType("", "v1", "secrets", "Secret", has_status=False),
    ResourceType("", "v1", "services", "Service", short_names=("svc",), dns_label=True),
    ResourceType(
        "",
        "v1",
        "persistentvolumeclaims",
        "PersistentVolumeClaim",
        short_names=("pvc",),
    ),
    ResourceType(
        "",
        "v1",
        "serviceaccounts",
        "ServiceAccount",
        short_names=("sa",),
        has_status=False,
    ),
    ResourceType("", "v1", "pods", "Pod", short_names=("po",)),
    ResourceType("", "v1", "events", "Event", short_names=("ev",), has_status=False),
    ResourceType("apps", "v1", "deployments", "Deployment", short_names=("deploy",)),
    ResourceType("apps", "v1", "statefulsets", "StatefulSet", short_names=("sts",)),
    ResourceType("batch", "v1", "jobs", "Job"),
    ResourceType("batch", "v1", "cronjobs", "CronJob", short_names=("cj",)),
    ResourceType(
        "networking.k8s.io", "v1", "ingresses", "Ingress", short_names=("ing",)
    ),
    # external-dns' DNSEndpoint custom resource (--source=crd): the records
    # an app publishes, e.g. its Mailgun domain's.
    ResourceType("externaldns.k8s.io", "v1alpha1", "dnsendpoints", "DNSEndpoint"),
    # RBAC: what an app's manifests may bind in its namespace, and the
    # cluster-scoped kinds the tenant boundary refuses.
    ResourceType("rbac.authorization.k8s.io", "v1", "roles", "Role", has_status=False),
    ResourceType(
        "rbac.authorization.k8s.io",
        "v1",
        "rolebindings",
        "RoleBinding",
        has_status=False,
    ),
    ResourceType(
        "rbac.authorization.k8s.io",
        "v1",
        "clusterroles",
        "ClusterRole",
        namespaced=False,
        has_status=False,
    ),
    ResourceType(
        "rbac.authorization.k8s.io",
        "v1",
        "clusterrolebindings",
        "ClusterRoleBinding",
        namespaced=False,
        has_status=False,
    ),
]

GROUP_VERSIONS = sorted({(t.group, t.version) for t in RESOURCE_TYPES})


def find_by_plural(group, version, plural):
    """The resource type served at group/version/plural, or None."""
    for rtype in RESOURCE_TYPES:
        if (rtype.group, rtype.version, rtype.plural) == (group, version, plural):
            return rtype
    return None


def find_by_kind(api_version, kind):
    """The resource type of ``apiVersion``/``kind``, or None."""
    for rtype in RESOURCE_TYPES:
        if rtype.api_version == api_version and rtype.kind == kind:
            return rtype
    return None


def find_kind(kind):
    """The resource type of a kind name (case-insensitive), or None."""
    for rtype in RESOURCE_TYPES:
        if rtype.kind.lower() == kind.lower():
            return rtype
    return None


# --- discovery documents ------------------------------------------------------


def version_info(version):
    """Body of ``GET /version``."""
    major, minor = version.split(".")[:2]
    return {
        "major": major,
        "minor": minor,
        "gitVersion": f"v{version}",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2024-01-01T00:00:00Z",
        "goVersion": "go1.21.5",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def api_versions(server_address):
    """Body of ``GET /api``."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def _group_doc(group):
    versions = [
        {"groupVersion": f"{g}/{v}", "version": v}
        for g, v in GROUP_VERSIONS
        if g == group
    ]
    return {"name": group, "versions": versions, "preferredVersion": dict(versions[0])}


def api_group_list():
    """Body of ``GET /apis``."""
    groups = sorted({g for g, _ in GROUP_VERSIONS if g})
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group_doc(g) for g in groups],
    }


def api_group(group):
    """Body of ``GET /apis/<group>``, or None for an unknown group."""
    if not any(g == group for g, _ in GROUP_VERSIONS if g):
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group_doc(group)}


def api_resource_list(group, version):
    """Body of ``GET /api/v1`` or ``/apis/<group>/<version>``, or None."""
    if (group, version) not in GROUP_VERSIONS:
        return None
    resources = []
    for rtype in RESOURCE_TYPES:
        if (rtype.group, rtype.version) != (group, version):
            continue
        entry = {
            "name": rtype.plural,
            "singularName": rtype.singular,
            "namespaced": rtype.namespaced,
            "kind": rtype.kind,
            "verbs": list(rtype.verbs),
        }
        if rtype.short_names:
            entry["shortNames"] = list(rtype.short_names)
        resources.append(entry)
        if rtype.has_status:
            resources.append(
                {
                    "name": f"{rtype.plural}/status",
                    "singularName": "",
                    "namespaced": rtype.namespaced,
                    "kind": rtype.kind,
                    "verbs": list(STATUS_VERBS),
                }
            )
    group_version = f"{group}/{version}" if group else version
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }
