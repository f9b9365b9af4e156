"""The developer launcher behind ``make run``, ``make test``, ``make deps`` and ``make bench``.

``dev/launch.py`` is the entry point; ``bootstrap`` gets a Python that imports
Odoo 17 and the project's packages, ``postgres`` a PostgreSQL server,
``sysdeps`` Odoo's system packages, ``odoo_server`` the database and the
served Odoo.  Nothing here is imported by the addons or the core package.
"""
