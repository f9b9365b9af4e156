"""Secret values never leave through logs, exports or rendered objects."""

import base64
import copy

from mintcloud.redact import DEFAULT_MASK, redact_documents, redact_text
from mintcloud.variables import Variables

SECRET = "Xk3pQ9vT2mLw8RzA"
OTHER = "b7HcJ4dF"


def b64(text):
    return base64.b64encode(text.encode()).decode()


def test_redact_text_masks_every_occurrence():
    text = f"password={SECRET}; again {SECRET}; other={OTHER}"
    assert redact_text(text, [SECRET, OTHER]) == (
        f"password={DEFAULT_MASK}; again {DEFAULT_MASK}; other={DEFAULT_MASK}"
    )
    assert redact_text(text, [SECRET], mask="<hidden>").startswith("password=<hidden>;")


def test_redact_text_masks_the_base64_form():
    assert redact_text(f"data: {b64(SECRET)}", [SECRET]) == f"data: {DEFAULT_MASK}"


def test_longer_secret_is_masked_whole():
    # "abcd" is part of "abcdef1234": the longer one must be masked first.
    assert (
        redact_text("x abcdef1234 y abcd", ["abcd", "abcdef1234"])
        == f"x {DEFAULT_MASK} y {DEFAULT_MASK}"
    )


def test_short_secrets_are_masked_but_never_empty_ones():
    assert redact_text("pin=123 ok", ["123"]) == f"pin={DEFAULT_MASK} ok"
    assert redact_text("a=x", ["x"]) == f"a={DEFAULT_MASK}"
    assert redact_text("nothing here", ["", None, True]) == "nothing here"
    assert redact_text("", [SECRET]) == ""
    assert redact_text(None, [SECRET]) is None
    assert redact_text("nothing", None) == "nothing"


def test_non_string_secrets_are_masked_by_their_text():
    assert redact_text("port 424242", [424242]) == f"port {DEFAULT_MASK}"


def test_secret_values_of_variables_fit_redact_text():
    v = Variables({"app_name": "acme", "db_password": SECRET}, secrets=["db_password"])
    assert (
        redact_text(f"acme uses {SECRET}", v.secret_values())
        == f"acme uses {DEFAULT_MASK}"
    )


def _docs():
    return [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": "acme-secrets",
                "namespace": "acme",
                "annotations": {"note": f"rotated {SECRET}"},
            },
            "data": {
                "admin-email": b64("partner@example.ch"),
                "db-password": b64(SECRET),
            },
            "stringData": {
                "odoo.conf": f"[options]\nadmin_passwd = {OTHER}\n",
                "unknown": "not a known secret",
            },
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "acme-odoo", "labels": {"tier": "web"}},
            "spec": {
                "replicas": 1,
                "paused": False,
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "odoo",
                                "args": ["--db_password", SECRET, "-d", "acme"],
                                "env": [
                                    {"name": "B64", "value": b64(OTHER)},
                                    {"name": SECRET, "value": "key"},
                                ],
                            }
                        ]
                    }
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "empty"},
            "type": "Opaque",
        },
    ]


def test_redact_documents_masks_secrets_everywhere():
    docs = _docs()
    original = copy.deepcopy(docs)
    redacted = redact_documents(docs, [SECRET, OTHER])
    assert docs == original, "the input must not be modified"

    secret, deployment, empty = redacted
    assert secret["data"] == {"admin-email": DEFAULT_MASK, "db-password": DEFAULT_MASK}
    assert secret["stringData"] == {"odoo.conf": DEFAULT_MASK, "unknown": DEFAULT_MASK}
    assert secret["metadata"]["annotations"]["note"] == f"rotated {DEFAULT_MASK}"
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["--db_password", DEFAULT_MASK, "-d", "acme"]
    assert container["env"] == [
        {"name": "B64", "value": DEFAULT_MASK},
        {"name": DEFAULT_MASK, "value": "key"},
    ]
    assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["paused"] is False
    assert deployment["metadata"]["labels"] == {"tier": "web"}
    assert empty == original[2]

    flat = repr(redacted)
    for value in (SECRET, OTHER, b64(SECRET), b64(OTHER)):
        assert value not in flat


def test_redact_documents_masks_secret_kind_without_known_values():
    redacted = redact_documents(_docs()[:1], [])
    assert set(redacted[0]["data"].values()) == {DEFAULT_MASK}
    assert set(redacted[0]["stringData"].values()) == {DEFAULT_MASK}
    assert (
        redact_documents(_docs()[:1], [], mask="***")[0]["data"]["db-password"] == "***"
    )


def test_redact_documents_copies_untouched_values_and_tuples():
    payload = {
        "kind": "ConfigMap",
        "data": {"list": ("a", SECRET)},
        "other": [1.5, None],
    }
    redacted = redact_documents([payload], [SECRET])[0]
    assert redacted["data"]["list"] == ["a", DEFAULT_MASK]
    assert (
        redacted["other"] == [1.5, None] and redacted["other"] is not payload["other"]
    )
    assert redact_documents([], [SECRET]) == []
