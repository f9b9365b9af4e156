# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
{
    "name": "Mailgun Domain",
    "summary": "Each app hostname becomes a Mailgun sending domain; invitations are sent under it",
    "version": "17.0.1.3.0",
    "category": "Tools",
    "website": "https://github.com/mint-cloud/mint-cloud",
    "author": "Mint Cloud",
    "license": "AGPL-3",
    "depends": ["kubernetes_app", "mail"],
    "external_dependencies": {"python": ["mintcloud"]},
    "data": [
        "security/ir.model.access.csv",
        "data/ir_config_parameter_data.xml",
        "data/queue_job_data.xml",
        "data/ir_cron_data.xml",
        "data/mail_template_data.xml",
        "views/mailgun_domain_views.xml",
        "views/kubernetes_app_views.xml",
        "views/kubernetes_app_domain_views.xml",
        "views/kubernetes_cluster_views.xml",
        "views/res_config_settings_views.xml",
        "views/menus.xml",
    ],
    "demo": ["demo/kubernetes_cluster_demo.xml"],
    "installable": True,
    "uninstall_hook": "uninstall_hook",
}
