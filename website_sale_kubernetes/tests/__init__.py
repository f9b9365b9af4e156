from . import test_product
from . import test_provisioning
from . import test_checkout_http
from . import test_tour
from . import test_i18n
from . import test_shop_page
from . import test_tenancy
from . import test_lifecycle
