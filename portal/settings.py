"""Settings for the portal, read from environment variables.

``PORTAL_MODE=embedded`` (the default) runs on one machine with SQLite, the
django-q2 database broker, the in-process Sophos Central simulator and
secrets generated into ``PORTAL_DATA_DIR``. ``PORTAL_MODE=production``
requires its secrets and turns on Django's deployment settings.
"""

from __future__ import annotations

import datetime
import math
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from portal.env import (
    env_bool,
    env_float,
    env_int,
    env_list,
    env_secret,
    env_str,
    local_secret,
    required_secret,
)

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("PORTAL_DATA_DIR", str(BASE_DIR / "var")))

PORTAL_MODE = env_str("PORTAL_MODE", "embedded")
if PORTAL_MODE not in {"embedded", "production"}:
    raise ImproperlyConfigured(
        f"PORTAL_MODE={PORTAL_MODE!r} is invalid: use embedded or production."
    )
PRODUCTION = PORTAL_MODE == "production"

DEBUG = env_bool("DEBUG", False)

if PRODUCTION:
    SECRET_KEY = required_secret("SECRET_KEY")
    PORTAL_ENCRYPTION_KEY = required_secret("PORTAL_ENCRYPTION_KEY")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "ALLOWED_HOSTS is missing: list the portal's host names, comma-separated."
        )
else:
    SECRET_KEY = env_secret("SECRET_KEY") or local_secret(DATA_DIR / "secret_key")
    PORTAL_ENCRYPTION_KEY = env_secret("PORTAL_ENCRYPTION_KEY") or local_secret(
        DATA_DIR / "encryption_key", nbytes=32
    )
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])

CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "django_q",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "sophos",
    "sophos.simulator",
    "portal.accounts",
    "portal.web",
    "portal.console",
    "portal.security",
    "portal.connections",
    "portal.partner",
    "portal.fleet",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "portal.web.middleware.SophosErrorMiddleware",
    "portal.web.middleware.MethodNotAllowedPageMiddleware",
    "portal.web.middleware.InteractiveSophosCallsMiddleware",
    "portal.web.middleware.LoginRequiredMiddleware",
    "portal.security.middleware.TwoFactorMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into the
    # lockout page.
    "axes.middleware.AxesMiddleware",
]

# django-axes checks for a lockout before the password is compared.
AUTHENTICATION_BACKENDS = [
    "portal.security.backends.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "portal.urls"
DEFAULT_EXCEPTION_REPORTER_FILTER = "portal.web.reporting.PortalExceptionReporterFilter"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.connections.context_processors.connection_warnings",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    }
]


def _database_from_url(url: str) -> dict[str, object]:
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ImproperlyConfigured(
            f"DATABASE_URL scheme {parts.scheme!r} is not supported: use postgresql://."
        )
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": 60,
    }


DATABASE_URL = env_secret("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": _database_from_url(DATABASE_URL)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": Path(env_str("SQLITE_PATH", str(DATA_DIR / "portal.sqlite3"))),
            # A file, not memory, so that a cluster started by a test can
            # open the test database; one per process, so that test runs
            # side by side do not share it.
            "TEST": {"NAME": str(DATA_DIR / f"test-portal-{os.getpid()}.sqlite3")},
            "OPTIONS": {
                # WAL lets the web server, the cluster and the simulator read
                # while one of them writes; IMMEDIATE takes the write lock at
                # the start of a transaction, so a writer waits for the busy
                # timeout instead of failing with "database is locked".
                "init_command": ("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"),
                "transaction_mode": "IMMEDIATE",
                "timeout": env_int("SQLITE_BUSY_TIMEOUT", 30),
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# REDIS_URL moves the django-q2 broker and the cache to Redis, so that web
# processes and clusters on several machines share one queue, one Sophos token
# and one call budget (sophos/shared_state.py keeps both in the cache).
REDIS_URL = env_secret("REDIS_URL")
if REDIS_URL and urlsplit(REDIS_URL).scheme not in {"redis", "rediss", "unix"}:
    raise ImproperlyConfigured(
        "REDIS_URL is invalid: use redis://host:port/db, rediss:// or unix://."
    )

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # Lets several portals, or test runs, share one Redis database.
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", ""),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "portal_cache",
        }
    }

_VALIDATORS = "django.contrib.auth.password_validation"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"{_VALIDATORS}.UserAttributeSimilarityValidator"},
    {"NAME": f"{_VALIDATORS}.MinimumLengthValidator"},
    {"NAME": f"{_VALIDATORS}.CommonPasswordValidator"},
    {"NAME": f"{_VALIDATORS}.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "fleet"
# A stale CSRF token, for example after signing in again in another tab, gets
# the portal's styled 403 page instead of Django's plain one.
CSRF_FAILURE_VIEW = "portal.web.errors.csrf_failure"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_SECONDS", 8 * 3600)
SESSION_SAVE_EVERY_REQUEST = True

# Failed logins (django-axes): LOGIN_FAILURE_LIMIT failures for one username
# from one address lock that pair out for LOGIN_COOLOFF_MINUTES after the
# last failure. Attempts during a lockout do not extend it.
# NOTE: behind a reverse proxy every client has the proxy's REMOTE_ADDR, so
# the lockout then applies to the username from every address.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "portal.security.lockout.lockout_response"

# Two-factor login with TOTP (django-otp). The issuer names the portal in
# authenticator apps.
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Sophos MSP Portal")

# Security headers, in both modes. The Content Security Policy allows
# scripts, styles and fonts from the portal itself only. Templates therefore
# carry no inline script, style element or style attribute. The data: images
# are the empty favicon and the two-factor QR code.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
# Embedded mode serves static files straight from static/ and the installed
# apps; production serves the compressed, hashed copies made by collectstatic.
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    # WhiteNoise warns at start-up when STATIC_ROOT is missing.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Any number of clusters may share one queue. The ORM broker hands a task to
# one cluster by moving its lock time forward `retry` seconds, and the Redis
# broker pops it with BLPOP. max_attempts=1 acknowledges a task after its
# first run, even a failed one, so the ORM broker never runs it again. The
# Sophos client retries transient errors (SOPHOS_MAX_RETRIES) inside that run.
# `retry` exceeds `timeout`, so a task still running is never handed to a
# second cluster.
# NOTE: a task whose cluster dies mid-run runs again after `retry` seconds on
# the ORM broker and is lost on the Redis broker, which never redelivers.
Q_CLUSTER = {
    "name": "portal",
    "orm": "default",
    "workers": env_int("Q_WORKERS", 2),
    "timeout": env_int("Q_TIMEOUT", 3600),
    "retry": env_int("Q_TIMEOUT", 3600) + 60,
    "max_attempts": 1,
    "catch_up": False,
    "sync": env_bool("Q_SYNC", False),
}
if REDIS_URL:
    del Q_CLUSTER["orm"]
    Q_CLUSTER["redis"] = REDIS_URL

# Sophos Central. The defaults are the real hosts; in embedded mode the
# client reaches them through the in-process simulator transport.
SOPHOS_TOKEN_URL = env_str(
    "SOPHOS_TOKEN_URL", "https://id.sophos.com/api/v2/oauth2/token"
)
SOPHOS_GLOBAL_URL = env_str("SOPHOS_GLOBAL_URL", "https://api.central.sophos.com")
SOPHOS_TIMEOUT_SECONDS = env_float("SOPHOS_TIMEOUT_SECONDS", 30.0)
SOPHOS_MAX_RETRIES = env_int("SOPHOS_MAX_RETRIES", 4)
SOPHOS_CALLS_PER_MINUTE = env_int("SOPHOS_CALLS_PER_MINUTE", 100)
SOPHOS_CALLS_PER_DAY = env_int("SOPHOS_CALLS_PER_DAY", 200_000)
# Seconds that the Sophos calls of one web request may wait, in total, for the
# call budget, a 429's Retry-After or the backoff before retrying a 5xx reply
# or a network error. A longer rate-limit wait shows "retry in N seconds"
# instead, and a longer backoff shows the last error. Background tasks wait
# as long as they need.
SOPHOS_INTERACTIVE_MAX_WAIT_SECONDS = env_float(
    "SOPHOS_INTERACTIVE_MAX_WAIT_SECONDS", 5.0
)
if not 0 <= SOPHOS_INTERACTIVE_MAX_WAIT_SECONDS < math.inf:
    raise ImproperlyConfigured(
        f"SOPHOS_INTERACTIVE_MAX_WAIT_SECONDS={SOPHOS_INTERACTIVE_MAX_WAIT_SECONDS} "
        "is invalid: use 0 or more seconds, such as 5."
    )

# The scheduled sync fetches only endpoints seen and alerts raised since the
# last sync. No API lists deletions, so a tenant whose last full pass is
# SYNC_FULL_EVERY_SECONDS old gets a full pass instead.
SYNC_INCREMENTAL_EVERY_MINUTES = env_int("SYNC_INCREMENTAL_EVERY_MINUTES", 15)
SYNC_FULL_EVERY_SECONDS = env_int("SYNC_FULL_EVERY_SECONDS", 86_400)

# A running job whose items have not changed for this many minutes is shown as
# stalled: its worker has probably stopped. An endpoint migration item, for
# example, polls Sophos Central for up to five minutes without a change.
# NOTE: an item still running past this time is shown as stalled too. If it is
# cancelled, its worker's outcome replaces the cancel once the item ends.
PORTAL_JOB_STALL_AFTER_MINUTES = env_int("PORTAL_JOB_STALL_AFTER_MINUTES", 15)
if not 1 <= PORTAL_JOB_STALL_AFTER_MINUTES <= 10_080:
    raise ImproperlyConfigured(
        f"PORTAL_JOB_STALL_AFTER_MINUTES={PORTAL_JOB_STALL_AFTER_MINUTES} is "
        "invalid: use 1 to 10080 minutes (a week)."
    )
# A job still queued this many seconds after it was created gets a warning
# that no worker has started it: the django-q2 cluster (manage.py qcluster)
# is probably not running, or its workers are busy with other tasks.
PORTAL_JOB_QUEUED_WARNING_SECONDS = env_int("PORTAL_JOB_QUEUED_WARNING_SECONDS", 60)
if not 1 <= PORTAL_JOB_QUEUED_WARNING_SECONDS <= 86_400:
    raise ImproperlyConfigured(
        f"PORTAL_JOB_QUEUED_WARNING_SECONDS={PORTAL_JOB_QUEUED_WARNING_SECONDS} is "
        "invalid: use 1 to 86400 seconds (a day)."
    )

# The tamper protection check runs every TAMPER_CHECK_EVERY_MINUTES over the
# mirror and reports tamper protection newly seen off: a portal notification,
# an e-mail to ALERT_EMAILS, and a JSON POST to TAMPER_WEBHOOK_URL signed with
# TAMPER_WEBHOOK_SECRET (docs/webhooks.md). An empty recipient list or URL
# turns that channel off.
TAMPER_CHECK_EVERY_MINUTES = env_int("TAMPER_CHECK_EVERY_MINUTES", 15)
ALERT_EMAILS = env_list("ALERT_EMAILS", [])
TAMPER_WEBHOOK_URL = env_str("TAMPER_WEBHOOK_URL", "")
TAMPER_WEBHOOK_SECRET = env_secret("TAMPER_WEBHOOK_SECRET")
if TAMPER_WEBHOOK_URL and urlsplit(TAMPER_WEBHOOK_URL).scheme not in {"http", "https"}:
    raise ImproperlyConfigured(
        "TAMPER_WEBHOOK_URL is invalid: use an http:// or https:// URL."
    )

# Outgoing e-mail through Django's SMTP backend. Without EMAIL_HOST, e-mails
# are written to the log output instead of being sent.
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "portal@localhost")

# A closed billing month is kept once fetched. The open month is kept too,
# and fetched again when its copy is older than this.
BILLING_OPEN_MONTH_MAX_AGE = env_int("BILLING_OPEN_MONTH_MAX_AGE", 3600)

# The embedded Sophos Central simulator and its seeded demo fleet.
SIMULATOR_SEED = env_int("SIMULATOR_SEED", 1)
SIMULATOR_TENANTS = env_int("SIMULATOR_TENANTS", 12)
SIMULATOR_MAX_ENDPOINTS = env_int("SIMULATOR_MAX_ENDPOINTS", 300)
SIMULATOR_TOKEN_LIFETIME = env_int("SIMULATOR_TOKEN_LIFETIME", 3600)
# Calls a minute the client allows itself against the embedded simulator;
# 0 leaves it unlimited, as the simulator sets no budget of its own.
SIMULATOR_CLIENT_CALLS_PER_MINUTE = env_int("SIMULATOR_CLIENT_CALLS_PER_MINUTE", 0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading binds the domain and its subdomains to HTTPS in browsers
        # for months, so it stays the operator's choice. Without this line the
        # deployment check warns about the missing preload flag.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SESSION_COOKIE_HTTPONLY = True
