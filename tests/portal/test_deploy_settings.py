import json
import os
import runpy
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_FILE = ROOT / "portal" / "settings.py"

# Variables that would change how the settings load in the subprocess.
UNSET = (
    "DJANGO_SETTINGS_MODULE",
    "DEBUG",
    "DATABASE_URL",
    "DATABASE_URL_FILE",
    "REDIS_URL",
    "REDIS_URL_FILE",
    "SECURE_HSTS_PRELOAD",
    "SECURE_SSL_REDIRECT",
    "SECRET_KEY_FILE",
    "PORTAL_ENCRYPTION_KEY_FILE",
)


def _production_env(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in UNSET}
    env.update(
        {
            "PORTAL_MODE": "production",
            "PORTAL_DATA_DIR": str(tmp_path),
            "SECRET_KEY": secrets.token_urlsafe(50),
            "PORTAL_ENCRYPTION_KEY": secrets.token_urlsafe(32),
            "ALLOWED_HOSTS": "portal.example.com",
            "DJANGO_SETTINGS_MODULE": "portal.settings",
        }
    )
    return env


def test_check_deploy_is_clean(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "check",
            "--deploy",
            "--fail-level",
            "WARNING",
        ],
        cwd=ROOT,
        env=_production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    "variable", ["SECRET_KEY", "PORTAL_ENCRYPTION_KEY", "ALLOWED_HOSTS"]
)
def test_production_refuses_missing_secret(monkeypatch, tmp_path, variable):
    for key, value in _production_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv(variable)

    with pytest.raises(ImproperlyConfigured, match=f"^{variable} is missing"):
        runpy.run_path(str(SETTINGS_FILE))


def test_production_reads_secret_from_file(monkeypatch, tmp_path):
    key_file = tmp_path / "secret_key"
    key_file.write_text("from-a-file-" + secrets.token_urlsafe(40))
    for key, value in _production_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("SECRET_KEY")
    monkeypatch.setenv("SECRET_KEY_FILE", str(key_file))

    loaded = runpy.run_path(str(SETTINGS_FILE))

    assert loaded["SECRET_KEY"] == key_file.read_text()
    assert loaded["SESSION_COOKIE_SECURE"] is True
    assert loaded["CSRF_COOKIE_SECURE"] is True


def _csp(response):
    header = response["Content-Security-Policy"]
    return {
        part.split()[0]: part.split()[1:]
        for part in (piece.strip() for piece in header.split(";"))
        if part
    }


@pytest.mark.django_db
@pytest.mark.parametrize("logged_in", [False, True])
def test_pages_send_security_headers(client, owner, logged_in):
    if logged_in:
        client.force_login(owner)
    url = reverse("fleet") if logged_in else reverse("login")

    response = client.get(url)

    assert response.status_code == 200
    policy = _csp(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_htmx_config_avoids_inline_styles(owner_client):
    html = owner_client.get(reverse("fleet")).content.decode()

    config = json.loads(html.split('name="htmx-config" content=\'')[1].split("'")[0])

    assert config["includeIndicatorStyles"] is False
    assert config["allowEval"] is False
    assert "style" not in config["attributesToSettle"]
