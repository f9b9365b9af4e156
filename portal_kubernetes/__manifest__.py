# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
{
    "name": "Portal Kubernetes",
    "summary": "Customers see their apps in the portal and reset their staging app",
    "version": "17.0.1.0.0",
    "category": "Tools",
    "website": "https://github.com/mint-cloud/mint-cloud",
    "author": "Mint Cloud",
    "license": "AGPL-3",
    "depends": ["portal", "kubernetes_app"],
    "external_dependencies": {"python": ["mintcloud"]},
    "data": [],
    "installable": True,
}
