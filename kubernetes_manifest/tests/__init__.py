from . import test_demo_manifests
from . import test_kubernetes_manifest
