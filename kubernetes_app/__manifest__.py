# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
{
    "name": "Kubernetes Apps",
    "summary": "Hosting apps on a Kubernetes cluster",
    "version": "17.0.1.2.0",
    "category": "Tools",
    "website": "https://github.com/mint-cloud/mint-cloud",
    "author": "Mint Cloud",
    "license": "AGPL-3",
    "depends": ["kubernetes_manifest", "queue_job", "mail"],
    "external_dependencies": {"python": ["mintcloud"]},
    "data": [
        "security/ir.model.access.csv",
        "data/queue_job_data.xml",
        "data/ir_cron_data.xml",
        "data/mail_template_data.xml",
        "views/kubernetes_app_views.xml",
        "views/kubernetes_deployment_views.xml",
        "views/kubernetes_cluster_views.xml",
        "views/kubernetes_app_preview_views.xml",
        "views/kubernetes_app_cluster_views.xml",
        "views/kubernetes_app_terminate_views.xml",
        "data/ir_actions_server_data.xml",
        "views/menus.xml",
    ],
    "demo": ["demo/kubernetes_app_demo.xml"],
    "assets": {
        "web.assets_tests": ["kubernetes_app/static/tests/tours/*.js"],
    },
    "installable": True,
    "uninstall_hook": "uninstall_hook",
}
