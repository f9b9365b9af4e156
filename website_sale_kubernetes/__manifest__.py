# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
{
    "name": "Website Sale Kubernetes",
    "summary": "Sell hosting in the webshop as a subscription",
    "version": "17.0.1.2.0",
    "category": "Website/Website",
    "website": "https://github.com/mint-cloud/mint-cloud",
    "author": "Mint Cloud",
    "license": "AGPL-3",
    "depends": ["website_sale", "subscription_oca", "kubernetes_app"],
    "external_dependencies": {"python": ["mintcloud"]},
    "data": [
        "security/ir.model.access.csv",
        "data/ir_cron_data.xml",
        "views/product_template_views.xml",
        "views/sale_order_views.xml",
        "views/sale_subscription_views.xml",
        "views/kubernetes_app_views.xml",
        "views/website_sale_templates.xml",
    ],
    "demo": ["demo/product_demo.xml"],
    "assets": {
        "web.assets_frontend": [
            "website_sale_kubernetes/static/src/js/app_name_step.js",
        ],
        "web.assets_tests": [
            "website_sale_kubernetes/static/tests/tours/*.js",
        ],
    },
    "installable": True,
}
