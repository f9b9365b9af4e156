"""Local stand-ins for the services Mint Cloud talks to.

Each fake is a real server on 127.0.0.1 that the real client code talks to
over the network: a stateful Kubernetes API server (:mod:`.kube_api`), a
Mailgun API server (:mod:`.mailgun_api`) and an SMTP sink (:mod:`.smtp_sink`).
They are plain classes with ``start()``/``stop()`` (and context managers), so
the Odoo addons' tests use them too; the pytest fixtures live in
``tests/conftest.py``.
"""
