# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).


def uninstall_hook(env):
    """Drop the module's queue jobs: their records and methods go with it."""
    env["queue.job"].sudo().search(
        [
            "|",
            ("model_name", "=", "mailgun.domain"),
            "&",
            ("model_name", "=", "kubernetes.app"),
            (
                "method_name",
                "in",
                ["_job_send_invitation", "_job_send_customer_mail"],
            ),
        ]
    ).unlink()
