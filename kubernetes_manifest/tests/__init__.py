from . import test_demo_manifests
