"""App-name problems with the details a user interface needs to word them.

:func:`mintcloud.names.check_app_name_codes` answers with a code and an
English message per broken rule.  A shop that speaks German (or any other
language) cannot translate a finished English sentence that embeds the
offending character and its position, so :func:`app_name_problems` also
returns those details as ``params``: the UI picks a translated template per
code and fills it in.

:func:`name_candidates` lists the names whose use makes a name taken, so a
caller backed by a database looks them up in one query and passes the
result as ``taken``.
"""

import string

from mintcloud.names import (
    DEFAULT_DOMAIN,
    INT_SUFFIX,
    MAX_LENGTH,
    MIN_LENGTH,
    check_app_name_codes,
    describe_char,
    int_name,
    yaml_problem,
)

ALLOWED_CHARS = frozenset(string.ascii_lowercase + string.digits + "-")


def name_candidates(name):
    """The lowercase names whose use makes ``name`` taken.

    ``acme`` clashes with an app ``acme`` and with ``acme-int``; a name that
    ends in ``-int`` (itself invalid) also with the name without the suffix.
    Empty for anything that is not a non-empty string.
    """
    if not isinstance(name, str) or not name:
        return []
    lowered = name.lower()
    candidates = [lowered, int_name(lowered)]
    if lowered.endswith(INT_SUFFIX):
        candidates.append(lowered[: -len(INT_SUFFIX)])
    return candidates


def first_bad_char(name):
    """``(position, char)`` (1-based) of the first character not allowed, or None."""
    for position, char in enumerate(name, start=1):
        if char not in ALLOWED_CHARS:
            return position, char
    return None


def _params(code, name, domain):
    """Details of one problem, for a translated message."""
    if code == "charset":
        position, char = first_bad_char(name)
        return {
            "position": position,
            "char": describe_char(char),
            "upper": "A" <= char <= "Z",
        }
    if code == "length":
        return {
            "length": len(name),
            "min": MIN_LENGTH,
            "max": MAX_LENGTH,
            "int_host": f"{int_name('NAME')}.{domain}",
        }
    if code == "int-suffix":
        return {"suffix": INT_SUFFIX}
    if code in ("reserved", "taken"):
        return {"name": name.lower()}
    if code == "yaml":
        # the word YAML misreads (the name or its -int form) and as what:
        # "null", "boolean", "number", "date" or "syntax"
        word, kind = yaml_problem(name)
        return {"name": word, "kind": kind, "integration": word != name}
    return {}


def app_name_problems(name, taken=(), reserved=None, domain=DEFAULT_DOMAIN):
    """Every rule ``name`` breaks as ``{"code", "message", "params"}`` dicts.

    Same rules, order and English messages as
    :func:`mintcloud.names.check_app_name_codes` (``taken``, ``reserved`` and
    ``domain`` mean the same); an empty list means the name is valid.
    """
    return [
        {"code": code, "message": message, "params": _params(code, name, domain)}
        for code, message in check_app_name_codes(name, taken, reserved, domain)
    ]
