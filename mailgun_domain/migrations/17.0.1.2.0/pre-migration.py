# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""17.0.1.2.0: an app may have a second Mailgun domain, one of its
customer's own domains to send from; the unique constraint on the app goes
(a Python constraint keeps one host-name domain per app)."""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        "ALTER TABLE mailgun_domain DROP CONSTRAINT IF EXISTS mailgun_domain_app_uniq"
    )
    cr.execute("DELETE FROM ir_model_constraint WHERE name = 'mailgun_domain_app_uniq'")
    cr.execute(
        "DELETE FROM ir_model_data WHERE model = 'ir.model.constraint' "
        "AND module = 'mailgun_domain' AND name = 'constraint_mailgun_domain_app_uniq'"
    )
