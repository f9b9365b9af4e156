from . import test_install
from . import test_portal_access
from . import test_portal_reset
from . import test_portal_tour
from . import test_portal_lifecycle
from . import test_portal_health
from . import test_portal_domains
