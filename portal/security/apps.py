from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "portal.security"
    label = "security"
    verbose_name = "Login security"

    def ready(self) -> None:
        from portal.security import signals

        signals.connect()
