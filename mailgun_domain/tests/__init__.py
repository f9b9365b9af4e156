from . import test_install
from . import test_mailgun_domain
from . import test_invitation
from . import test_portal_state
from . import test_dns_publish
from . import test_lifecycle_mail
from . import test_custom_domain_mail
