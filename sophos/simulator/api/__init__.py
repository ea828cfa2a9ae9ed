"""Route handlers, one module per Sophos API; importing registers them.

The specific handlers register first. ``resources`` then serves every other
catalog operation with a generic stateful handler.
"""

from sophos.simulator.api import (
    alerts,
    directory,
    endpoint_controls,
    endpoints,
    firewalls,
    groups,
    identity,
    migrations,
    partner,
    policies,
    reference,
    resources,
)
from sophos.simulator.routing import router

MODULES = (
    identity,
    partner,
    endpoints,
    endpoint_controls,
    alerts,
    groups,
    directory,
    firewalls,
    migrations,
    policies,
    reference,
)
GENERIC_PLANS = resources.register_generic(router)
