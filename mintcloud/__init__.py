"""Mint Cloud core: everything that does not need the Odoo ORM.

Fetch manifests, render them like Ansible does, validate them offline,
apply them to a cluster with server-side apply, read their status, check app
names and talk to Mailgun.  This package never imports ``odoo``.
"""

__version__ = "17.0.1.0.0"
