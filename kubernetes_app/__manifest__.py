# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
{
    "name": "Kubernetes Apps",
    "summary": "Hosting apps on a Kubernetes cluster",
    "version": "17.0.1.0.0",
    "category": "Tools",
    "website": "https://github.com/mint-cloud/mint-cloud",
    "author": "Mint Cloud",
    "license": "AGPL-3",
    "depends": ["kubernetes_manifest", "queue_job"],
    "external_dependencies": {"python": ["mintcloud"]},
    "data": [],
    "installable": True,
}
