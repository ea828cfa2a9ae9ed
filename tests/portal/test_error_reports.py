from django.views.debug import get_default_exception_reporter_filter


def test_error_reports_hide_connection_urls(settings):
    settings.DATABASE_URL = "postgresql://portal:db-pass-1@db/portal"
    settings.REDIS_URL = "redis://:redis-pass-2@redis:6379/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "redis://:redis-pass-2@redis:6379/0",
        }
    }

    shown = repr(get_default_exception_reporter_filter().get_safe_settings())

    assert "db-pass-1" not in shown
    assert "redis-pass-2" not in shown
