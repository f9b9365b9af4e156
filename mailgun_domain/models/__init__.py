from . import mailgun_domain
from . import mailgun_domain_record
from . import kubernetes_app
from . import kubernetes_cluster
from . import kubernetes_deployment
from . import res_config_settings
from . import kubernetes_app_domain
