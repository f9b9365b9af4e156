"""App-name rules.

A customer picks an app name ``$APP``; the platform serves it as
``$APP.<domain>`` (production) and ``$APP-int.<domain>`` (integration), and
uses it in Kubernetes object names.  The rules below keep both forms a valid
DNS label (``NAME-int`` <= 63 characters) and reject anything that could be
mistaken for something else: look-alike letters, punycode, reserved host
names, and words that YAML reads as something other than text.

The character rule (``a-z``, ``0-9``, ``-``) already keeps YAML and template
syntax (``{{``, ``:``, ``#``, ``&``, ``*``, quotes...) out of a name.  It does
not keep out *plain words* that a YAML parser resolves to another type when
they stand unquoted in a manifest: ``null`` (no value), ``yes``/``off``
(booleans), ``1e5`` (a number), ``2001-12-14`` (a date).  Rule ``yaml``
(:func:`yaml_kind`) rejects every name, and every ``-int`` form, that one of
these resolvers reads as a non-string:

* YAML 1.1 as PyYAML's ``SafeLoader`` resolves it (its implicit resolvers:
  null, bool, int, float, timestamp, merge, value).  :mod:`mintcloud.render`
  parses rendered manifests with it, and Ansible loads YAML with PyYAML.
* YAML 1.1 booleans as the type repository (https://yaml.org/type/bool.html)
  spells them: PyYAML leaves out ``y``/``Y``/``n``/``N``, which other YAML
  1.1 parsers (go-yaml v2, used by Kubernetes tooling through
  ``sigs.k8s.io/yaml``) read as booleans.
* YAML 1.2 core schema, with the regular expressions of the YAML 1.2.2
  specification, section 10.3.2 "Tag Resolution" (null, bool, int in base
  8/10/16, float including ``1e5``, ``.inf`` and ``.nan``).

The names derived from an accepted name are text as well: host names
contain dots, and a shortened :func:`resource_prefix` keeps the first
characters and adds ``-`` and a hash (every YAML non-string that starts with
a letter is one of the null and boolean words, none of which holds a ``-``).
The demo manifests also quote every string they interpolate (see
``kubernetes_manifest/static/manifests/README.md``); this rule keeps names
safe in manifests that do not.

Input is never fixed silently: ``"Acme"`` is rejected with "use lowercase
letters", not lowercased.

Every rule has a stable code (see :data:`RULES`); :func:`check_app_name_codes`
returns ``(code, message)`` pairs, :func:`check_app_name` only the messages,
:func:`validate_app_name` raises :class:`AppNameError`.

``taken`` may be a set (or frozenset, dict keys view, any
``collections.abc.Set``/``Mapping``) of the lowercase names already used,
an ``is_taken(name) -> bool`` callable, or any other iterable.  A set or a
callable costs O(1) per check; any other iterable is copied into a set on
every call (O(n)), so callers checking many names should pass a set.
"""

import collections.abc
import hashlib
import re
import unicodedata

import yaml

from mintcloud.errors import PermanentError

DEFAULT_DOMAIN = "mint-cloud.ch"
INT_SUFFIX = "-int"
MIN_LENGTH = 3
# A DNS label holds at most 63 characters; "NAME-int" must fit.
MAX_LENGTH = 63 - len(INT_SUFFIX)

DEFAULT_RESERVED = frozenset(
    """
    www mail smtp imap pop pop3 admin api app apps int staging test dev demo
    status ftp ns1 ns2 mx webmail autoconfig autodiscover portal shop static
    cdn support help billing kubernetes k8s odoo mint mint-cloud root
    localhost
    """.split()
)

#: Stable rule codes, in the order the rules are checked.
RULES = (
    "required",
    "charset",
    "start",
    "end",
    "length",
    "double-hyphen",
    "int-suffix",
    "reserved",
    "yaml",
    "taken",
)

_ALLOWED = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


class AppNameError(PermanentError):
    """An app name breaks one or more rules.

    ``messages`` holds every violation, ``codes`` the matching rule codes.
    """

    def __init__(self, messages, codes=()):
        self.messages = list(messages)
        self.codes = list(codes)
        super().__init__("Invalid app name: " + "; ".join(self.messages))


def int_name(name):
    """Name of the integration instance of app ``name``."""
    return name + INT_SUFFIX


def hostnames(name, domain=DEFAULT_DOMAIN):
    """``(production host, integration host)`` of app ``name``."""
    return f"{name}.{domain}", f"{int_name(name)}.{domain}"


#: Longest resource prefix: leaves room for the longest suffix a manifest adds
#: ("-websocket", "-reset-<id>") within Kubernetes' 52/63-character name limits.
RESOURCE_PREFIX_MAX = 40


def resource_prefix(app_name, max_length=RESOURCE_PREFIX_MAX):
    """The start of the names of an app's Kubernetes objects.

    The app name itself when it is short enough; otherwise its first
    characters, a dash and 8 hex digits of its SHA-1, so that two long names
    (``x…x`` and ``x…x-int`` in one namespace) never share a prefix and
    Ansible's ``hash('sha1')`` gives the same value.
    """
    if len(app_name) <= max_length:
        return app_name
    digest = hashlib.sha1(app_name.encode()).hexdigest()[:8]
    return f"{app_name[: max_length - 9].rstrip('-')}-{digest}"


def describe_char(char):
    """Human-readable, unambiguous description of one character."""
    if char == " ":
        return "a space"
    if char.isascii() and char.isprintable():
        return repr(char)
    code = f"U+{ord(char):04X}"
    name = unicodedata.name(char, "")
    return f"{code} {name}" if name else f"{code} (control or unassigned character)"


def _charset_message(name):
    for position, char in enumerate(name, start=1):
        if char in _ALLOWED:
            continue
        if "A" <= char <= "Z":
            return (
                f"use lowercase letters: {char!r} at position {position} is upper case"
            )
        return (
            "use only lowercase letters a-z, digits 0-9 and '-': "
            f"{describe_char(char)} at position {position} is not allowed"
        )
    return None


def _is_taken_function(taken):
    """Turn ``taken`` into a ``name -> bool`` function (see module doc)."""
    if callable(taken):
        return taken
    if not isinstance(taken, (collections.abc.Set, collections.abc.Mapping)):
        taken = {str(item).lower() for item in taken}
    return taken.__contains__


def _taken(name, taken):
    """True when ``name`` or its ``-int`` form clashes with a used name."""
    is_taken = _is_taken_function(taken)
    lowered = name.lower()
    candidates = [lowered, int_name(lowered)]
    if lowered.endswith(INT_SUFFIX):
        candidates.append(lowered[: -len(INT_SUFFIX)])
    return any(is_taken(candidate) for candidate in candidates)


# --- YAML: words that are not text -------------------------------------------

#: YAML 1.1 booleans as the type repository spells them
#: (https://yaml.org/type/bool.html); PyYAML knows all but y/Y/n/N.
_YAML11_BOOL = re.compile(
    r"""y|Y|yes|Yes|YES|n|N|no|No|NO
        |true|True|TRUE|false|False|FALSE
        |on|On|ON|off|Off|OFF""",
    re.X,
)

#: YAML 1.2 core schema (YAML 1.2.2, 10.3.2 "Tag Resolution"): the regular
#: expressions in the order the specification lists them (matched against
#: the whole word); anything else is a string.  An empty plain scalar is
#: null as well.
_YAML12_CORE = (
    ("null", re.compile(r"(?:null|Null|NULL|~)?")),
    ("bool", re.compile(r"true|True|TRUE|false|False|FALSE")),
    ("int", re.compile(r"[-+]?[0-9]+")),  # base 10
    ("int", re.compile(r"0o[0-7]+")),  # base 8
    ("int", re.compile(r"0x[0-9a-fA-F]+")),  # base 16
    (
        "float",
        re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"),
    ),
    ("float", re.compile(r"[-+]?(?:\.inf|\.Inf|\.INF)")),  # infinity
    ("float", re.compile(r"\.nan|\.NaN|\.NAN")),  # not a number
)

#: Resolved type (the last part of its tag) -> what the message calls it.
YAML_KINDS = {
    "null": "null",
    "bool": "boolean",
    "int": "number",
    "float": "number",
    "timestamp": "date",
}

_YAML_KIND_WORDING = {
    "null": "null (no value)",
    "boolean": "a boolean",
    "number": "a number",
    "date": "a date",
    "syntax": "YAML syntax",
}


def _pyyaml_type(word):
    """The type PyYAML's SafeLoader gives ``word`` as a plain scalar.

    Uses the loader's own implicit resolvers, looked up as
    ``yaml.resolver.BaseResolver.resolve`` does (by first character; the
    empty string under ``""``).  ``"str"`` when none matches.
    """
    resolvers = yaml.SafeLoader.yaml_implicit_resolvers
    for tag, regexp in resolvers.get(word[:1], []) + resolvers.get(None, []):
        if regexp.match(word):
            return tag.rsplit(":", 1)[-1]
    return "str"


def yaml_types(word):
    """``{resolver: type}`` of ``word`` written as a plain YAML scalar.

    Resolvers: ``"yaml1.1"`` (PyYAML's SafeLoader), ``"yaml1.1-bool"`` (the
    YAML 1.1 type repository's booleans), ``"yaml1.2-core"`` (YAML 1.2 core
    schema).  A type is the last part of the tag, ``"str"`` for text.
    """
    core = next((tag for tag, regexp in _YAML12_CORE if regexp.fullmatch(word)), "str")
    return {
        "yaml1.1": _pyyaml_type(word),
        "yaml1.1-bool": "bool" if _YAML11_BOOL.fullmatch(word) else "str",
        "yaml1.2-core": core,
    }


def yaml_kind(word):
    """What YAML reads ``word`` as when it stands unquoted, or None for text.

    ``"null"``, ``"boolean"``, ``"number"``, ``"date"``, or ``"syntax"`` for
    the other YAML 1.1 types (``<<`` merge key, ``=`` value key, ``!``/``&``/
    ``*``): the first resolver of :func:`yaml_types` that does not read a
    string decides.
    """
    for found in yaml_types(word).values():
        if found != "str":
            return YAML_KINDS.get(found, "syntax")
    return None


def yaml_problem(name):
    """``(word, kind)`` when YAML reads ``name`` or its ``-int`` form as a
    non-string (see :func:`yaml_kind`); the name is looked at first.  None
    when both are text."""
    for word in (name, int_name(name)):
        kind = yaml_kind(word)
        if kind:
            return word, kind
    return None


def _yaml_message(name, word, kind):
    which = "" if word == name else " (the name of the integration app)"
    return (
        f"YAML reads '{word}'{which} as {_YAML_KIND_WORDING[kind]}, not as text; "
        "pick another name"
    )


def check_app_name_codes(name, taken=(), reserved=None, domain=DEFAULT_DOMAIN):
    """Return every rule violation of ``name`` as ``(code, message)`` pairs.

    An empty list means the name is valid.  ``reserved`` adds names to
    :data:`DEFAULT_RESERVED` (it never removes any).  ``domain`` is only used
    in messages.
    """
    if name is None or name is False or name == "":
        return [("required", "an app name is required")]
    if not isinstance(name, str):
        raise TypeError(f"app name must be a string, not {type(name).__name__}")

    problems = []
    charset = _charset_message(name)
    if charset:
        problems.append(("charset", charset))
    if not name[0].isalpha():
        problems.append(("start", "must start with a letter"))
    if not name[-1].isalnum():
        problems.append(("end", "must end with a letter or a digit"))
    if not MIN_LENGTH <= len(name) <= MAX_LENGTH:
        problems.append(
            (
                "length",
                f"must be {MIN_LENGTH} to {MAX_LENGTH} characters long "
                f"(is {len(name)}), so that {int_name('NAME')}.{domain} stays a valid host name",
            )
        )
    if "--" in name:
        problems.append(
            (
                "double-hyphen",
                "must not contain '--' (reserved for punycode such as 'xn--')",
            )
        )
    lowered = name.lower()
    if lowered.endswith(INT_SUFFIX):
        problems.append(
            (
                "int-suffix",
                f"must not end in '{INT_SUFFIX}': that suffix names the integration instance",
            )
        )
    reserved_names = DEFAULT_RESERVED | frozenset(r.lower() for r in (reserved or ()))
    if lowered in reserved_names:
        problems.append(("reserved", f"'{lowered}' is reserved"))
    yaml_found = yaml_problem(name)
    if yaml_found:
        problems.append(("yaml", _yaml_message(name, *yaml_found)))
    if _taken(name, taken):
        problems.append(("taken", "this name is already taken"))
    return problems


def check_app_name(name, taken=(), reserved=None, domain=DEFAULT_DOMAIN):
    """Return every rule violation of ``name`` as an English message."""
    return [
        message
        for _code, message in check_app_name_codes(name, taken, reserved, domain)
    ]


def validate_app_name(name, taken=(), reserved=None, domain=DEFAULT_DOMAIN):
    """Raise :class:`AppNameError` unless ``name`` is valid; return ``name``."""
    problems = check_app_name_codes(name, taken, reserved, domain)
    if problems:
        raise AppNameError([m for _c, m in problems], [c for c, _m in problems])
    return name
