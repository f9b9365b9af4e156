# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).


def uninstall_hook(env):
    """Drop the queue jobs of the module's records: they die with the tables.

    Left behind, a pending job of deployment #1 would be taken for the
    identical job of a new deployment #1 after a reinstall.
    """
    env["queue.job"].sudo().search(
        [("model_name", "in", ["kubernetes.app", "kubernetes.deployment"])]
    ).unlink()
