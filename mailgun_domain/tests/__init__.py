from . import test_install
from . import test_mailgun_domain
from . import test_invitation
from . import test_portal_state
