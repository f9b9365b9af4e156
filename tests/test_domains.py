"""Tests of mintcloud.domains: the rules of a customer's own domain, the DNS
check against a fake resolver, the built-in variable and the TLS state."""

import base64
import codecs
import pathlib

import dns.resolver
import pytest
from kubernetes import client as k8s

from mintcloud import domains
from mintcloud.domains import (
    DnsCheck,
    DomainError,
    check_dns,
    check_domain,
    custom_domain_variables,
    dns_records,
    domain_problems,
)
from mintcloud.errors import PermanentError
from mintcloud.render import render_manifests
from mintcloud.validate import validate_documents
from mintcloud.variables import load_vars_yml
from tests.fakes.dns_resolver import FakeResolver

CORPUS_FILE = pathlib.Path(__file__).parent / "data" / "hostile_domains.txt"
BASE = ["mint-cloud.ch"]
TAKEN = {"taken.example.com"}
HOST = "acme.mint-cloud.ch"
TOKEN = "0123456789abcdef0123456789abcdef"


def load_corpus():
    """``[(domain, expected, line number)]`` from the corpus file."""
    cases = []
    text = CORPUS_FILE.read_text(encoding="ascii")
    for number, line in enumerate(text.splitlines(), 1):
        if not line or line.startswith("#"):
            continue
        raw, expected = line.rsplit("\t", 1)
        cases.append((codecs.decode(raw, "unicode_escape"), expected, number))
    return cases


CORPUS = load_corpus()


def codes(text, **kwargs):
    kwargs.setdefault("base_domains", BASE)
    kwargs.setdefault("taken", TAKEN)
    return [p["code"] for p in domain_problems(text, **kwargs)]


# --- the rules --------------------------------------------------------------------


def test_corpus_is_large_and_uses_known_codes():
    hostile = [c for c in CORPUS if not c[1].startswith("=")]
    print(f"hostile domain corpus: {len(hostile)} refused, {len(CORPUS)} in all")
    assert len(hostile) >= 40
    assert {e for _d, e, _l in hostile} <= set(domains.RULES)
    # every rule but "required"'s twin cases is covered by at least one line
    assert set(domains.RULES) <= {e for _d, e, _l in hostile}
    assert len({d for d, _e, _l in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize(
    "text, expected",
    [(d, e) for d, e, _l in CORPUS],
    ids=[f"line{number}" for _d, _e, number in CORPUS],
)
def test_corpus_domain_gets_the_expected_verdict(text, expected):
    found = codes(text)
    if expected.startswith("="):
        assert found == []
        assert check_domain(text, BASE, TAKEN) == expected[1:]
    else:
        assert expected in found, (text, found)
        with pytest.raises(DomainError) as error:
            check_domain(text, BASE, TAKEN)
        assert expected in error.value.codes
        assert isinstance(error.value, PermanentError)


def test_every_problem_has_a_message_and_params():
    for text, _expected, _line in CORPUS:
        for problem in domain_problems(text, BASE, TAKEN):
            assert problem["code"] in domains.RULES
            assert problem["message"] and isinstance(problem["params"], dict)


def test_messages_say_what_is_wrong():
    (problem,) = domain_problems("https://erp.example.com/web")
    assert problem["params"] == {"host": "erp.example.com"}
    assert "(here: erp.example.com)" in problem["message"]
    (problem,) = domain_problems("acme.mint-cloud.ch", base_domains=BASE)
    assert problem["params"] == {"base": "mint-cloud.ch"}
    assert "platform's own domain" in problem["message"]
    (problem,) = domain_problems("p\u0430ypal.com")
    assert problem["params"]["scripts"] == ["CYRILLIC", "LATIN"]
    (problem,) = domain_problems("\u2603.example.com")
    assert problem["params"] == {"char": "U+2603 SNOWMAN"}
    (problem,) = domain_problems(
        "erp.example.com", taken=lambda n: n == "erp.example.com"
    )
    assert problem["code"] == "taken"
    assert "already used" in problem["message"]
    problems = domain_problems("a" * 64 + ".com")
    assert problems[0]["params"] == {"length": 64, "max": 63}
    assert domain_problems(None)[0]["code"] == "required"


def test_several_bases_and_base_forms():
    bases = ["mint-cloud.ch", " Other.Example. ", ""]
    assert codes("x.other.example", base_domains=bases) == ["special-use"]
    assert codes("x.other.ch", base_domains=["Other.CH."]) == ["base-domain"]
    assert codes("x.mint-cloud.ch.evil.com") == []


def test_normalize_and_unicode_forms():
    assert domains.normalize_domain("B\u00fccher.COM.") == "xn--bcher-kva.com"
    assert domains.normalize_domain("*.x.com") is None
    assert domains.unicode_domain("xn--bcher-kva.com") == "b\u00fccher.com"
    assert domains.unicode_domain("xn--zz.com") == "xn--zz.com"
    assert domains.unicode_domain("") == ""


@pytest.mark.parametrize(
    "name, apex",
    [
        ("customer.com", True),
        ("shop.co.uk", True),
        ("erp.customer.com", False),
        ("erp.shop.co.uk", False),
        ("a.b.c.d", False),
    ],
)
def test_is_apex(name, apex):
    assert domains.is_apex(name) is apex


# --- the records to create -----------------------------------------------------------


def test_records_of_a_subdomain_are_a_cname_and_the_txt():
    records = dns_records("erp.customer.com", TOKEN, HOST, ["203.0.113.7"])
    assert records == [
        {
            "type": "CNAME",
            "name": "erp.customer.com",
            "value": HOST,
            "purpose": "route",
        },
        {
            "type": "TXT",
            "name": "_mint-cloud-challenge.erp.customer.com",
            "value": f"mint-cloud-verification={TOKEN}",
            "purpose": "verify",
        },
    ]


def test_records_of_an_apex_are_the_ingress_addresses():
    addresses = ["203.0.113.7", "lb.example.net", "2001:db8::7", "203.0.113.7"]
    records = dns_records("customer.com", TOKEN, HOST, addresses)
    assert [(r["type"], r["value"]) for r in records[:-1]] == [
        ("A", "203.0.113.7"),
        ("AAAA", "2001:db8::7"),
    ]
    # Without an IP address to give, an ALIAS (ANAME) to the host name.
    records = dns_records("customer.com", TOKEN, HOST, ["lb.example.net"])
    assert records[0] == {
        "type": "ALIAS",
        "name": "customer.com",
        "value": HOST,
        "purpose": "route",
    }


def test_new_tokens_are_random_hex():
    first, second = domains.new_token(), domains.new_token()
    assert first != second and len(first) == 32 and int(first, 16) >= 0


# --- the DNS check ----------------------------------------------------------------------


def resolver_with_txt(name="erp.customer.com", token=TOKEN):
    fake = FakeResolver()
    fake.add(
        f"_mint-cloud-challenge.{name}", "TXT", f'"mint-cloud-verification={token}"'
    )
    fake.add(HOST, "A", "203.0.113.7")
    return fake


def test_nothing_in_dns_yet():
    result = check_dns("erp.customer.com", TOKEN, HOST, resolver=FakeResolver())
    assert (result.txt, result.route, result.verified) == ("missing", "missing", False)
    assert [m["code"] for m in result.missing()] == ["txt-missing", "route-missing"]
    assert not result.transient


def test_cname_and_txt_verify_the_domain():
    fake = resolver_with_txt().add("erp.customer.com", "CNAME", f"{HOST}.")
    result = check_dns("erp.customer.com", TOKEN, HOST, resolver=fake, lifetime=2)
    assert result.verified
    assert result.missing() == []
    assert result.found_cname == HOST
    # every query is bounded
    assert {q[2] for q in fake.queries} == {2}


def test_txt_with_another_token_is_wrong():
    fake = resolver_with_txt(token="f" * 32).add("erp.customer.com", "CNAME", HOST)
    result = check_dns("erp.customer.com", TOKEN, HOST, resolver=fake)
    assert (result.txt, result.route) == ("wrong", "ok")
    (missing,) = result.missing()
    assert missing["code"] == "txt-wrong"
    assert "f" * 32 in missing["message"]


def test_txt_split_into_strings_is_joined():
    fake = FakeResolver()
    fake.add(
        "_mint-cloud-challenge.erp.customer.com",
        "TXT",
        f'"mint-cloud-verification=" "{TOKEN}"',
    )
    result = check_dns("erp.customer.com", TOKEN, HOST, resolver=fake)
    assert result.txt == "ok"


def test_cname_elsewhere_is_wrong():
    fake = resolver_with_txt().add("erp.customer.com", "CNAME", "other.example.net.")
    result = check_dns("erp.customer.com", TOKEN, HOST, resolver=fake)
    assert (result.txt, result.route) == ("ok", "wrong")
    (missing,) = result.missing()
    assert missing == {
        "code": "route-wrong",
        "message": "the domain points elsewhere (other.example.net)",
        "params": {"found": "other.example.net"},
    }


def test_cname_chain_to_the_app_is_right():
    fake = resolver_with_txt()
    fake.add("erp.customer.com", "CNAME", "alias.customer.com.")
    fake.add("alias.customer.com", "CNAME", f"{HOST}.")
    result = check_dns("erp.customer.com", TOKEN, HOST, resolver=fake)
    assert result.route == "ok"
    assert result.found_cname == "alias.customer.com"
    assert result.found_addresses == ["203.0.113.7"]


def test_apex_addresses_of_the_cluster_are_right():
    fake = resolver_with_txt("customer.com")
    fake.add("customer.com", "A", "198.51.100.9")
    fake.add("customer.com", "AAAA", "2001:db8::9")
    result = check_dns(
        "customer.com",
        TOKEN,
        HOST,
        addresses=["198.51.100.9", "2001:db8::9"],
        resolver=fake,
    )
    assert result.verified, result
    # Addresses of the app's host name count as well (a flattened CNAME).
    fake = resolver_with_txt("customer.com").add("customer.com", "A", "203.0.113.7")
    assert check_dns("customer.com", TOKEN, HOST, resolver=fake).verified


def test_apex_addresses_elsewhere_are_wrong():
    fake = resolver_with_txt("customer.com")
    fake.add("customer.com", "A", "203.0.113.7", "192.0.2.1")
    result = check_dns("customer.com", TOKEN, HOST, ["203.0.113.7"], resolver=fake)
    assert result.route == "wrong"
    assert result.missing()[0]["params"] == {"found": "203.0.113.7, 192.0.2.1"}


def test_timeouts_are_transient_errors():
    fake = resolver_with_txt().add("erp.customer.com", "CNAME", "x.example.net.")
    fake.time_out("_mint-cloud-challenge.erp.customer.com", "TXT")
    fake.time_out("erp.customer.com", "CNAME")
    fake.time_out("erp.customer.com", "A")
    result = check_dns("erp.customer.com", TOKEN, HOST, resolver=fake)
    assert (result.txt, result.route) == ("error", "error")
    assert result.transient and not result.verified
    assert [m["code"] for m in result.missing()] == ["txt-error", "route-error"]
    assert result.errors[0] == "TXT _mint-cloud-challenge.erp.customer.com: Timeout"


def test_target_that_does_not_answer_is_an_error():
    fake = FakeResolver().add("erp.customer.com", "A", "192.0.2.1")
    fake.time_out(HOST, "A")
    result = check_dns("erp.customer.com", TOKEN, HOST, resolver=fake)
    assert result.route == "error"


class _Broken:
    lifetime = 1.0

    def __init__(self, error):
        self.error = error

    def resolve(self, name, rdtype, lifetime=None):
        raise self.error


@pytest.mark.parametrize(
    "error",
    [
        dns.resolver.NoNameservers(),
        dns.resolver.NoRootSOA(),
    ],
)
def test_resolver_failures_are_errors(error):
    result = check_dns("erp.customer.com", TOKEN, HOST, resolver=_Broken(error))
    assert (result.txt, result.route) == ("error", "error")


def test_make_resolver_is_bounded_and_uncached():
    resolver = domains.make_resolver(["192.0.2.53"], timeout=1, lifetime=3)
    assert resolver.nameservers == ["192.0.2.53"]
    assert (resolver.timeout, resolver.lifetime, resolver.cache) == (1, 3, None)


def test_make_resolver_without_system_configuration(monkeypatch):
    real = dns.resolver.Resolver

    def resolver(configure=True):
        if configure:
            raise dns.resolver.NoResolverConfiguration()
        return real(configure=False)

    monkeypatch.setattr(dns.resolver, "Resolver", resolver)
    found = domains.make_resolver()
    assert found.nameservers == []
    result = check_dns("erp.customer.com", TOKEN, HOST, resolver=found)
    assert result.transient


def test_dns_check_defaults():
    assert DnsCheck().missing()[0]["code"] == "txt-missing"


# --- the built-in variable --------------------------------------------------------------


def test_custom_domain_variables_are_sorted_plain_dicts():
    found = custom_domain_variables(
        [("shop.example.org", False), ("erp.customer.com", True)], "acme"
    )
    assert found == [
        {
            "host": "erp.customer.com",
            "tls_secret": "acme-erp-customer-com-0636fd19-tls",
            "primary": True,
        },
        {
            "host": "shop.example.org",
            "tls_secret": domains.tls_secret_name("acme", "shop.example.org"),
            "primary": False,
        },
    ]
    assert domains.base_url(HOST, found) == "https://erp.customer.com"
    assert domains.base_url(HOST, found[1:]) == f"https://{HOST}"
    assert domains.base_url(HOST) == f"https://{HOST}"


def test_tls_secret_names_are_distinct_and_fit():
    assert domains.tls_secret_name("a", "a-b.c.com") != domains.tls_secret_name(
        "a", "a.b-c.com"
    )
    long_host = ".".join(["a" * 63] * 3) + ".com"
    name = domains.tls_secret_name("p" * 40, long_host)
    assert len(name) <= 253 and name.endswith("-tls")
    assert "--" not in name.replace("-tls", "")


# --- the TLS state --------------------------------------------------------------------


def tls_secret(alt_names=None, crt=b"CERT", type_="kubernetes.io/tls"):
    annotations = {}
    if alt_names is not None:
        annotations["cert-manager.io/alt-names"] = alt_names
    return {
        "type": type_,
        "metadata": {"name": "x", "annotations": annotations},
        "data": {"tls.crt": base64.b64encode(crt).decode() if crt else ""},
    }


@pytest.mark.parametrize(
    "secret, state",
    [
        (None, "pending"),
        (tls_secret(crt=b""), "pending"),
        (tls_secret(type_="Opaque"), "pending"),
        (tls_secret(), "ready"),
        (tls_secret("erp.customer.com"), "ready"),
        (tls_secret("other.example.com,www.other.example.com"), "mismatch"),
    ],
)
def test_tls_state(secret, state):
    assert domains.tls_state(secret, "erp.customer.com")[0] == state


def test_read_tls_states_from_the_api_server(kube_api, kube_client):
    core = k8s.CoreV1Api(kube_client)
    core.create_namespace({"metadata": {"name": "acme"}})
    core.create_namespaced_secret(
        "acme",
        {
            "metadata": {
                "name": "acme-erp-tls",
                "annotations": {"cert-manager.io/alt-names": "erp.customer.com"},
            },
            "type": "kubernetes.io/tls",
            "data": {
                "tls.crt": base64.b64encode(b"CERT").decode(),
                "tls.key": base64.b64encode(b"KEY").decode(),
            },
        },
    )
    states = domains.read_tls_states(
        kube_client,
        "acme",
        {"erp.customer.com": "acme-erp-tls", "shop.example.org": "acme-shop-tls"},
    )
    assert states == {
        "erp.customer.com": ("ready", None),
        "shop.example.org": ("pending", "no certificate issued yet"),
    }


# --- the demo manifests ----------------------------------------------------------------


def _demo(name):
    root = pathlib.Path(__file__).parent.parent / "kubernetes_manifest/static/manifests"
    return name, (root / f"{name}.yaml").read_text()


def _demo_variables(**extra):
    text = (pathlib.Path(__file__).parent / "data" / "demo_vars.yml").read_text()
    variables = load_vars_yml(text)
    for key, value in extra.items():
        variables[key] = value
    return variables


def test_demo_ingress_and_odoo_serve_the_custom_domains():
    domains_ = custom_domain_variables(
        [("erp.customer.com", True), ("xn--bcher-kva.example", False)], "acme"
    )
    docs = render_manifests(
        [_demo("ingress"), _demo("odoo")], _demo_variables(custom_domains=domains_)
    )
    assert validate_documents(docs, kubernetes_version="1.29") == []
    ingress = docs[0]
    assert [r["host"] for r in ingress["spec"]["rules"]] == [
        "acme.mint-cloud.ch",
        "erp.customer.com",
        "xn--bcher-kva.example",
    ]
    assert ingress["spec"]["tls"] == [
        {"hosts": ["acme.mint-cloud.ch"], "secretName": "acme-tls"},
        {"hosts": ["erp.customer.com"], "secretName": domains_[0]["tls_secret"]},
        {"hosts": ["xn--bcher-kva.example"], "secretName": domains_[1]["tls_secret"]},
    ]
    # every host gets the same paths
    paths = {
        tuple(p["path"] for p in r["http"]["paths"]) for r in ingress["spec"]["rules"]
    }
    assert paths == {("/websocket", "/")}
    init = docs[1]["spec"]["template"]["spec"]["initContainers"]
    base_url = next(c for c in init if c["name"] == "base-url")
    env = {e["name"]: e.get("value") for e in base_url["env"]}
    assert env["WEB_BASE_URL"] == "https://erp.customer.com"
    assert "web.base.url.freeze" in base_url["args"][0]


def test_demo_manifests_without_custom_domains_are_as_before():
    docs = render_manifests([_demo("ingress"), _demo("odoo")], _demo_variables())
    ingress = docs[0]
    assert [r["host"] for r in ingress["spec"]["rules"]] == ["acme.mint-cloud.ch"]
    assert ingress["spec"]["tls"] == [
        {"hosts": ["acme.mint-cloud.ch"], "secretName": "acme-tls"}
    ]
    init = docs[1]["spec"]["template"]["spec"]["initContainers"]
    env = {e["name"]: e.get("value") for e in init[-1]["env"]}
    assert env["WEB_BASE_URL"] == "https://acme.mint-cloud.ch"


def test_suspended_app_sends_every_host_to_the_suspended_page():
    domains_ = custom_domain_variables([("erp.customer.com", False)], "acme")
    (ingress,) = render_manifests(
        [_demo("ingress")],
        _demo_variables(custom_domains=domains_, app_suspended=True),
    )
    backends = {
        r["host"]: r["http"]["paths"][0]["backend"]["service"]["name"]
        for r in ingress["spec"]["rules"]
    }
    assert backends == {
        "acme.mint-cloud.ch": "acme-suspended",
        "erp.customer.com": "acme-suspended",
    }
