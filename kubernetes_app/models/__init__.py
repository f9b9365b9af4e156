from . import kubernetes_cluster
from . import kubernetes_app
from . import kubernetes_app_manifest
from . import kubernetes_variable_mixin
from . import kubernetes_app_variable
from . import kubernetes_deployment
from . import kubernetes_deployment_object
