"""Route handlers, one module per Sophos API; importing registers them."""

from sophos.simulator.api import alerts, endpoints, identity, partner

MODULES = (identity, partner, endpoints, alerts)
