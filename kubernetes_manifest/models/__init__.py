from . import kubernetes_manifest
