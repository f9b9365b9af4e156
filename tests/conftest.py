"""Fixtures shared by the plain test suite.

The fixtures that start the fake servers are defined next to the fakes and
re-exported here so every test module can use them by name.
"""

from tests.fakes.kube_api import kube_api, kube_client  # noqa: F401
from tests.fakes.mailgun_api import mailgun_api  # noqa: F401
from tests.fakes.smtp_sink import smtp_sink  # noqa: F401
