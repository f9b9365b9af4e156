from . import kubernetes_app_preview
