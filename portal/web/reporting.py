"""Error reports that hide connection URLs as well as Django's usual secrets."""

import re

from django.views.debug import SafeExceptionReporterFilter


class PortalExceptionReporterFilter(SafeExceptionReporterFilter):
    # Database and Redis URLs carry passwords, and so do the cache LOCATION
    # and django-q2's redis option built from them.
    hidden_settings = re.compile(
        "API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|DATABASE_URL|REDIS_URL"
        "|LOCATION|redis",
        flags=re.IGNORECASE,
    )
