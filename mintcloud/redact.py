"""Keep secret values out of logs, exports and error messages.

:func:`redact_text` masks every occurrence of a secret value in a text,
:func:`redact_documents` does it in rendered Kubernetes objects and masks
every value of a ``Secret`` whatever it is.  A secret's base64 form is masked
too, as it is how Kubernetes stores ``Secret.data``.
"""

import base64
import collections.abc
import copy

DEFAULT_MASK = "********"


def _patterns(secret_values):
    """Non-empty secret strings and their base64 forms, longest first.

    Longest first so a secret that contains another one is masked whole.
    """
    found = set()
    for value in secret_values or ():
        if value is None or isinstance(value, bool):
            continue
        text = value if isinstance(value, str) else str(value)
        if not text:
            continue
        found.add(text)
        found.add(base64.b64encode(text.encode("utf-8")).decode("ascii"))
    return sorted(found, key=lambda item: (-len(item), item))


def _mask_string(text, patterns, mask):
    for pattern in patterns:
        if pattern in text:
            text = text.replace(pattern, mask)
    return text


def redact_text(text, secret_values, mask=DEFAULT_MASK):
    """``text`` with every secret value (and its base64 form) replaced by ``mask``.

    Secrets shorter than four characters are masked too; an empty string is
    never a secret.
    """
    if not text:
        return text
    return _mask_string(text, _patterns(secret_values), mask)


def _redact_value(value, patterns, mask):
    if isinstance(value, str):
        return _mask_string(value, patterns, mask)
    if isinstance(value, collections.abc.Mapping):
        return {
            _redact_value(key, patterns, mask): _redact_value(item, patterns, mask)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_redact_value(item, patterns, mask) for item in value]
    return copy.deepcopy(value)


def _mask_secret_kind(doc, mask):
    """Mask every value of ``data``/``stringData`` of a Secret (keys stay visible)."""
    for field in ("data", "stringData"):
        values = doc.get(field)
        if isinstance(values, dict):
            doc[field] = {key: mask for key in values}


def redact_documents(docs, secret_values, mask=DEFAULT_MASK):
    """A deep copy of ``docs`` with secret values masked in every string.

    Every value of a ``Secret``'s ``data`` and ``stringData`` is masked even
    when it is not a known secret value.  The input is not modified.
    """
    patterns = _patterns(secret_values)
    result = []
    for doc in docs:
        redacted = _redact_value(doc, patterns, mask)
        if isinstance(redacted, dict) and redacted.get("kind") == "Secret":
            _mask_secret_kind(redacted, mask)
        result.append(redacted)
    return result
