"""Route handlers, one module per Sophos API; importing registers them.

The specific handlers register first. ``resources`` then serves every other
catalog operation with a generic stateful handler.
"""

from sophos.simulator.api import (
    admins,
    alerts,
    directory,
    endpoint_controls,
    endpoints,
    event_journal,
    exclusions,
    exploit_mitigation,
    firewalls,
    groups,
    identity,
    migrations,
    partner,
    policies,
    reference,
    resources,
    web_control,
)
from sophos.simulator.routing import router

MODULES = (
    identity,
    partner,
    admins,
    endpoints,
    endpoint_controls,
    alerts,
    groups,
    directory,
    exclusions,
    exploit_mitigation,
    web_control,
    event_journal,
    firewalls,
    migrations,
    policies,
    reference,
)
GENERIC_PLANS = resources.register_generic(router)
