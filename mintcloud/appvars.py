"""The variables of one app, built from its layers.

An app's variables come in three layers, a later one winning:

1. the built-ins, derived from the app record (:func:`builtin_variables`):
   ``app_name``, ``hostname``, ``app_environment``, ``namespace``,
   ``partner_email``, ``partner_lang``, ``resource_prefix``,
   ``app_suspended`` and, for an integration app, ``prod_app_name``; the
   addons add the built-ins of their features (:data:`FEATURE_BUILTIN_NAMES`);
2. the defaults (from the product, and the secrets generated once per app);
3. the per-app overrides.

:func:`app_variables` merges them into one
:class:`~mintcloud.variables.Variables`: the values the manifests are
rendered with and the ``vars.yml`` export holds, so Ansible renders the same
documents from that file.  Built-in names cannot be overridden
(:func:`check_line_name`): the app's label, namespace and host name must stay
what the record says.
"""

from mintcloud.names import resource_prefix
from mintcloud.variables import (
    Variables,
    VariablesError,
    generate_secret,
    validate_name,
)

#: ``environment`` field of an app -> ``app_environment`` variable.
APP_ENVIRONMENTS = {"prod": "production", "int": "integration"}

#: Built-ins an addon sets when its feature is in use (the Mailgun DNS
#: records an app's manifests publish, the customer's own domains); the
#: manifests read them with ``| default(...)``.  Reserved like the others.
FEATURE_BUILTIN_NAMES = ("mailgun_dns_records", "custom_domains")

#: Built-in variable names, in the order they appear in ``vars.yml``.
BUILTIN_NAMES = (
    "app_name",
    "hostname",
    "app_environment",
    "namespace",
    "partner_email",
    "partner_lang",
    "resource_prefix",
    "app_suspended",
    "prod_app_name",
    "prod_resource_prefix",
    *FEATURE_BUILTIN_NAMES,
)

#: Secret variables every app gets once, at creation: name -> length.
GENERATED_SECRETS = {"admin_password": 32, "db_password": 32}


def builtin_variables(
    app_name,
    hostname,
    environment,
    namespace,
    partner_email=None,
    partner_lang=None,
    prod_app_name=None,
    suspended=False,
):
    """The built-in variables of an app as a :class:`Variables`.

    ``environment`` is ``"prod"`` or ``"int"``.  An empty ``partner_email``
    stays an empty string (the manifests decide whether that is acceptable);
    ``partner_lang`` defaults to ``en_US``.  ``prod_app_name`` is only set
    for an integration app.  ``app_suspended`` is true while the app is
    suspended: the manifests then run no Odoo but keep every piece of data.
    """
    if environment not in APP_ENVIRONMENTS:
        raise VariablesError(f"Unknown app environment {environment!r}")
    variables = Variables(
        [
            ("app_name", app_name),
            ("hostname", hostname),
            ("app_environment", APP_ENVIRONMENTS[environment]),
            ("namespace", namespace),
            ("partner_email", partner_email or ""),
            ("partner_lang", partner_lang or "en_US"),
            ("resource_prefix", resource_prefix(app_name)),
            ("app_suspended", bool(suspended)),
        ]
    )
    if environment == "int":
        if not prod_app_name:
            raise VariablesError("An integration app needs its production app's name")
        variables["prod_app_name"] = prod_app_name
        variables["prod_resource_prefix"] = resource_prefix(prod_app_name)
    return variables


def check_line_name(name):
    """Raise :class:`VariablesError` unless ``name`` may be a variable line.

    The name must be a valid Ansible variable name and not a built-in.
    """
    validate_name(name)
    if name in BUILTIN_NAMES:
        raise VariablesError(
            f"{name!r} is a built-in variable; it is derived from the app and cannot be set"
        )
    return name


def lines_to_variables(lines):
    """``[(name, value, secret), ...]`` -> :class:`Variables` (secrets marked)."""
    variables = Variables()
    for name, value, secret in lines:
        variables.set(name, value if value is not None else "", secret=bool(secret))
    return variables


def app_variables(builtins, defaults=None, lines=()):
    """Merge the layers of an app: built-ins, defaults, then the app's lines.

    ``defaults`` is a mapping or :class:`Variables` (secret flags kept);
    ``lines`` are ``(name, value, secret)`` triples.  Built-in names in the
    defaults or the lines are ignored: the built-ins always win.  A secret
    flag from any layer sticks.
    """
    builtins = builtins if isinstance(builtins, Variables) else Variables(builtins)
    result = Variables()
    for layer in (defaults, lines_to_variables(lines)):
        if layer is None:
            continue
        layer = layer if isinstance(layer, Variables) else Variables(layer)
        for name, value in layer.items():
            if name not in BUILTIN_NAMES:
                result.set(name, value, secret=layer.is_secret(name))
    merged = Variables(builtins)
    for name, value in result.items():
        merged.set(name, value, secret=result.is_secret(name))
    return merged


def generated_secret_lines(existing_names=()):
    """``[(name, value, True), ...]`` for the generated secrets not yet present."""
    return [
        (name, generate_secret(length), True)
        for name, length in GENERATED_SECRETS.items()
        if name not in set(existing_names)
    ]
