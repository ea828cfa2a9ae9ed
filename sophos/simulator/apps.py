from django.apps import AppConfig


class SimulatorConfig(AppConfig):
    name = "sophos.simulator"
    label = "simulator"
    verbose_name = "Sophos Central simulator"
