from . import test_core_in_odoo
