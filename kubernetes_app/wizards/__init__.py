from . import kubernetes_app_preview
from . import kubernetes_app_terminate
from . import kubernetes_app_observation
from . import kubernetes_app_observation_object
from . import kubernetes_app_observation_event
from . import kubernetes_app_observation_pod
from . import kubernetes_app_log
