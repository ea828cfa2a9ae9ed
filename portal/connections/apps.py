from django.apps import AppConfig


class ConnectionsConfig(AppConfig):
    name = "portal.connections"
    label = "connections"
    verbose_name = "Sophos Central connections"
