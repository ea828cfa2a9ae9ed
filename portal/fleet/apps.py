from django.apps import AppConfig


class FleetConfig(AppConfig):
    name = "portal.fleet"
    label = "fleet_ops"
    verbose_name = "Fleet-wide operations"
