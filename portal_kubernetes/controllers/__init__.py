from . import portal
from . import domains
