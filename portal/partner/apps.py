from django.apps import AppConfig


class PartnerConfig(AppConfig):
    name = "portal.partner"
    label = "partner"
    verbose_name = "Partner pages"
