"""Render manifest templates the way Ansible's ``template`` module does.

The environment matches ``ansible.builtin.template`` defaults
(``trim_blocks=True``, ``lstrip_blocks=False``, trailing newline kept, a
``None`` result renders as an empty string) with the Ansible filters and
tests of :mod:`mintcloud.filters`.  As in Ansible an undefined variable is
an error.  Unlike Ansible the environment is sandboxed (templates come from a
URL), and a missing ``namespace`` variable is an error instead of Jinja's
``namespace`` class.  Variable values are data: they are never templated.

Every failure is a :class:`~mintcloud.errors.RenderError` that names the
manifest, the 1-based line and, for an undefined variable, its name.  Secret
values of a :class:`~mintcloud.variables.Variables` never appear in a message.
Rendering does no I/O.
"""

import functools
import re

import jinja2
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from mintcloud.errors import RenderError
from mintcloud.filters import FILTERS, TESTS, FilterError
from mintcloud.redact import redact_text
from mintcloud.variables import Variables

DEFAULT_NAME = "<template>"

_UNDEFINED_NAME = re.compile(r"^'([^']+)' is undefined$")
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _finalize(value):
    """Ansible drops ``None`` results: ``{{ none }}`` renders as ``''``."""
    return "" if value is None else value


#: Largest string/list a template may build with ``*`` and the largest
#: integer (in bits) it may build with ``**``.
MAX_REPEAT = 1_000_000
MAX_POWER_BITS = 100_000


class _Sandbox(ImmutableSandboxedEnvironment):
    """Immutable sandbox that also refuses memory bombs such as ``'x' * 10**10``."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context, operator, left, right):
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(count, int):
                    if len(seq) * count > MAX_REPEAT:
                        raise SecurityError(
                            f"'*' would build a sequence longer than {MAX_REPEAT}"
                        )
        elif isinstance(left, int) and isinstance(right, int) and right > 0:
            if max(left.bit_length(), 1) * right > MAX_POWER_BITS:
                raise SecurityError("'**' would build a number that is too large")
        return super().call_binop(context, operator, left, right)


class _NamespaceGlobal:
    """Jinja's ``namespace()`` that cannot be printed.

    ``namespace`` is also the variable holding the Kubernetes namespace.  When
    that variable is missing, Jinja (and Ansible) would silently render the
    global class as ``<class 'jinja2.utils.Namespace'>``; this makes
    ``{{ namespace }}`` an undefined-variable error instead, while
    ``namespace(...)`` keeps working.
    """

    def __call__(self, *args, **kwargs):
        return jinja2.utils.Namespace(*args, **kwargs)

    def __str__(self):
        raise jinja2.UndefinedError("'namespace' is undefined")


def make_environment():
    """A new sandboxed Jinja2 environment configured like Ansible's template module."""
    env = _Sandbox(
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=False,
        autoescape=False,
        finalize=_finalize,
    )
    env.filters.update(FILTERS)
    env.tests.update(TESTS)
    env.globals["namespace"] = _NamespaceGlobal()
    return env


_ENVIRONMENT = None


def _environment():
    global _ENVIRONMENT
    if _ENVIRONMENT is None:
        _ENVIRONMENT = make_environment()
    return _ENVIRONMENT


@functools.lru_cache(maxsize=256)
def _compile(template_text, name):
    """The compiled template (cached: the same manifests render for every app)."""
    env = _environment()
    code = env.compile(template_text, name=name, filename=name)
    return env.template_class.from_code(env, code, env.make_globals(None))


def _secret_values(variables):
    """The secret strings to keep out of messages."""
    return variables.secret_values() if isinstance(variables, Variables) else []


def _context(variables):
    """A plain dict of the values to render with."""
    if isinstance(variables, Variables):
        return variables.as_dict()
    return dict(variables or {})


def _template_line(exc, name):
    """The innermost template line in ``exc``'s traceback (Jinja rewrites frames)."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == name:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _render_error(exc, name, secrets):
    """Translate an exception raised while rendering into a RenderError."""
    line = _template_line(exc, name)
    variable = None
    if isinstance(exc, jinja2.TemplateSyntaxError):
        line = exc.lineno
        message = f"template syntax error: {exc.message}"
    elif isinstance(exc, SecurityError):
        message = f"unsafe template: {exc.message or exc}"
    elif isinstance(exc, jinja2.UndefinedError):
        found = _UNDEFINED_NAME.match(exc.message or "")
        if found:
            variable = found.group(1)
            message = f"undefined variable {variable!r}"
        else:
            message = f"undefined value: {exc.message}"
    elif isinstance(exc, FilterError):
        variable = exc.variable
        message = exc.message
    else:
        message = f"{type(exc).__name__}: {exc}"
    return RenderError(
        redact_text(message, secrets), manifest=name, line=line, variable=variable
    )


def render_text(template_text, variables, name=DEFAULT_NAME):
    """Render one template to text; ``variables`` is a Variables or a dict."""
    context, secrets = _context(variables), _secret_values(variables)
    try:
        return _compile(template_text, name).render(context)
    except Exception as exc:  # every failure becomes a RenderError
        raise _render_error(exc, name, secrets) from None


def _check_document(doc, name, index, line):
    if not isinstance(doc, dict):
        raise RenderError(
            f"document {index} is a {type(doc).__name__}, not a mapping",
            manifest=name,
            line=line,
        )
    metadata = doc.get("metadata")
    fields = {
        "apiVersion": doc.get("apiVersion"),
        "kind": doc.get("kind"),
        "metadata.name": metadata.get("name") if isinstance(metadata, dict) else None,
    }
    for field, value in fields.items():
        if not isinstance(value, str) or not value:
            raise RenderError(
                f"document {index} has no {field}", manifest=name, line=line
            )


def parse_documents(text, name=DEFAULT_NAME, secrets=()):
    """Parse rendered multi-document YAML into Kubernetes object dicts.

    Empty documents are skipped.  ``line`` of an error is a line of the
    rendered text; the YAML snippet is left out and ``secrets`` are masked
    in the message (an unquoted password can look like an alias or a tag).
    """
    documents = []
    loader = _YAML_LOADER(text)
    try:
        index = 0
        while loader.check_node():
            node = loader.get_node()
            index += 1
            doc = loader.construct_document(node)
            if doc is None:
                continue
            _check_document(doc, name, index, node.start_mark.line + 1)
            documents.append(doc)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or type(exc).__name__
        context = getattr(exc, "context", None)
        detail = f"{context}: {problem}" if context else problem
        raise RenderError(
            redact_text(
                f"invalid YAML after rendering (rendered line): {detail}", secrets
            ),
            manifest=name,
            line=mark.line + 1 if mark is not None else None,
        ) from None
    finally:
        loader.dispose()
    return documents


def render_documents(template_text, variables, name=DEFAULT_NAME):
    """Render one manifest template and parse its Kubernetes objects."""
    text = render_text(template_text, variables, name)
    return parse_documents(text, name, _secret_values(variables))


def render_sources(manifests, variables):
    """Render ``[(name, text), ...]`` into ``[(name, [objects])]``, in manifest order.

    Keeps which manifest each object came from, for messages that name it.
    """
    context = variables if isinstance(variables, Variables) else dict(variables or {})
    return [(name, render_documents(text, context, name)) for name, text in manifests]


def render_manifests(manifests, variables):
    """Render ``[(name, text), ...]`` into one list of objects, in manifest order."""
    return [doc for _name, docs in render_sources(manifests, variables) for doc in docs]
