# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
{
    "name": "Mailgun Domain",
    "summary": "Each app hostname becomes a Mailgun sending domain; invitations are sent under it",
    "version": "17.0.1.0.0",
    "category": "Tools",
    "website": "https://github.com/mint-cloud/mint-cloud",
    "author": "Mint Cloud",
    "license": "AGPL-3",
    "depends": ["kubernetes_app", "mail"],
    "external_dependencies": {"python": ["mintcloud"]},
    "data": [],
    "installable": True,
}
