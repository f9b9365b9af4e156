from . import kubernetes_app
from . import kubernetes_app_domain
