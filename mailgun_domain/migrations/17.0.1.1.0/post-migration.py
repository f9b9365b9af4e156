# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""17.0.1.1.0: invitations wait for a verified domain.

Production apps that had a successful deployment but whose invitation never
went out (the old code noted the failure in the chatter) become due as of
that deployment: the hourly verification sends them once the domain is
active, and the operator gets the reminder activity.
"""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        UPDATE kubernetes_app app
           SET invitation_due_at = first.finished_at,
               invitation_state = 'waiting'
          FROM (
                SELECT app_id, min(coalesce(finished_at, create_date)) AS finished_at
                  FROM kubernetes_deployment
                 WHERE state IN ('done', 'dry_run') AND trigger != 'status'
              GROUP BY app_id
               ) first
         WHERE first.app_id = app.id
           AND app.environment = 'prod'
           AND app.invitation_sent_at IS NULL
           AND app.invitation_due_at IS NULL
        """
    )
