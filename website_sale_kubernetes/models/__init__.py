from . import product_kubernetes_manifest
from . import product_kubernetes_variable
from . import product_template
from . import kubernetes_app
from . import sale_subscription
from . import sale_order_line
from . import sale_order
from . import website
