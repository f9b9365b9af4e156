# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
{
    "name": "Kubernetes Manifests",
    "summary": "Kubernetes manifest templates fetched from a URL",
    "version": "17.0.1.2.0",
    "category": "Tools",
    "website": "https://github.com/mint-cloud/mint-cloud",
    "author": "Mint Cloud",
    "license": "AGPL-3",
    "depends": ["base", "mail"],
    "external_dependencies": {"python": ["mintcloud"]},
    "data": [
        "security/kubernetes_security.xml",
        "security/ir.model.access.csv",
        "data/ir_config_parameter.xml",
        "views/kubernetes_manifest_views.xml",
        "views/menus.xml",
    ],
    "demo": ["demo/kubernetes_manifest_demo.xml"],
    "application": True,
    "installable": True,
}
