from . import test_core_in_odoo
from . import test_kubernetes_app
from . import test_kubernetes_deployment
from . import test_kubernetes_cluster
from . import test_status_cron
from . import test_export
from . import test_views
from . import test_operator_tour
