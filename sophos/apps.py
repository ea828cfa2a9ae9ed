from django.apps import AppConfig


class SophosConfig(AppConfig):
    name = "sophos"
    verbose_name = "Sophos Central"
