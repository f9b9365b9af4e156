"""The variables of an app and their ``vars.yml`` form.

A :class:`Variables` is an ordered mapping ``name -> value`` that also knows
which names hold secrets (passwords, tokens).  Secrets are values like any
other while rendering, but :meth:`Variables.redacted` and
:meth:`Variables.secret_values` let callers keep them out of logs, exports
and error messages.

:func:`dump_vars_yml` writes the file Ansible reads with ``vars_files`` and
:func:`load_vars_yml` reads it back.  Every string is quoted (or written as a
block scalar when it spans lines), so values such as ``"yes"``, ``"0123"`` or
``"null"`` stay strings for Ansible too.  Strings that contain Jinja
delimiters are tagged ``!unsafe``: variables are data, never templates, both
here and in Ansible (which would otherwise template them a second time).
"""

import collections.abc
import copy
import keyword
import secrets
import string

import yaml

from mintcloud.errors import PermanentError

DEFAULT_MASK = "********"

#: Names Ansible reserves for itself: a play variable of that name renders as
#: something else (``environment`` renders as the task environment ``[]``,
#: ``vars`` as every variable, ``hostvars``/``groups`` as inventory data).
ANSIBLE_SHADOWED_NAMES = frozenset(
    {
        "environment",
        "vars",
        "hostvars",
        "groups",
        "group_names",
        "inventory_hostname",
        "inventory_hostname_short",
        "inventory_dir",
        "inventory_file",
        "playbook_dir",
        "play_hosts",
        "role_names",
        "role_name",
        "role_path",
    }
)
#: Prefixes of Ansible magic and connection variables (``ansible_version``,
#: ``ansible_connection``; ``template_path`` set by the template module).
ANSIBLE_SHADOWED_PREFIXES = ("ansible_", "template_")

#: Names Jinja gives a meaning of their own (see ansible's JINJA_KEYWORDS).
JINJA_KEYWORDS = frozenset({"true", "false", "none", "True", "False", "None", "not"})

JINJA_START_STRINGS = ("{{", "{%", "{#")

_SECRET_ALPHABET = string.ascii_letters + string.digits


class VariablesError(PermanentError):
    """A variable name or a ``vars.yml`` file is not usable."""


class InvalidVariableName(VariablesError):
    """A name is not a valid Ansible variable name."""

    def __init__(self, name, reason):
        super().__init__(f"Invalid variable name {str(name)!r}: {reason}", name=name)
        self.name = name


class VarsFileError(VariablesError):
    """A ``vars.yml`` text cannot be read as Ansible reads a vars file."""

    def __init__(self, reason, line=None):
        where = f" (line {line})" if line else ""
        super().__init__(f"Invalid vars.yml{where}: {reason}", line=line)
        self.line = line


def validate_name(name):
    """Raise :class:`InvalidVariableName` unless Ansible accepts ``name``.

    A name is an ASCII Python identifier that is neither a Python keyword, a
    Jinja keyword nor a name Ansible itself defines for every play.
    """
    if not isinstance(name, str):
        raise InvalidVariableName(name, f"must be a string, not {type(name).__name__}")
    if not (name.isascii() and name.isidentifier()):
        raise InvalidVariableName(
            name, "use letters, digits and underscores; do not start with a digit"
        )
    if keyword.iskeyword(name) or name in JINJA_KEYWORDS:
        raise InvalidVariableName(name, "it is a Python or Jinja keyword")
    if name in ANSIBLE_SHADOWED_NAMES or name.startswith(ANSIBLE_SHADOWED_PREFIXES):
        raise InvalidVariableName(
            name,
            "Ansible reserves this name and would not render the value; pick another",
        )
    return name


def _string_leaves(value):
    """Yield the string form of every scalar inside ``value`` (not bool/None)."""
    if isinstance(value, collections.abc.Mapping):
        for item in value.values():
            yield from _string_leaves(item)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from _string_leaves(item)
    elif value is None or isinstance(value, bool):
        return
    else:
        yield str(value)


class Variables(collections.abc.MutableMapping):
    """Ordered ``name -> value`` mapping with a set of secret names.

    ``items`` is a mapping or an iterable of ``(name, value)`` pairs;
    ``secrets`` names the secret variables.  ``variables[name] = value``
    keeps the secret flag of an existing name; :meth:`set` can add it.
    """

    def __init__(self, items=None, secrets=()):
        self._values = {}
        self._secrets = set()
        if isinstance(items, Variables):
            self._secrets.update(items.secret_names)
        if items is not None:
            pairs = (
                items.items() if isinstance(items, collections.abc.Mapping) else items
            )
            for name, value in pairs:
                self.set(name, value)
        for name in secrets:
            self._secrets.add(validate_name(name))

    # --- mapping protocol ---------------------------------------------------

    def __getitem__(self, name):
        return self._values[name]

    def __setitem__(self, name, value):
        self.set(name, value)

    def __delitem__(self, name):
        del self._values[name]
        self._secrets.discard(name)

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)

    def __repr__(self):
        # Never show secret values, even in a debugger or a log line.
        values, secrets = self.redacted().as_dict(), sorted(self._secrets)
        return f"Variables({values!r}, secrets={secrets!r})"

    # --- API ----------------------------------------------------------------

    def set(self, name, value, secret=False):
        """Set ``name`` to ``value``; ``secret=True`` marks it secret (sticky)."""
        validate_name(name)
        self._values[name] = value
        if secret:
            self._secrets.add(name)
        return self

    @property
    def secret_names(self):
        """The names marked secret, as a frozenset."""
        return frozenset(self._secrets)

    def is_secret(self, name):
        return name in self._secrets

    def as_dict(self):
        """A plain ``dict`` (deep copy) in insertion order, for rendering."""
        return copy.deepcopy(self._values)

    def redacted(self, mask=DEFAULT_MASK):
        """A copy whose secret values are replaced by ``mask``."""
        result = Variables(secrets=self._secrets)
        for name, value in self._values.items():
            result.set(name, mask if name in self._secrets else copy.deepcopy(value))
        return result

    def secret_values(self):
        """The non-empty string forms of the secret values, without duplicates.

        Nested secret values (lists, mappings) contribute each scalar leaf;
        booleans and None are not secrets worth masking.
        """
        found = []
        for name in self._values:
            if name not in self._secrets:
                continue
            for text in _string_leaves(self._values[name]):
                if text and text not in found:
                    found.append(text)
        return found


def generate_secret(length=32):
    """A random secret of ``length`` letters and digits.

    Only ``[A-Za-z0-9]``: safe unquoted in YAML, URLs, shell and SQL.
    """
    if not isinstance(length, int) or isinstance(length, bool) or length < 1:
        raise VariablesError("Secret length must be a positive integer")
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(length))


def _as_variables(layer):
    if layer is None:
        return Variables()
    if isinstance(layer, Variables):
        return layer
    return Variables(layer)


def merge_variables(builtins, defaults, overrides):
    """Merge three layers; a later layer wins, a secret flag from any layer sticks.

    Each layer is a :class:`Variables`, a plain mapping or None.  Names keep
    the position where they first appeared.
    """
    result = Variables()
    for layer in (builtins, defaults, overrides):
        layer = _as_variables(layer)
        for name, value in layer.items():
            result.set(name, copy.deepcopy(value), secret=layer.is_secret(name))
        for name in layer.secret_names:
            result._secrets.add(name)
    return result


# --- vars.yml ----------------------------------------------------------------


class _VarsLoader(yaml.SafeLoader):
    """SafeLoader (YAML 1.1, as Ansible) with ``!unsafe``; refuses duplicate keys."""


def _construct_unsafe(loader, node):
    if not isinstance(node, yaml.ScalarNode):
        raise yaml.constructor.ConstructorError(
            None, None, "!unsafe is only supported on strings here", node.start_mark
        )
    return loader.construct_scalar(node)


def _construct_mapping(loader, node, deep=False):
    loader.flatten_mapping(node)
    seen = set()
    for key_node, _value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if isinstance(key, collections.abc.Hashable) and key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {str(key)!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_VarsLoader.add_constructor("!unsafe", _construct_unsafe)
_VarsLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)


def _yaml_problem(exc):
    """A message and 1-based line for a YAML error, without the text snippet.

    The snippet of the offending line could hold a secret; the problem
    description and the line number are enough to find the mistake.
    """
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or type(exc).__name__
    context = getattr(exc, "context", None)
    message = f"{context}: {problem}" if context else problem
    return message, line


def load_vars_yml(text, secrets=()):
    """Read a ``vars.yml`` text into :class:`Variables`.

    The text must hold one YAML mapping (an empty text gives no variables)
    whose keys are valid variable names.  ``secrets`` marks names secret.
    """
    try:
        documents = list(yaml.load_all(text, Loader=_VarsLoader))
    except yaml.YAMLError as exc:
        message, line = _yaml_problem(exc)
        raise VarsFileError(message, line=line) from None
    documents = [doc for doc in documents if doc is not None]
    if len(documents) > 1:
        raise VarsFileError("expected a single YAML document, found several")
    data = documents[0] if documents else {}
    if not isinstance(data, dict):
        raise VarsFileError(
            f"the top level must be a mapping, not {type(data).__name__}"
        )
    for name in data:
        validate_name(name)
    return Variables(data, secrets=[name for name in secrets if name in data])


class _VarsDumper(yaml.SafeDumper):
    """SafeDumper that quotes every string so Ansible reads it back as a string."""

    def ignore_aliases(self, data):
        return True


def _represent_str(dumper, value):
    tag = "tag:yaml.org,2002:str"
    if value.startswith("#jinja2:") or any(s in value for s in JINJA_START_STRINGS):
        tag = "!unsafe"
    # Single quotes keep UTF-8 as is; PyYAML falls back to double quotes
    # (with escapes) for control characters, and from a block scalar to
    # double quotes when a block cannot hold the value exactly.
    style = "|" if "\n" in value else "'"
    return dumper.represent_scalar(tag, value, style=style)


def _represent_dict(dumper, data):
    # Keys are written plain when that is unambiguous; values are always quoted.
    node = yaml.MappingNode("tag:yaml.org,2002:map", [], flow_style=False)
    for key, value in data.items():
        if isinstance(key, str):
            key_node = yaml.SafeDumper.represent_str(dumper, key)
        else:
            key_node = dumper.represent_data(key)
        node.value.append((key_node, dumper.represent_data(value)))
    return node


_VarsDumper.add_representer(str, _represent_str)
_VarsDumper.add_representer(dict, _represent_dict)
_VarsDumper.add_representer(tuple, yaml.SafeDumper.represent_list)


def dump_vars_yml(variables, redact=False, header=None):
    """Write ``variables`` as a ``vars.yml`` text Ansible reads back unchanged.

    ``redact=True`` masks the secret values; ``header`` (a string, may span
    lines) is written as ``#`` comment lines on top.
    """
    if not isinstance(variables, Variables):
        variables = Variables(variables)
    if redact:
        variables = variables.redacted()
    lines = []
    if header:
        lines.extend(f"# {line}".rstrip() for line in header.splitlines())
    lines.append("---")
    text = "\n".join(lines) + "\n"
    data = variables.as_dict()
    if not data:
        return text + "{}\n"
    return text + yaml.dump(
        data,
        Dumper=_VarsDumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=1 << 16,
    )
