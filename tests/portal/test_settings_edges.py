"""Settings of the job pages and the wait budget reject values they cannot use."""

import runpy
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

SETTINGS_FILE = Path(__file__).resolve().parents[2] / "portal" / "settings.py"


@pytest.fixture
def load_settings(monkeypatch, tmp_path):
    """Return a function that loads the settings afresh with one variable set."""
    monkeypatch.setenv("PORTAL_MODE", "embedded")
    monkeypatch.setenv("PORTAL_DATA_DIR", str(tmp_path))

    def load(variable: str, value: str) -> dict:
        monkeypatch.setenv(variable, value)
        return runpy.run_path(str(SETTINGS_FILE))

    return load


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("PORTAL_JOB_STALL_AFTER_MINUTES", "0", "use 1 to 10080 minutes"),
        ("PORTAL_JOB_STALL_AFTER_MINUTES", "10000000000000", "use 1 to 10080"),
        ("PORTAL_JOB_QUEUED_WARNING_SECONDS", "-1", "use 1 to 86400 seconds"),
        ("PORTAL_JOB_QUEUED_WARNING_SECONDS", "10**17", "is not a whole number"),
        ("PORTAL_JOB_QUEUED_WARNING_SECONDS", "100000000000000000", "use 1 to 86400"),
        ("SOPHOS_INTERACTIVE_MAX_WAIT_SECONDS", "-1", "use 0 or more seconds"),
        ("SOPHOS_INTERACTIVE_MAX_WAIT_SECONDS", "nan", "use 0 or more seconds"),
        ("SOPHOS_INTERACTIVE_MAX_WAIT_SECONDS", "inf", "use 0 or more seconds"),
    ],
)
def test_invalid_job_setting_names_variable(load_settings, variable, value, expected):
    with pytest.raises(ImproperlyConfigured) as caught:
        load_settings(variable, value)

    message = str(caught.value)
    assert message.startswith(f"{variable}=")
    assert expected in message


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PORTAL_JOB_STALL_AFTER_MINUTES", "10080"),
        ("PORTAL_JOB_QUEUED_WARNING_SECONDS", "86400"),
        ("SOPHOS_INTERACTIVE_MAX_WAIT_SECONDS", "0"),
    ],
)
def test_job_setting_limits_are_accepted(load_settings, variable, value):
    loaded = load_settings(variable, value)

    assert loaded[variable] == float(value)
