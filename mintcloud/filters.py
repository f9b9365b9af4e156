"""Ansible-compatible Jinja2 filters and tests.

Re-implementations of the filters of ``ansible.builtin`` (ansible-core 2.19,
``plugins/filter/core.py`` and ``plugins/test/core.py``) that manifests use,
with the same arguments and results.  Ansible itself is not imported: it is
a test-only dependency (``tests/test_ansible_parity.py`` compares).

Filter errors raise :class:`FilterError`; the renderer adds the manifest and
line.  Messages name the filter and the problem, never the filtered value.
"""

import base64
import collections.abc
import datetime
import hashlib
import json
import ntpath
import os.path
import re
import secrets
import shlex
import uuid
import warnings

import jinja2
import yaml

from mintcloud.errors import PermanentError

with warnings.catch_warnings():
    # Deprecated since Python 3.11 and gone in 3.13; password_hash needs it.
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import crypt as _crypt
    except ImportError:  # pragma: no cover - Python >= 3.13
        _crypt = None

UUID_NAMESPACE_ANSIBLE = uuid.UUID("361E6D51-FAEC-444A-9079-341386DA8E2E")


class FilterError(PermanentError):
    """A filter or test was used with an unsuitable value or argument.

    ``variable`` names the undefined variable for :func:`mandatory`.
    """

    def __init__(self, message, variable=None):
        super().__init__(message)
        self.variable = variable


def _text(value):
    """``to_text(value, nonstring='simplerepr')`` of Ansible."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="surrogateescape")
    return str(value)


def _is_sequence(value):
    return isinstance(value, collections.abc.Sequence) and not isinstance(
        value, (str, bytes)
    )


def _type_name(value):
    return type(value).__name__


# --- undefined / defaults ----------------------------------------------------


def default(value, default_value="", boolean=False):
    """``default``/``d``: replace an undefined value (a falsy one with ``boolean``)."""
    if not isinstance(boolean, bool):
        raise FilterError(
            f"default: 'boolean' must be a bool, not {_type_name(boolean)}"
        )
    if isinstance(value, jinja2.Undefined):
        return default_value
    if boolean and not value:
        return default_value
    return value


def mandatory(value, msg=None):
    """Fail unless ``value`` is defined."""
    if isinstance(value, jinja2.Undefined):
        name = getattr(value, "_undefined_name", None)
        if msg is not None:
            raise FilterError(_text(msg), variable=name)
        label = f"{name!r} " if name is not None else ""
        raise FilterError(f"Mandatory variable {label}not defined.", variable=name)
    return value


# --- types -------------------------------------------------------------------

_BOOL_TRUE = {"yes", "on", "true", "1"}
_BOOL_FALSE = {"no", "off", "false", "0"}


def to_bool(value):
    """``bool``: 'yes'/'on'/'true'/'1' (any case) and 1/True are True."""
    if isinstance(value, str):
        check = value.lower()
    elif isinstance(value, int):
        check = str(value).lower()
    else:
        check = value
    try:
        if check in _BOOL_TRUE:
            return True
        if check in _BOOL_FALSE:
            return False
        return check == 1
    except TypeError:
        return False


def ternary(value, true_val, false_val, none_val=None):
    """``value ? true_val : false_val``; ``none_val`` when value is None."""
    if value is None and none_val is not None:
        return none_val
    if bool(value):
        return true_val
    return false_val


def type_debug(value):
    return _type_name(value)


def to_datetime(value, format="%Y-%m-%d %H:%M:%S"):
    return datetime.datetime.strptime(value, format)


# --- encodings ---------------------------------------------------------------


def b64encode(value, encoding="utf-8", urlsafe=False):
    func = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    data = (
        value
        if isinstance(value, bytes)
        else _text(value).encode(encoding, "surrogateescape")
    )
    return func(data).decode("ascii")


def b64decode(value, encoding="utf-8", urlsafe=False):
    func = base64.urlsafe_b64decode if urlsafe else base64.b64decode
    data = (
        value
        if isinstance(value, bytes)
        else _text(value).encode("utf-8", "surrogateescape")
    )
    try:
        return func(data).decode(encoding, "surrogateescape")
    except (ValueError, TypeError) as exc:
        # binascii.Error is a ValueError; its text does not quote the input.
        raise FilterError(f"b64decode: invalid base64 input ({exc})") from None


def to_uuid(value, namespace=UUID_NAMESPACE_ANSIBLE):
    if not isinstance(namespace, uuid.UUID):
        try:
            namespace = uuid.UUID(namespace)
        except (AttributeError, TypeError, ValueError):
            raise FilterError(f"to_uuid: invalid namespace {namespace!r}") from None
    return str(uuid.uuid5(namespace, _text(value)))


# --- JSON / YAML -------------------------------------------------------------


class _AnsibleYamlDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):
    """Ansible's ``AnsibleDumper``: a (C) SafeDumper that also takes any mapping."""


_AnsibleYamlDumper.add_multi_representer(
    collections.abc.Mapping, yaml.SafeDumper.represent_dict
)
_AnsibleYamlDumper.add_representer(tuple, yaml.SafeDumper.represent_list)
_AnsibleYamlDumper.add_representer(set, yaml.SafeDumper.represent_list)


def _undefined_check(value):
    """Trip a StrictUndefined hidden in a structure before serializing it."""
    if isinstance(value, jinja2.Undefined):
        str(value)  # raises UndefinedError for StrictUndefined
    return value


def to_yaml(value, *_args, default_flow_style=None, **kwargs):
    """Terse YAML: flow style for the innermost collections."""
    _undefined_check(value)
    return yaml.dump(
        value,
        Dumper=_AnsibleYamlDumper,
        allow_unicode=True,
        default_flow_style=default_flow_style,
        **kwargs,
    )


def to_nice_yaml(value, indent=4, *_args, default_flow_style=False, **kwargs):
    """Readable block-style YAML, indented by four spaces."""
    return to_yaml(
        value, indent=indent, default_flow_style=default_flow_style, **kwargs
    )


def _json_default(value):
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, (datetime.date, datetime.time, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, collections.abc.Mapping):
        return dict(value)
    _undefined_check(value)
    raise TypeError(f"Object of type {_type_name(value)} is not JSON serializable")


def to_json(value, **kwargs):
    kwargs.setdefault("default", _json_default)
    try:
        return json.dumps(value, **kwargs)
    except (TypeError, ValueError) as exc:
        raise FilterError(f"to_json: {exc}") from None


def to_nice_json(value, indent=4, sort_keys=True, **kwargs):
    kwargs.pop("separators", None)
    return to_json(
        value, indent=indent, sort_keys=sort_keys, separators=(",", ": "), **kwargs
    )


def from_json(value, **kwargs):
    try:
        return json.loads(value, **kwargs)
    except ValueError as exc:
        # JSONDecodeError names the position, never the document.
        raise FilterError(f"from_json: invalid JSON: {exc}") from None


class _FromYamlLoader(yaml.SafeLoader):
    """SafeLoader plus Ansible's ``!unsafe`` tag."""


_FromYamlLoader.add_constructor(
    "!unsafe", lambda loader, node: loader.construct_scalar(node)
)


def _yaml_error(name, exc):
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}" if mark is not None else ""
    return FilterError(
        f"{name}: invalid YAML{where}: {getattr(exc, 'problem', None) or exc}"
    )


def from_yaml(value):
    if value is None:
        return None
    if not isinstance(value, str):
        return value
    try:
        return yaml.load(value, Loader=_FromYamlLoader)
    except yaml.YAMLError as exc:
        raise _yaml_error("from_yaml", exc) from None


def from_yaml_all(value):
    if value is None:
        return []
    if not isinstance(value, str):
        return value
    try:
        return list(yaml.load_all(value, Loader=_FromYamlLoader))
    except yaml.YAMLError as exc:
        raise _yaml_error("from_yaml_all", exc) from None


# --- strings and regular expressions -----------------------------------------


def quote(value):
    """Quote for a POSIX shell (``shlex.quote``); None gives ``''``."""
    return shlex.quote(_text("" if value is None else value))


def _flags(ignorecase=False, multiline=False):
    flags = 0
    if ignorecase:
        flags |= re.I
    if multiline:
        flags |= re.M
    return flags


def _compile(name, pattern, flags):
    try:
        return re.compile(pattern, flags)
    except re.error as exc:
        raise FilterError(f"{name}: invalid regular expression: {exc}") from None


def regex_replace(
    value="",
    pattern="",
    replacement="",
    ignorecase=False,
    multiline=False,
    count=0,
    mandatory_count=0,
):
    regex = _compile("regex_replace", pattern, _flags(ignorecase, multiline))
    output, subs = regex.subn(replacement, _text(value), count=count)
    if mandatory_count and mandatory_count != subs:
        raise FilterError(
            f"regex_replace: {pattern!r} should match {mandatory_count} times, "
            f"but matches {subs} times"
        )
    return output


def regex_findall(value, regex, multiline=False, ignorecase=False):
    return _compile("regex_findall", regex, _flags(ignorecase, multiline)).findall(
        _text(value)
    )


def regex_search(value, regex, *args, **kwargs):
    """The first match, or the list of groups named by ``'\\1'``/``'\\g<name>'``."""
    groups = []
    for arg in args:
        if arg.startswith("\\g"):
            found = re.match(r"\\g<(\S+)>", arg)
            if not found:
                raise FilterError(f"regex_search: invalid group reference {arg!r}")
            groups.append(found.group(1))
        elif arg.startswith("\\"):
            found = re.match(r"\\(\d+)", arg)
            if not found:
                raise FilterError(f"regex_search: invalid group reference {arg!r}")
            groups.append(int(found.group(1)))
        else:
            raise FilterError("regex_search: Unknown argument")
    flags = _flags(kwargs.get("ignorecase"), kwargs.get("multiline"))
    match = _compile("regex_search", regex, flags).search(_text(value))
    if not match:
        return None
    if not groups:
        return match.group()
    return [match.group(item) for item in groups]


def regex_escape(value, re_type="python"):
    value = _text(value)
    if re_type == "python":
        return re.escape(value)
    if re_type == "posix_basic":
        return regex_replace(value, r"([].[^$*\\])", r"\\\1")
    raise FilterError(f"regex_escape: regex type {re_type!r} is not supported")


def split(value, *args, **kwargs):
    return _text(value).split(*args, **kwargs)


_COMMENT_STYLES = {
    "plain": {"decoration": "# "},
    "erlang": {"decoration": "% "},
    "c": {"decoration": "// "},
    "cblock": {"beginning": "/*", "decoration": " * ", "end": " */"},
    "xml": {"beginning": "<!--", "decoration": " - ", "end": "-->"},
}


def comment(text, style="plain", **kw):
    """Decorate ``text`` as a comment block (same layout as Ansible's ``comment``)."""
    if style not in _COMMENT_STYLES:
        raise FilterError(
            f"comment: invalid style {style!r}; use one of {', '.join(_COMMENT_STYLES)}"
        )
    style_params = _COMMENT_STYLES[style]
    prepostfix = kw.get("decoration", style_params["decoration"])
    p = {
        "newline": "\n",
        "beginning": "",
        "prefix": prepostfix.rstrip(),
        "prefix_count": 1,
        "decoration": "",
        "postfix": prepostfix.rstrip(),
        "postfix_count": 1,
        "end": "",
    }
    p.update(style_params)
    p.update(kw)
    newline, decoration = p["newline"], p["decoration"]

    beginning = f"{p['beginning']}{newline}" if p["beginning"] else ""
    prefix = ""
    if p["prefix"]:
        unit = newline if p["prefix"] == newline else f"{p['prefix']}{newline}"
        prefix = unit * int(p["prefix_count"])
    body = (decoration + text.replace(newline, newline + decoration)).replace(
        decoration + newline, decoration.rstrip() + newline
    )
    postfix = newline.join([""] + [p["postfix"]] * int(p["postfix_count"]))
    end = f"{newline}{p['end']}" if p["end"] else ""
    return f"{beginning}{prefix}{body}{postfix}{end}"


# --- hashes ------------------------------------------------------------------


def get_hash(value, hashtype="sha1"):
    try:
        digest = hashlib.new(hashtype)
    except (ValueError, TypeError):
        raise FilterError(f"hash: unsupported hash type {hashtype!r}") from None
    digest.update(_text(value).encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def md5(value):
    return get_hash(value, "md5")


def sha1(value):
    return get_hash(value, "sha1")


# algorithm -> (crypt id, maximum salt length, implicit rounds) as in
# ansible.utils.encrypt.BaseHash; the rounds match passlib's defaults.
_CRYPT_ALGORITHMS = {
    "md5_crypt": ("1", 8, None),
    "sha256_crypt": ("5", 16, 535000),
    "sha512_crypt": ("6", 16, 656000),
}
_CRYPT_ALIASES = {
    "md5": "md5_crypt",
    "sha256": "sha256_crypt",
    "sha512": "sha512_crypt",
}
_SALT_CHARS = re.compile(r"^[./0-9A-Za-z]+$")


def _random_salt(length):
    alphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _crypt_setting(algorithm, salt, rounds):
    crypt_id, max_salt, implicit_rounds = _CRYPT_ALGORITHMS[algorithm]
    rounds = rounds or implicit_rounds
    if salt is None:
        salt = _random_salt(max_salt)
    salt = _text(salt)
    if not _SALT_CHARS.match(salt) or len(salt) > max_salt:
        raise FilterError(
            f"password_hash: salt must be 1 to {max_salt} characters of [./0-9A-Za-z]"
        )
    # passlib (and so Ansible) leaves the default 5000 rounds implicit.
    if rounds and crypt_id != "1" and rounds != 5000:
        return f"${crypt_id}$rounds={int(rounds)}${salt}"
    return f"${crypt_id}${salt}"


def _crypt_function():
    """The C library's crypt(3) (the ``crypt`` module exists up to Python 3.12)."""
    if _crypt is None:  # pragma: no cover - Python >= 3.13
        raise FilterError("password_hash: needs the crypt module (Python <= 3.12)")
    return _crypt.crypt


def password_hash(
    password, hashtype="sha512", salt=None, salt_size=None, rounds=None, ident=None
):
    """A crypt(3) hash of ``password``; give ``salt`` for a deterministic result.

    Supports md5/sha256/sha512 crypt with the salt and default rounds Ansible
    uses (through passlib), so ``password_hash('sha512', 'salt')`` gives
    the same string as Ansible.  ``ident`` is only meaningful for bcrypt,
    which is not supported.
    """
    algorithm = _CRYPT_ALIASES.get(hashtype, hashtype)
    if algorithm not in _CRYPT_ALGORITHMS:
        raise FilterError(f"password_hash: unsupported algorithm {hashtype!r}")
    if salt is None and salt_size is not None:
        salt = _random_salt(int(salt_size))
    setting = _crypt_setting(algorithm, salt, rounds)
    result = _crypt_function()(_text(password), setting)
    if not result or result.startswith(
        "*"
    ):  # pragma: no cover - libc without the algorithm
        raise FilterError(f"password_hash: the C library cannot hash with {algorithm}")
    return result


# --- data structures ---------------------------------------------------------


def flatten(values, levels=None, skip_nulls=True):
    result = []
    for element in values:
        if skip_nulls and element in (None, "None", "null"):
            continue
        if _is_sequence(element):
            if levels is None:
                result.extend(flatten(element, skip_nulls=skip_nulls))
            elif levels >= 1:
                result.extend(
                    flatten(element, levels=int(levels) - 1, skip_nulls=skip_nulls)
                )
            else:
                result.append(element)
        else:
            result.append(element)
    return result


_LIST_MERGE = ("replace", "keep", "append", "prepend", "append_rp", "prepend_rp")


def merge_hash(low, high, recursive=True, list_merge="replace"):
    """``high`` merged into a copy of ``low`` (ansible.utils.vars.merge_hash)."""
    if list_merge not in _LIST_MERGE:
        raise FilterError(
            f"combine: 'list_merge' must be one of {', '.join(_LIST_MERGE)}"
        )
    for item in (low, high):
        if not isinstance(item, collections.abc.MutableMapping):
            raise FilterError(f"combine: expected dicts, got {_type_name(item)}")
    result = dict(low)
    for key, high_value in high.items():
        if key not in result:
            result[key] = high_value
            continue
        low_value = result[key]
        if isinstance(low_value, collections.abc.MutableMapping) and isinstance(
            high_value, collections.abc.MutableMapping
        ):
            result[key] = (
                merge_hash(low_value, high_value, recursive, list_merge)
                if recursive
                else high_value
            )
        elif isinstance(low_value, collections.abc.MutableSequence) and isinstance(
            high_value, collections.abc.MutableSequence
        ):
            result[key] = _merge_lists(low_value, high_value, list_merge)
        else:
            result[key] = high_value
    return result


def _merge_lists(low, high, list_merge):
    if list_merge == "replace":
        return high
    if list_merge == "append":
        return low + high
    if list_merge == "prepend":
        return high + low
    if list_merge == "append_rp":
        return [item for item in low if item not in high] + high
    if list_merge == "prepend_rp":
        return high + [item for item in low if item not in high]
    return low  # keep


def combine(*terms, recursive=False, list_merge="replace", **kwargs):
    """Merge dicts left to right; ``recursive`` merges nested dicts too."""
    if kwargs:
        raise FilterError(
            "combine: 'recursive' and 'list_merge' are the only valid keyword arguments"
        )
    dicts = flatten(terms, levels=1)
    if not dicts:
        return {}
    result = dicts[0]
    if len(dicts) == 1:
        return result
    for item in dicts[1:]:
        result = merge_hash(result, item, recursive, list_merge)
    return result


def dict2items(value, key_name="key", value_name="value"):
    if not isinstance(value, collections.abc.Mapping):
        raise FilterError(
            f"dict2items requires a dictionary, got {_type_name(value)} instead."
        )
    return [{key_name: key, value_name: value[key]} for key in value]


def items2dict(value, key_name="key", value_name="value"):
    if not _is_sequence(value):
        raise FilterError(
            f"items2dict requires a list, got {_type_name(value)} instead."
        )
    try:
        return {item[key_name]: item[value_name] for item in value}
    except (KeyError, TypeError):
        raise FilterError(
            "items2dict requires a list of dictionaries with the keys "
            f"{key_name!r} and {value_name!r}."
        ) from None


# --- paths -------------------------------------------------------------------


def path_join(paths):
    if isinstance(paths, str):
        return os.path.join(paths)
    if _is_sequence(paths):
        return os.path.join(*paths)
    raise FilterError(
        f"path_join expects string or sequence, got {_type_name(paths)} instead."
    )


FILTERS = {
    "default": default,
    "d": default,
    "mandatory": mandatory,
    "bool": to_bool,
    "ternary": ternary,
    "type_debug": type_debug,
    "to_datetime": to_datetime,
    "b64encode": b64encode,
    "b64decode": b64decode,
    "to_uuid": to_uuid,
    "to_yaml": to_yaml,
    "to_nice_yaml": to_nice_yaml,
    "to_json": to_json,
    "to_nice_json": to_nice_json,
    "from_json": from_json,
    "from_yaml": from_yaml,
    "from_yaml_all": from_yaml_all,
    "quote": quote,
    "regex_replace": regex_replace,
    "regex_search": regex_search,
    "regex_findall": regex_findall,
    "regex_escape": regex_escape,
    "split": split,
    "comment": comment,
    "hash": get_hash,
    "md5": md5,
    "sha1": sha1,
    "checksum": sha1,
    "password_hash": password_hash,
    "combine": combine,
    "flatten": flatten,
    "dict2items": dict2items,
    "items2dict": items2dict,
    "basename": os.path.basename,
    "dirname": os.path.dirname,
    "splitext": os.path.splitext,
    "normpath": os.path.normpath,
    "path_join": path_join,
    "win_basename": ntpath.basename,
    "win_dirname": ntpath.dirname,
}


# --- tests -------------------------------------------------------------------


def regex(value="", pattern="", ignorecase=False, multiline=False, match_type="search"):
    if match_type not in ("search", "match", "fullmatch"):
        raise FilterError(
            f"regex: match_type must be search, match or fullmatch, not {match_type!r}"
        )
    compiled = _compile("regex", pattern, _flags(ignorecase, multiline))
    return bool(getattr(compiled, match_type)(_text(value)))


def match(value, pattern="", ignorecase=False, multiline=False):
    return regex(value, pattern, ignorecase, multiline, "match")


def search(value, pattern="", ignorecase=False, multiline=False):
    return regex(value, pattern, ignorecase, multiline, "search")


_BOOLEANS_TRUE = frozenset(("y", "yes", "on", "1", "true", "t", 1, 1.0, True))
_BOOLEANS_FALSE = frozenset(("n", "no", "off", "0", "false", "f", 0, 0.0, False))


def _boolean(value):
    """ansible.module_utils.parsing.convert_bool.boolean (strict)."""
    if isinstance(value, bool):
        return value
    normalized = value.lower().strip() if isinstance(value, str) else value
    if not isinstance(value, collections.abc.Hashable):
        normalized = None
    if normalized in _BOOLEANS_TRUE:
        return True
    if normalized in _BOOLEANS_FALSE:
        return False
    raise TypeError("not a boolean")


def truthy(value, convert_bool=False):
    if convert_bool:
        try:
            value = _boolean(value)
        except TypeError:
            pass
    return bool(value)


def falsy(value, convert_bool=False):
    return not truthy(value, convert_bool=convert_bool)


TESTS = {
    "match": match,
    "search": search,
    "regex": regex,
    "truthy": truthy,
    "falsy": falsy,
    "any": any,
    "all": all,
}
