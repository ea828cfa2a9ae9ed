import importlib

import pytest

from portal.web.templatetags.labels import action_label
from portal.web.templatetags.labels import code_label as code_label_filter
from sophos.services.labels import (
    JOB_KIND_LABELS,
    code_label,
    codes_label,
    job_kind_label,
)


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("endpointProtection", "Endpoint Protection"),
        ("interceptX", "Intercept X"),
        ("xdr", "XDR"),
        ("computer", "Computer"),
        ("securityVm", "Security VM"),
        ("high", "High"),
        ("suspicious", "Suspicious"),
        ("pua", "PUA"),
        ("adSync", "AD sync"),
        ("macOS", "macOS"),
        ("winserv", "Windows Server"),
        ("azureActiveDirectory", "Azure Active Directory"),
        ("activePassive", "Active-passive"),
        ("cleanVirus", "Clean virus"),
    ],
)
def test_code_label_known_codes(code, label):
    assert code_label(code) == label


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("threatDetection", "Threat detection"),
        ("allowedItems", "Allowed items"),
        ("notInstalled", "Not installed"),
        ("approvalPending", "Approval pending"),
        ("creatingWhitelist", "Creating whitelist"),
        ("threat-protection", "Threat protection"),
        ("firewall_firmware_upgrade", "Firewall firmware upgrade"),
        ("HTTPServer", "HTTP server"),
        ("syncV2Pending", "Sync V2 pending"),
        ("good", "Good"),
    ],
)
def test_code_label_unknown_code_reads_as_words(code, label):
    assert code_label(code) == label


@pytest.mark.parametrize("text", ["", "Sync failed", "In sync"])
def test_code_label_keeps_text(text):
    assert code_label(text) == text


def test_codes_label_joins_labels():
    assert codes_label(["user", "service"]) == "User, Service"


def test_code_label_filter_on_list_and_none():
    assert code_label_filter(["coreAgent", "xdr"]) == "Core Agent, XDR"
    assert code_label_filter(("windows",)) == "Windows"
    assert code_label_filter(None) == ""
    assert code_label_filter("notEncrypted") == "Not encrypted"


def test_action_label_uses_shared_labels():
    assert action_label("authPua") == "Authorize PUA"
    assert action_label("isolateNow") == "Isolate now"


def _registered_fleet_kinds():
    from sophos.services.fleet_ops import base

    for module in ("drift", "hygiene", "isolation", "onboarding", "push", "tamper"):
        importlib.import_module(f"sophos.services.fleet_ops.{module}")
    return sorted(base._registry)


def _job_kind_constants():
    from portal.partner import billing
    from sophos.services import alerts, firewalls, migrations, sync, tenants

    return [
        alerts.BULK_ACTION_KIND,
        billing.FETCH_JOB_KIND,
        firewalls.UPGRADE_JOB_KIND,
        migrations.MIGRATION_JOB_KIND,
        sync.SYNC_JOB_KIND,
        tenants.RENAME_JOB_KIND,
    ]


def test_every_job_kind_has_a_label():
    kinds = _registered_fleet_kinds() + _job_kind_constants()

    missing = [kind for kind in kinds if kind not in JOB_KIND_LABELS]

    assert "isolation.isolate" in kinds
    assert missing == []


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        ("isolation.isolate", "Isolation: isolate"),
        ("push.create", "Item push"),
        ("push.undo", "Item push: undo"),
        ("drift.compare", "Policy drift: compare"),
        ("onboarding.run", "Customer onboarding"),
        ("sync", "Sync"),
    ],
)
def test_job_kind_label_known_kinds(kind, label):
    assert job_kind_label(kind) == label


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        ("backup.runNow", "Backup: run now"),
        ("report_export", "Report export"),
        ("", ""),
    ],
)
def test_job_kind_label_falls_back_to_words(kind, label):
    assert job_kind_label(kind) == label
