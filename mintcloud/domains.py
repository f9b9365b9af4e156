"""A customer's own domains: the rules, the DNS check and the TLS state.

A production app is served at ``<app>.<base domain>``; its customer may add
their own domains (``erp.customer.com``).  This module holds the pure parts
of that feature, used by the ``kubernetes_app`` addon:

* :func:`domain_problems` and :func:`check_domain`: the rules a domain must
  follow, one stable code and an English message per broken rule, with the
  details (``params``) a user interface needs to word them in another
  language.  Input is normalised first: surrounding blanks and one trailing
  dot go, letters are lowercased, Unicode is mapped with UTS #46 and every
  non-ASCII label is converted to punycode (IDNA 2008, with ``idna``), so
  ``Bücher.Example.`` is stored as ``xn--bcher-kva.example``.
* :func:`dns_records`: the records the customer creates: the route (a
  CNAME to the app's host name, or for an apex domain A/AAAA records with
  the cluster's ingress addresses) and a verification TXT record with a
  random token.
* :func:`check_dns`: resolves those records with a dnspython resolver (or
  any object with the same ``resolve(name, rdtype)``: tests inject a fake)
  and says what is still missing; every query has a bounded lifetime.
* :func:`custom_domain_variables`: the built-in ``custom_domains`` the
  manifests render into Ingress rules and one TLS secret per domain.
* :func:`tls_state` and :func:`read_tls_states`: whether cert-manager has
  issued the certificate of a domain, from its TLS secret (the only
  function here that talks to a cluster, through :mod:`mintcloud.kube`).
"""

import hashlib
import ipaddress
import re
import secrets
import unicodedata
from dataclasses import dataclass, field

import dns.exception
import dns.resolver
import idna

from mintcloud.errors import PermanentError
from mintcloud.kube import dynamic_client, get_object, resource_for
from mintcloud.names import describe_char

#: Stable rule codes, in the order the rules are checked.
RULES = (
    "required",
    "format",
    "ip",
    "wildcard",
    "charset",
    "idna",
    "mixed-script",
    "confusable",
    "label-length",
    "label-hyphen",
    "length",
    "labels",
    "tld",
    "special-use",
    "base-domain",
    "taken",
)

MAX_LENGTH = 253
MAX_LABEL = 63
#: Top-level names no public certificate authority issues for (RFC 6761,
#: RFC 7686, RFC 8375, RFC 9476, and ICANN's ``internal``).
SPECIAL_USE_TLDS = frozenset(
    {"localhost", "local", "test", "invalid", "example", "onion", "arpa"}
    | {"internal", "alt", "localdomain"}
)
#: Public suffixes of two labels common enough that ``shop.co.uk`` is an apex.
TWO_LABEL_SUFFIXES = frozenset(
    """
    co.uk org.uk me.uk ltd.uk plc.uk ac.uk gov.uk com.au net.au org.au co.nz
    net.nz org.nz co.jp ne.jp or.jp co.za com.br com.cn com.mx co.in co.kr
    com.tr co.il com.ar com.sg com.hk com.tw co.at or.at
    """.split()
)
#: Scripts that may share a label: Latin with the Japanese, Chinese or
#: Korean scripts (Unicode TS #39, "highly restrictive").
_SCRIPT_MIXES = (
    frozenset({"LATIN", "CJK", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "CJK", "BOPOMOFO"}),
    frozenset({"LATIN", "CJK", "HANGUL"}),
)
#: Cyrillic and Greek letters that look like Latin letters: a label made of
#: them only (``аррӏе``) reads as a Latin name that it is not.
_LATIN_LOOKALIKES = frozenset(
    "асԁеһіјӏорԛѕԝхуьпгкԍѵѡъыю"  # Cyrillic
    "αοινκρτυχϲϳνωε"  # Greek
)
_ASCII_LABEL = re.compile(r"^[a-z0-9-]+$")
_NUMERIC_PART = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")
_TLD = re.compile(r"^([a-z]{2,63}|xn--[a-z0-9-]{1,59})$")

#: The verification TXT record is named ``<prefix>.<domain>``.
VERIFY_PREFIX = "_mint-cloud-challenge"
VERIFY_VALUE_PREFIX = "mint-cloud-verification="
#: Seconds one DNS query may take, and all queries of one lookup together.
DNS_TIMEOUT = 2.0
DNS_LIFETIME = 4.0


class DomainError(PermanentError):
    """A domain breaks one or more rules: ``problems`` holds each of them
    (``{"code", "message", "params"}``), ``codes`` their codes."""

    def __init__(self, problems):
        self.problems = list(problems)
        self.codes = [p["code"] for p in self.problems]
        super().__init__(
            "Invalid domain: " + "; ".join(p["message"] for p in self.problems)
        )


def _problem(code, message, **params):
    return {"code": code, "message": message, "params": params}


# --- normalising ----------------------------------------------------------------


def _host_part(text):
    """What a pasted URL would have as host (for a hint), or None."""
    match = re.match(r"^[a-z][a-z0-9+.-]*://([^/?#@]*@)?([^/?#:]+)", text, re.I)
    return match.group(2) if match else None


def _format_problem(text):
    """A URL, a path, a port, an e-mail address or blanks instead of a host name."""
    if any(ch.isspace() for ch in text):
        return _problem(
            "format",
            "enter the domain alone, without spaces",
        )
    if "://" in text or any(ch in text for ch in "/?#@\\"):
        host = _host_part(text)
        hint = f" (here: {host})" if host else ""
        return _problem(
            "format",
            f"enter the domain alone, without https://, a path or an e-mail address{hint}",
            host=host or "",
        )
    if ":" in text:
        return _problem("format", "enter the domain alone, without a port")
    return None


def _ip_problem(text):
    """An IPv4/IPv6 address, or a numeric form a resolver reads as one."""
    candidate = text.strip("[]").rstrip(".")
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        parts = candidate.lower().split(".")
        numeric = parts and all(_NUMERIC_PART.match(p) for p in parts)
        if not numeric:
            return None
    return _problem(
        "ip",
        f"{text} is an IP address: enter a domain name; the records to create "
        "point it at the app",
    )


def _script(char):
    """The script of a letter, roughly: the first word of its Unicode name."""
    if char.isascii():
        return "LATIN" if char.isalpha() else None
    if not char.isalpha():
        return None
    name = unicodedata.name(char, "")
    if name.startswith("CJK"):
        return "CJK"
    return name.split(" ", 1)[0] or None


def _script_problem(label):
    """Mixed scripts (``pаypal``) or a whole label of Latin look-alikes."""
    scripts = {s for s in (_script(ch) for ch in label) if s}
    if len(scripts) > 1 and not any(scripts <= mix for mix in _SCRIPT_MIXES):
        return _problem(
            "mixed-script",
            f"{label!r} mixes letters of different scripts "
            f"({', '.join(sorted(scripts))}), as look-alike addresses do",
            label=label,
            scripts=sorted(scripts),
        )
    letters = [ch for ch in label if ch.isalpha()]
    if (
        letters
        and scripts <= {"CYRILLIC", "GREEK"}
        and set(letters) <= (_LATIN_LOOKALIKES)
    ):
        return _problem(
            "confusable",
            f"{label!r} is written with letters that look like Latin ones but are not",
            label=label,
        )
    return None


def _to_ascii(label):
    """``(ascii label, problem)`` of one UTS #46-mapped label."""
    if label.isascii():
        if label.startswith("xn--"):
            try:
                unicode_label = idna.ulabel(label)
                if idna.alabel(unicode_label).decode("ascii") != label:
                    raise idna.IDNAError("not in its normal form")
            except (idna.IDNAError, UnicodeError) as error:
                return None, _problem(
                    "idna",
                    f"{label!r} is not a valid international name ({error})",
                    label=label,
                )
            return label, _script_problem(unicode_label)
        return label, None
    problem = _script_problem(label)
    try:
        return idna.alabel(label).decode("ascii"), problem
    except (idna.IDNAError, UnicodeError) as error:
        bad = next((ch for ch in label if not _valid_idna_char(ch)), None)
        if bad is not None:
            return None, _problem(
                "charset",
                f"{describe_char(bad)} is not allowed in a domain",
                char=describe_char(bad),
            )
        return None, _problem(
            "idna",
            f"{label!r} is not a valid international name ({error})",
            label=label,
        )


def _valid_idna_char(char):
    try:
        idna.alabel(char)
    except (idna.IDNAError, UnicodeError):
        return False
    return True


def _normalise(text):
    """``(name, problems)``: the punycode form, or the structural problems."""
    if not isinstance(text, str) or not text.strip():
        return None, [_problem("required", "enter a domain, e.g. erp.example.com")]
    text = text.strip()
    for check in (_ip_problem, _format_problem):
        problem = check(text)
        if problem:
            return None, [problem]
    if "*" in text:
        return None, [
            _problem(
                "wildcard",
                "wildcards (*) are not possible: add each domain on its own",
            )
        ]
    if "_" in text:
        return None, [
            _problem(
                "charset",
                "an underscore ('_') is not allowed in a host name",
                char="'_'",
            )
        ]
    try:
        mapped = idna.uts46_remap(text, std3_rules=False, transitional=False)
    except (idna.IDNAError, UnicodeError):
        bad = next((ch for ch in text if not _maps(ch)), "?")
        return None, [
            _problem(
                "charset",
                f"{describe_char(bad)} is not allowed in a domain",
                char=describe_char(bad),
            )
        ]
    if mapped.endswith("."):
        mapped = mapped[:-1]
    problems, labels = [], []
    for label in mapped.split("."):
        ascii_label, problem = _to_ascii(label) if label else (label, None)
        if problem:
            problems.append(problem)
        if ascii_label is None:
            return None, problems
        if ascii_label and not _ASCII_LABEL.match(ascii_label):
            bad = next(ch for ch in ascii_label if not _ASCII_LABEL.match(ch))
            return None, problems + [
                _problem(
                    "charset",
                    f"{describe_char(bad)} is not allowed in a domain",
                    char=describe_char(bad),
                )
            ]
        labels.append(ascii_label)
    return ".".join(labels), problems


def _maps(char):
    try:
        idna.uts46_remap(char, std3_rules=False, transitional=False)
    except (idna.IDNAError, UnicodeError):
        return False
    return True


def _label_problems(name):
    labels = name.split(".")
    problems = []
    if any(not label for label in labels):
        problems.append(
            _problem("labels", "a domain has no empty parts ('..', or a leading dot)")
        )
    elif len(labels) < 2:
        problems.append(
            _problem(
                "labels",
                "enter a full domain with at least one dot, e.g. erp.example.com",
            )
        )
    for label in labels:
        if len(label) > MAX_LABEL:
            problems.append(
                _problem(
                    "label-length",
                    f"each part between dots has at most {MAX_LABEL} characters "
                    f"(one has {len(label)})",
                    length=len(label),
                    max=MAX_LABEL,
                )
            )
            break
    for label in labels:
        if label.startswith("-") or label.endswith("-"):
            problems.append(
                _problem(
                    "label-hyphen",
                    f"a part may not start or end with '-' ({label!r})",
                    label=label,
                )
            )
            break
        if label[2:4] == "--" and not label.startswith("xn--"):
            problems.append(
                _problem(
                    "label-hyphen",
                    f"'--' at the third and fourth place is reserved ({label!r})",
                    label=label,
                )
            )
            break
    if len(name) > MAX_LENGTH:
        problems.append(
            _problem(
                "length",
                f"a domain has at most {MAX_LENGTH} characters (this one has "
                f"{len(name)})",
                length=len(name),
                max=MAX_LENGTH,
            )
        )
    tld = labels[-1]
    if len(labels) >= 2 and tld and not _TLD.match(tld):
        problems.append(
            _problem(
                "tld",
                f"{tld!r} is not a top-level domain: it has two or more letters",
                tld=tld,
            )
        )
    elif tld in SPECIAL_USE_TLDS:
        problems.append(
            _problem(
                "special-use",
                f".{tld} is reserved for private use: no public certificate can "
                "be issued for it",
                tld=tld,
            )
        )
    return problems


def _under(name, base):
    return name == base or name.endswith("." + base)


def _is_taken(name, taken):
    if callable(taken):
        return bool(taken(name))
    return name in taken


def domain_problems(text, base_domains=(), taken=()):
    """Every rule ``text`` breaks as ``{"code", "message", "params"}`` dicts.

    ``base_domains`` are the clusters' own base domains: a domain equal to
    or under one of them is refused (apps have their host name there).
    ``taken`` is a set of the normalised domains in use, or a callable
    ``taken(name) -> bool``.  An empty list means the domain is valid.
    """
    name, problems = _normalise(text)
    if name is None:
        return problems
    problems += _label_problems(name)
    if problems:
        return problems
    for base in base_domains:
        base = (base or "").strip().lower().rstrip(".")
        if base and _under(name, base):
            return [
                _problem(
                    "base-domain",
                    f"{name} is under {base}, the platform's own domain: your app "
                    "has its address there already",
                    base=base,
                )
            ]
    if _is_taken(name, taken):
        return [
            _problem(
                "taken",
                f"{name} is already used by an app",
                name=name,
            )
        ]
    return []


def check_domain(text, base_domains=(), taken=()):
    """The normalised (lowercase, punycode, no trailing dot) domain, or raise
    :class:`DomainError` with every problem of :func:`domain_problems`."""
    problems = domain_problems(text, base_domains, taken)
    if problems:
        raise DomainError(problems)
    return _normalise(text)[0]


def normalize_domain(text):
    """The normalised form of ``text`` without checking the rules beyond what
    normalising needs (for look-ups), or None when it cannot be normalised."""
    name, _problems = _normalise(text)
    return name or None


def unicode_domain(name):
    """How a person reads a stored domain: punycode labels decoded."""
    if not name:
        return name
    try:
        return idna.decode(name)
    except (idna.IDNAError, UnicodeError):
        return name


def is_apex(name):
    """Whether ``name`` is probably a registered domain itself (``customer.com``,
    ``shop.co.uk``): such a name cannot be a CNAME, it needs A/AAAA records."""
    labels = name.split(".")
    if len(labels) <= 2:
        return True
    return len(labels) == 3 and ".".join(labels[1:]) in TWO_LABEL_SUFFIXES


# --- the records the customer creates -------------------------------------------


def new_token():
    """A new random verification token (32 hex digits)."""
    return secrets.token_hex(16)


def verification_name(name):
    return f"{VERIFY_PREFIX}.{name}"


def verification_value(token):
    return f"{VERIFY_VALUE_PREFIX}{token}"


def ip_addresses(values):
    """The IP addresses among ``values`` (strings; host names left out), as
    ``(ipv4, ipv6)`` lists in their normal text form."""
    v4, v6 = [], []
    for value in values or ():
        try:
            address = ipaddress.ip_address(str(value).strip())
        except ValueError:
            continue
        target = v4 if address.version == 4 else v6
        if str(address) not in target:
            target.append(str(address))
    return v4, v6


def dns_records(name, token, target_host, addresses=()):
    """The records to create for domain ``name``, as ``{type, name, value,
    purpose}`` dicts (``purpose``: ``route`` or ``verify``).

    A sub-domain gets a CNAME to the app's ``target_host``; an apex domain
    (:func:`is_apex`) gets A/AAAA records with the cluster's ingress
    ``addresses`` (host names among them are left out), or a CNAME-like
    ``ALIAS`` to ``target_host`` when there is no IP address to give.
    """
    records = []
    if is_apex(name):
        v4, v6 = ip_addresses(addresses)
        records += [
            {"type": "A", "name": name, "value": a, "purpose": "route"} for a in v4
        ]
        records += [
            {"type": "AAAA", "name": name, "value": a, "purpose": "route"} for a in v6
        ]
        if not records:
            records.append(
                {
                    "type": "ALIAS",
                    "name": name,
                    "value": target_host,
                    "purpose": "route",
                }
            )
    else:
        records.append(
            {"type": "CNAME", "name": name, "value": target_host, "purpose": "route"}
        )
    records.append(
        {
            "type": "TXT",
            "name": verification_name(name),
            "value": verification_value(token),
            "purpose": "verify",
        }
    )
    return records


# --- the DNS check ----------------------------------------------------------------


@dataclass
class DnsCheck:
    """What DNS says about one domain.

    ``txt`` and ``route`` are ``ok``, ``missing`` (no such record), ``wrong``
    (a record with another value: ``found_*`` say which) or ``error`` (DNS
    did not answer in time; ``transient`` is then True).  ``verified`` when
    both are ``ok``.
    """

    txt: str = "missing"
    route: str = "missing"
    found_txt: list = field(default_factory=list)
    found_cname: str = None
    found_addresses: list = field(default_factory=list)
    errors: list = field(default_factory=list)

    @property
    def verified(self):
        return self.txt == "ok" and self.route == "ok"

    @property
    def transient(self):
        return "error" in (self.txt, self.route)

    def missing(self):
        """What is still missing, as ``{"code", "message", "params"}`` dicts."""
        out = []
        for part, state in (("txt", self.txt), ("route", self.route)):
            if state == "ok":
                continue
            params = {}
            if part == "txt" and state == "wrong":
                params["found"] = ", ".join(self.found_txt)
            if part == "route" and state == "wrong":
                params["found"] = self.found_cname or ", ".join(self.found_addresses)
            out.append(
                {
                    "code": f"{part}-{state}",
                    "message": _MISSING[f"{part}-{state}"].format(**params),
                    "params": params,
                }
            )
        return out


_MISSING = {
    "txt-missing": "the verification TXT record is not there yet",
    "txt-wrong": "the verification TXT record has another value ({found})",
    "txt-error": "DNS did not answer for the verification record; it is checked again",
    "route-missing": "the domain does not point anywhere yet",
    "route-wrong": "the domain points elsewhere ({found})",
    "route-error": "DNS did not answer for the domain; it is checked again",
}


def make_resolver(nameservers=None, timeout=DNS_TIMEOUT, lifetime=DNS_LIFETIME):
    """A dnspython resolver with bounded waits; ``nameservers`` (IP strings)
    replace the system's.  Never caches: each check asks again."""
    configure = not nameservers
    try:
        resolver = dns.resolver.Resolver(configure=configure)
    except dns.resolver.NoResolverConfiguration:
        # No /etc/resolv.conf: every lookup fails as "no nameservers".
        resolver = dns.resolver.Resolver(configure=False)
    if nameservers:
        resolver.nameservers = list(nameservers)
    resolver.timeout = timeout
    resolver.lifetime = lifetime
    resolver.cache = None
    return resolver


class _NoAnswer(Exception):
    """The name exists without a record of that type, or does not exist."""


def _query(resolver, name, rdtype, lifetime):
    """The rdatas of ``name``/``rdtype`` and the answer; raise :class:`_NoAnswer`
    for NXDOMAIN/no answer and ``dns.exception.Timeout`` (or
    ``NoNameservers``) when DNS cannot say."""
    try:
        answer = resolver.resolve(name, rdtype, lifetime=lifetime)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.YXDOMAIN):
        raise _NoAnswer() from None
    return list(answer)


def _lookup(resolver, name, rdtype, lifetime, errors):
    """``(values, ok)``: text values of the records (``ok`` False when DNS
    did not answer; the reason is appended to ``errors``)."""
    try:
        rdatas = _query(resolver, name, rdtype, lifetime)
    except _NoAnswer:
        return [], True
    except (dns.exception.Timeout, dns.resolver.NoNameservers) as error:
        errors.append(f"{rdtype} {name}: {type(error).__name__}")
        return [], False
    except dns.exception.DNSException as error:
        errors.append(f"{rdtype} {name}: {type(error).__name__}")
        return [], False
    values = []
    for rdata in rdatas:
        if rdtype == "TXT":
            strings = getattr(rdata, "strings", None)
            text = (
                b"".join(strings).decode("utf-8", "replace")
                if strings is not None
                else rdata.to_text().strip('"')
            )
        elif rdtype == "CNAME":
            text = _bare(rdata.target.to_text())
        else:
            text = str(ipaddress.ip_address(rdata.address))
        if text not in values:
            values.append(text)
    return values, True


def _bare(host):
    return (host or "").strip().rstrip(".").lower()


def check_dns(name, token, target_host, addresses=(), resolver=None, lifetime=None):
    """Resolve the records of domain ``name`` and say what is right.

    The TXT record ``_mint-cloud-challenge.<name>`` must hold
    ``mint-cloud-verification=<token>``.  The route is right when ``name``
    is a CNAME of ``target_host``, or when it resolves to addresses that are
    all the app's: those ``target_host`` resolves to and the cluster's
    ingress ``addresses`` (which also covers CNAME chains and flattened
    apex records).  ``resolver`` is a dnspython resolver or a fake with the
    same ``resolve(name, rdtype, lifetime=...)``; each lookup is bounded by
    ``lifetime`` seconds (default: the resolver's).
    """
    resolver = resolver or make_resolver()
    lifetime = lifetime or getattr(resolver, "lifetime", DNS_LIFETIME)
    target = _bare(target_host)
    result = DnsCheck()
    errors = result.errors

    found, ok = _lookup(resolver, verification_name(name), "TXT", lifetime, errors)
    result.found_txt = found
    if verification_value(token) in found:
        result.txt = "ok"
    elif not ok:
        result.txt = "error"
    else:
        result.txt = "wrong" if found else "missing"

    cnames, cname_ok = _lookup(resolver, name, "CNAME", lifetime, errors)
    result.found_cname = cnames[0] if cnames else None
    if result.found_cname == target:
        result.route = "ok"
        return result
    found_addresses, answered = [], cname_ok
    for rdtype in ("A", "AAAA"):
        values, ok = _lookup(resolver, name, rdtype, lifetime, errors)
        found_addresses += values
        answered = answered and ok
    result.found_addresses = found_addresses
    if found_addresses:
        v4, v6 = ip_addresses(addresses)
        expected, target_answered = set(v4 + v6), True
        for rdtype in ("A", "AAAA"):
            values, ok = _lookup(resolver, target, rdtype, lifetime, errors)
            expected.update(values)
            target_answered = target_answered and ok
        if set(found_addresses) <= expected:
            result.route = "ok"
            return result
        result.route = "wrong" if target_answered else "error"
    elif result.found_cname:
        result.route = "wrong"
    elif not answered:
        result.route = "error"
    else:
        result.route = "missing"
    return result


# --- what the manifests get --------------------------------------------------------


def tls_secret_name(prefix, host):
    """The TLS secret of ``host`` in an app whose objects start with ``prefix``:
    ``<prefix>-<host with dashes>-<8 hex>-tls`` (the hash keeps two hosts
    whose dashed forms are equal apart), at most 253 characters."""
    digest = hashlib.sha256(host.encode("ascii")).hexdigest()[:8]
    slug = re.sub(r"[^a-z0-9]+", "-", host.lower()).strip("-")
    room = MAX_LENGTH - len(prefix) - len(digest) - len("---tls")
    return f"{prefix}-{slug[:room].rstrip('-')}-{digest}-tls"


def custom_domain_variables(domains, prefix):
    """The built-in ``custom_domains``: ``[{"host", "tls_secret", "primary"}]``
    sorted by host, from ``(host, primary)`` pairs of verified domains."""
    return [
        {
            "host": host,
            "tls_secret": tls_secret_name(prefix, host),
            "primary": bool(primary),
        }
        for host, primary in sorted(domains)
    ]


def base_url(hostname, domains=()):
    """``https://<primary custom domain or hostname>``: the app's ``web.base.url``."""
    primary = next((d["host"] for d in domains if d.get("primary")), None)
    return f"https://{primary or hostname}"


# --- TLS state ---------------------------------------------------------------------

TLS_STATES = ("ready", "pending", "mismatch", "unknown")


def tls_state(secret, host):
    """``(state, message)`` of the certificate of ``host`` from its TLS secret
    (an API object as a dict, or None when it does not exist).

    ``ready``: a ``kubernetes.io/tls`` secret with a certificate that names
    ``host`` (cert-manager's ``cert-manager.io/alt-names`` annotation, when
    present); ``pending``: no secret or no certificate yet; ``mismatch``: a
    certificate for other names.
    """
    if not secret:
        return "pending", "no certificate issued yet"
    data = secret.get("data") or {}
    if secret.get("type") not in (None, "kubernetes.io/tls") or not data.get("tls.crt"):
        return "pending", "the TLS secret holds no certificate yet"
    annotations = (secret.get("metadata") or {}).get("annotations") or {}
    alt_names = annotations.get("cert-manager.io/alt-names")
    if alt_names is not None:
        names = {_bare(n) for n in alt_names.split(",") if n.strip()}
        if host not in names:
            return "mismatch", f"the certificate names {alt_names}, not {host}"
    return "ready", None


def read_tls_states(api_client, namespace, secret_names, dyn=None):
    """``{host: (state, message)}`` of the TLS secrets ``{host: secret name}``
    in ``namespace``: one GET per secret; a missing secret is ``pending``.

    Only the state is kept: the secret's key never leaves this function.
    Raises a classified :class:`~mintcloud.errors.KubeApiError`.
    """
    dyn = dyn or dynamic_client(api_client)
    resource = resource_for(dyn, "v1", "Secret")
    states = {}
    for host, secret_name in secret_names.items():
        secret = get_object(dyn, resource, secret_name, namespace)
        states[host] = tls_state(secret, host)
    return states
