"""Route handlers, one module per Sophos API; importing registers them.

The specific handlers register first. ``resources`` then serves every other
catalog operation with a generic stateful handler.
"""

from sophos.simulator.api import alerts, endpoints, identity, partner, resources
from sophos.simulator.routing import router

MODULES = (identity, partner, endpoints, alerts)
GENERIC_PLANS = resources.register_generic(router)
