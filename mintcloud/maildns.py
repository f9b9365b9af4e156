"""The DNS records of a Mailgun domain, as a cluster publishes them.

A cluster that runs external-dns with its CRD source (``--source=crd``)
publishes the records of ``DNSEndpoint`` objects
(``externaldns.k8s.io/v1alpha1``) in DNS.  :func:`dns_endpoints` turns the
records Mailgun asks for (the rows of :func:`mintcloud.mailgun.dns_records`)
into the built-in variable ``mailgun_dns_records``: a list of plain dicts,
each one an external-dns ``Endpoint``::

    {"dnsName": "acme.mint-cloud.ch", "recordType": "TXT",
     "targets": ["v=spf1 include:mailgun.org ~all"]}

so a manifest writes ``spec.endpoints`` from it field by field (the demo
manifest ``mailgun-dns.yaml`` does).  Records of the same name and type
share one endpoint with several targets (external-dns keeps one endpoint
per name and type); an MX target is ``"<priority> <host>"`` as external-dns
expects it (RFC 1034).

:func:`endpoint_records` and :func:`published_records` read them back, so a
test (or an operator's check) can compare what a cluster publishes with what
Mailgun asked for.  No I/O.
"""

DNSENDPOINT_API_VERSION = "externaldns.k8s.io/v1alpha1"
DNSENDPOINT_KIND = "DNSEndpoint"
#: ``group/Kind`` of a DNSEndpoint, as a cluster's allowed kinds list it.
DNSENDPOINT_ENTRY = "externaldns.k8s.io/DNSEndpoint"
#: The MX priority when Mailgun names none.
DEFAULT_MX_PRIORITY = 10


def dns_endpoints(records):
    """Mailgun's records -> the external-dns endpoints publishing them.

    ``records`` are dicts with ``record_type``, ``name``, ``value`` and, for
    MX, ``priority`` (the rows of :func:`mintcloud.mailgun.dns_records` or
    of the ``mailgun.domain.record`` model).  Records without a name, a type
    or a value are left out.  The order is Mailgun's, by the first record of
    each name and type; names are lower-cased and lose a trailing dot.
    """
    endpoints, by_key = [], {}
    for record in records:
        record_type = str(record.get("record_type") or "").strip().upper()
        name = _host(record.get("name"))
        value = str(record.get("value") or "").strip()
        if not (record_type and name and value):
            continue
        if record_type == "MX":
            value = f"{_priority(record.get('priority'))} {_host(value)}"
        elif record_type == "CNAME":
            value = _host(value)
        key = (name, record_type)
        if key not in by_key:
            by_key[key] = {"dnsName": name, "recordType": record_type, "targets": []}
            endpoints.append(by_key[key])
        if value not in by_key[key]["targets"]:
            by_key[key]["targets"].append(value)
    return endpoints


def endpoint_records(endpoints):
    """The endpoints as a set of ``(record_type, name, value, priority)``.

    The inverse of :func:`dns_endpoints`: ``priority`` is an int for MX and
    None otherwise.
    """
    found = set()
    for endpoint in endpoints or ():
        record_type = str(endpoint.get("recordType") or "").upper()
        name = _host(endpoint.get("dnsName"))
        for target in endpoint.get("targets") or ():
            target = str(target).strip()
            priority = None
            if record_type == "MX":
                head, _, host = target.partition(" ")
                priority, target = _priority(head), _host(host)
            elif record_type == "CNAME":
                target = _host(target)
            found.add((record_type, name, target, priority))
    return found


def mailgun_records(records):
    """Mailgun's records as the set :func:`endpoint_records` returns."""
    return endpoint_records(dns_endpoints(records))


def published_records(docs):
    """What the ``DNSEndpoint`` documents among ``docs`` publish (a set).

    ``docs`` are rendered Kubernetes objects; other kinds are ignored.
    """
    endpoints = []
    for doc in docs or ():
        if doc.get("apiVersion") == DNSENDPOINT_API_VERSION and (
            doc.get("kind") == DNSENDPOINT_KIND
        ):
            endpoints += (doc.get("spec") or {}).get("endpoints") or []
    return endpoint_records(endpoints)


def _host(value):
    return str(value or "").strip().rstrip(".").lower()


def _priority(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return DEFAULT_MX_PRIORITY
