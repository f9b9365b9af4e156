"""A fake DNS resolver for the custom-domain checks: no network.

:class:`FakeResolver` has the ``resolve(name, rdtype, lifetime=...)`` of a
``dns.resolver.Resolver`` and answers from records a test sets
(:meth:`FakeResolver.add`), as real ``dns.rdata`` objects, so the code under
test reads them exactly as it reads dnspython's answers.  A name without
records is NXDOMAIN, a name with records of other types answers NoAnswer,
A and AAAA follow CNAME chains (as a recursive resolver does), and
:meth:`FakeResolver.time_out` makes a name/type raise ``dns.exception.Timeout``
(what a resolver raises once its lifetime is spent).  Every query is kept in
:attr:`FakeResolver.queries`.
"""

import dns.exception
import dns.rdata
import dns.resolver


def _bare(name):
    return name.strip().rstrip(".").lower()


class FakeResolver:
    def __init__(self, lifetime=1.0):
        self.lifetime = lifetime
        self.records = {}
        self.timeouts = set()
        self.queries = []

    def add(self, name, rdtype, *values):
        """Records of ``name``: e.g. ``add("erp.x.com", "CNAME", "acme.mint-cloud.ch.")``,
        ``add("_mint-cloud-challenge.erp.x.com", "TXT", '"mint-cloud-verification=..."')``."""
        self.records.setdefault((_bare(name), rdtype), []).extend(values)
        return self

    def remove(self, name, rdtype=None):
        for key in list(self.records):
            if key[0] == _bare(name) and rdtype in (None, key[1]):
                del self.records[key]
        return self

    def time_out(self, name, rdtype):
        self.timeouts.add((_bare(name), rdtype))
        return self

    def resolve(self, name, rdtype, lifetime=None, **_kwargs):
        name = _bare(str(name))
        self.queries.append((name, rdtype, lifetime))
        if (name, rdtype) in self.timeouts:
            raise dns.exception.Timeout(timeout=lifetime or self.lifetime)
        seen = set()
        while True:
            values = self.records.get((name, rdtype))
            if values:
                return [dns.rdata.from_text("IN", rdtype, v) for v in values]
            cname = self.records.get((name, "CNAME"))
            if rdtype in ("A", "AAAA") and cname and name not in seen:
                seen.add(name)
                name = _bare(cname[0])
                continue
            if any(key[0] == name for key in self.records):
                raise dns.resolver.NoAnswer()
            raise dns.resolver.NXDOMAIN()
