# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
{
    "name": "Portal Kubernetes",
    "summary": "Customers see their apps in the portal and reset their staging app",
    "version": "17.0.1.2.0",
    "category": "Tools",
    "website": "https://github.com/mint-cloud/mint-cloud",
    "author": "Mint Cloud",
    "license": "AGPL-3",
    "depends": ["portal", "kubernetes_app"],
    "external_dependencies": {"python": ["mintcloud"]},
    "data": [
        "security/ir.model.access.csv",
        "security/kubernetes_app_security.xml",
        "views/kubernetes_app_portal_templates.xml",
        "views/kubernetes_app_portal_health_templates.xml",
        "views/kubernetes_app_portal_domain_templates.xml",
    ],
    "assets": {
        "web.assets_frontend": [
            "portal_kubernetes/static/src/js/kubernetes_app_refresh.js",
        ],
        "web.assets_tests": [
            "portal_kubernetes/static/tests/tours/*.js",
        ],
    },
    "installable": True,
}
