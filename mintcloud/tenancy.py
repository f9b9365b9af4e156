"""The tenant boundary: what one app's rendered documents may create.

Manifests, product defaults and app variables are edited by operators; none
of them may put an object into another customer's namespace or create
something cluster-wide through the deployment of an unrelated app.  Before
anything is applied, every rendered document must pass these rules:

* a namespaced object lives in the app's namespace (``metadata.namespace``
  empty or equal to it);
* no cluster-scoped kind, except the app's own ``Namespace``;
* its kind is one of the cluster's allowed kinds (:data:`DEFAULT_ALLOWED_KINDS`
  unless the cluster record says otherwise); listing a cluster-scoped kind
  there does not make it allowed;
* a ``RoleBinding`` binds a ``Role`` of the namespace or one of the allowed
  ``ClusterRole`` names (default ``view`` and ``edit``).

:func:`tenancy_problems` checks rendered documents offline (the scope of
built-in kinds comes from :data:`CLUSTER_SCOPED`); :func:`scope_problems`
repeats the scope rules with the scopes the API server reports, so a
cluster-scoped custom resource is refused too.  Every message names the
manifest, the document and the field.
"""

import dataclasses
import re

from mintcloud.errors import PermanentError

#: ``group/Kind`` (``Kind`` alone for the core group) an app may create.
DEFAULT_ALLOWED_KINDS = (
    # the demo manifest set
    "Secret",
    "Service",
    "PersistentVolumeClaim",
    "apps/Deployment",
    "apps/StatefulSet",
    "batch/Job",
    "networking.k8s.io/Ingress",
    "externaldns.k8s.io/DNSEndpoint",
    # what operators' own manifests commonly add
    "ConfigMap",
    "ServiceAccount",
    "batch/CronJob",
    "networking.k8s.io/NetworkPolicy",
    "autoscaling/HorizontalPodAutoscaler",
    "policy/PodDisruptionBudget",
    "rbac.authorization.k8s.io/Role",
    "rbac.authorization.k8s.io/RoleBinding",
)
#: ClusterRoles a RoleBinding of an app may bind (Kubernetes' aggregated
#: user-facing roles, limited to the namespace by the RoleBinding).
DEFAULT_CLUSTER_ROLES = ("view", "edit")

#: ``(group, Kind)`` of the cluster-scoped kinds Kubernetes and common
#: add-ons serve.  Custom resources not listed here are caught at apply time
#: from the server's discovery (:func:`scope_problems`).
CLUSTER_SCOPED = frozenset(
    {
        ("", "Namespace"),
        ("", "Node"),
        ("", "PersistentVolume"),
        ("", "ComponentStatus"),
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
        ("apiregistration.k8s.io", "APIService"),
        ("certificates.k8s.io", "CertificateSigningRequest"),
        ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
        ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
        ("networking.k8s.io", "IngressClass"),
        ("node.k8s.io", "RuntimeClass"),
        ("policy", "PodSecurityPolicy"),
        ("rbac.authorization.k8s.io", "ClusterRole"),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
        ("scheduling.k8s.io", "PriorityClass"),
        ("storage.k8s.io", "CSIDriver"),
        ("storage.k8s.io", "CSINode"),
        ("storage.k8s.io", "StorageClass"),
        ("storage.k8s.io", "VolumeAttachment"),
        ("cert-manager.io", "ClusterIssuer"),
    }
)

_KIND_ENTRY = re.compile(r"^(?:([a-z0-9]([-a-z0-9.]*[a-z0-9])?)/)?([A-Z][A-Za-z0-9]*)$")
_ROLE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.:]*[a-z0-9])?$")


class TenancyError(PermanentError):
    """Rendered documents cross the app's tenant boundary; nothing was applied."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__(
            f"{len(self.problems)} object(s) outside the app's tenant boundary, "
            "nothing applied:\n" + "\n".join(self.problems)
        )


def _group(api_version):
    """The API group of ``api_version`` (``""`` for the core group or None)."""
    return api_version.rsplit("/", 1)[0] if "/" in (api_version or "") else ""


def kind_entry(group, kind):
    """``group/Kind`` as listed in allowed kinds (``Kind`` for the core group)."""
    return f"{group}/{kind}" if group else kind


def parse_kinds(text):
    """Allowed kinds from text (one per line or comma-separated): a tuple.

    Raises :class:`PermanentError` naming each malformed entry.
    """
    entries = [e.strip() for e in re.split(r"[\n,]", text or "") if e.strip()]
    bad = [e for e in entries if not _KIND_ENTRY.match(e)]
    if bad:
        raise PermanentError(
            "not a kind (write Kind for the core group, group/Kind otherwise, "
            "e.g. ConfigMap, apps/Deployment): " + ", ".join(repr(b) for b in bad)
        )
    return tuple(dict.fromkeys(entries))


def parse_cluster_roles(text):
    """Allowed ClusterRole names from text (comma or newline separated)."""
    names = [n.strip() for n in re.split(r"[\n,]", text or "") if n.strip()]
    bad = [n for n in names if not _ROLE_NAME.match(n)]
    if bad:
        raise PermanentError(
            "not a ClusterRole name: " + ", ".join(repr(b) for b in bad)
        )
    return tuple(dict.fromkeys(names))


@dataclasses.dataclass(frozen=True)
class TenantPolicy:
    """The boundary of one app: its namespace and the cluster's allowances."""

    namespace: str
    allowed_kinds: tuple = DEFAULT_ALLOWED_KINDS
    allowed_cluster_roles: tuple = DEFAULT_CLUSTER_ROLES

    def allows_kind(self, group, kind):
        return kind_entry(group, kind) in self.allowed_kinds


def _where(manifest, index, doc):
    metadata = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    what = f"{doc.get('kind') or 'document'}/{metadata.get('name') or '?'}"
    source = f"manifest {manifest!r}, " if manifest else ""
    return f"{source}document {index} ({what})"


def tenancy_problems(sources, policy):
    """Every document of ``sources`` that crosses ``policy``'s boundary.

    ``sources`` is ``[(manifest name, [documents])]`` in manifest order (a
    document's index counts within its manifest, from 1).  Returns messages.
    """
    problems = []
    for manifest, docs in sources:
        for index, doc in enumerate(docs, start=1):
            if isinstance(doc, dict):
                problems += [
                    f"{_where(manifest, index, doc)}: {problem}"
                    for problem in _document_problems(doc, policy)
                ]
    return problems


def check_tenancy(sources, policy):
    """Raise :class:`TenancyError` unless every document stays inside ``policy``."""
    problems = tenancy_problems(sources, policy)
    if problems:
        raise TenancyError(problems)


def _document_problems(doc, policy):
    group, kind = _group(doc.get("apiVersion")), doc.get("kind") or ""
    metadata = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    if (group, kind) == ("", "Namespace"):
        name = metadata.get("name")
        if name != policy.namespace:
            return [
                f"metadata.name: the Namespace {name!r} is not the app's own "
                f"namespace {policy.namespace!r}"
            ]
        return []
    namespaced = (group, kind) not in CLUSTER_SCOPED
    scope = _scope_problem(group, kind, metadata, policy.namespace, namespaced)
    if not namespaced:
        return [scope]
    problems = []
    if not policy.allows_kind(group, kind):
        problems.append(
            f"kind: {kind_entry(group, kind)} is not among the cluster's allowed "
            "kinds (Kubernetes > Clusters, Allowed Kinds)"
        )
    if scope:
        problems.append(scope)
    if (group, kind) == ("rbac.authorization.k8s.io", "RoleBinding"):
        problems += _role_binding_problems(doc, policy)
    return problems


def _scope_problem(group, kind, metadata, namespace, namespaced):
    """The scope rule a document breaks (a message), or None.

    A namespaced object must be in ``namespace`` (or name none); a
    cluster-scoped one must be the app's own ``Namespace``.
    """
    if namespaced:
        found = metadata.get("namespace")
        if found in (None, "", namespace):
            return None
        return f"metadata.namespace: {found!r} is not the app's namespace {namespace!r}"
    if (group, kind) == ("", "Namespace") and metadata.get("name") == namespace:
        return None
    return (
        f"kind: {kind_entry(group, kind)} is cluster-scoped; an app may only "
        f"create objects in its namespace {namespace!r}"
    )


def _role_binding_problems(doc, policy):
    ref = doc.get("roleRef") if isinstance(doc.get("roleRef"), dict) else {}
    if ref.get("kind") != "ClusterRole":
        return []
    name = ref.get("name")
    if name in policy.allowed_cluster_roles:
        return []
    allowed = ", ".join(policy.allowed_cluster_roles) or "none"
    return [
        f"roleRef.name: binds the ClusterRole {name!r}; a RoleBinding of an app "
        f"may bind a Role of its namespace or the ClusterRoles {allowed}"
    ]


def scope_problems(docs, namespace, is_namespaced):
    """The scope rules with the server's view: ``is_namespaced(doc) -> bool``.

    Used right before applying, once discovery knows every kind's scope
    (custom resources included).  ``docs`` are the documents in apply order.
    """
    problems = []
    for index, doc in enumerate(docs, start=1):
        group, kind = _group(doc.get("apiVersion")), doc.get("kind") or ""
        metadata = doc.get("metadata") or {}
        problem = _scope_problem(group, kind, metadata, namespace, is_namespaced(doc))
        if problem:
            problems.append(f"{_where(None, index, doc)}: {problem}")
    return problems
