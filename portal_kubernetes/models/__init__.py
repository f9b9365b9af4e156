from . import kubernetes_app
