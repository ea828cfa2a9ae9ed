import csv
import io
import re

import pytest
from django.urls import reverse

from portal.accounts.models import Role
from sophos.models import AuditEntry, Endpoint, Tenant
from sophos.services import policies
from tests.portal.factories import make_user
from tests.portal.simulator_calls import record_writes, reject

HTMX = {"HX-Request": "true"}
MALWARE = "endpoint.malware.enabled"
SCHEDULED = "endpoint.scans.scheduled.enabled"
DAYS = "endpoint.scans.scheduled.days"
HOUR = "endpoint.scans.scheduled.hour"


@pytest.fixture
def tenant(synced_fleet):
    return Tenant.objects.filter(endpoints__isnull=False).order_by("name").first()


@pytest.fixture
def policy(tenant, owner):
    return policies.policy_create(
        user=owner, tenant=tenant, name="Strict scanning", type="threat-protection"
    )


@pytest.fixture
def base(tenant):
    return policies.base_policy_get(tenant=tenant, policy_type="threat-protection")


@pytest.fixture
def reader(client, tenant):
    client.force_login(make_user(roles=[Role.READ_ONLY], tenants=[tenant]))
    return client


def _url(name, tenant, *args):
    return reverse(f"tenants:{name}", args=[tenant.pk, *args])


def _edit_data(policy, **changes):
    """Return the edit form's data as the page submits it unchanged."""
    data = {"name": policy.name, "priority": policy.priority}
    if policy.enabled:
        data["enabled"] = "on"
    for setting in policy.settings:
        name = f"setting-{setting.key}"
        if setting.kind == policies.BOOLEAN:
            if setting.value:
                data[name] = "on"
        elif setting.kind == policies.LIST:
            data[name] = ", ".join(setting.value)
        else:
            data[name] = setting.value
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


# -- list, create ------------------------------------------------------------------


def test_policy_list_full_page(owner_client, tenant, policy):
    response = owner_client.get(_url("policies", tenant))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert "Strict scanning" in html
    assert "Base Policy" in html
    assert _url("policy_detail", tenant, policy.id) in html
    assert 'aria-current="page">Policies' in html


def test_policy_list_counts_policies(owner_client, tenant, policy):
    html = owner_client.get(_url("policies", tenant)).content.decode()

    assert "policys" not in html
    assert " policies, showing 1–" in html
    assert " policies as CSV" in html


def test_policy_list_htmx_filter(owner_client, tenant, policy):
    response = owner_client.get(
        _url("policies", tenant), {"type": "web-control"}, headers=HTMX
    )

    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="policies-table"')
    assert "Strict scanning" not in html
    assert {p.type for p in response.context["result"].matched} == {"web-control"}


def test_policy_list_csv(owner_client, tenant, policy):
    response = owner_client.get(
        _url("policies", tenant), {"format": "csv", "q": "Strict"}
    )

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["Name", "Type", "Priority"]
    assert rows[1][:2] == ["Strict scanning", "Threat protection"]


def test_policy_list_error_shown(owner_client, tenant, monkeypatch):
    rejected = reject(monkeypatch, "GET", r"/policies$", 403, "Policies hidden")

    response = owner_client.get(_url("policies", tenant))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Policies hidden" in html
    assert rejected.correlation_id in html


def test_policy_create(owner_client, tenant):
    response = owner_client.post(
        _url("policy_create", tenant),
        {"name": "Web rules", "type": "web-control", "priority": "2", "enabled": "on"},
    )

    created = next(
        p for p in policies.policies_list(tenant=tenant) if p.name == "Web rules"
    )
    assert response.status_code == 302
    assert response["Location"] == _url("policy_detail", tenant, created.id)
    assert created.type == "web-control"
    assert created.priority == 2


def test_policy_create_rejected_type(owner_client, tenant, monkeypatch):
    writes = record_writes(monkeypatch)

    response = owner_client.post(
        _url("policy_create", tenant), {"name": "X", "type": "made-up"}
    )

    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()
    assert writes == []


def test_policy_create_sophos_error(owner_client, tenant, monkeypatch):
    rejected = reject(monkeypatch, "POST", r"/policies$", 400, "Too many policies")

    response = owner_client.post(
        _url("policy_create", tenant), {"name": "X", "type": "web-control"}
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "Too many policies" in html
    assert rejected.correlation_id in html


# -- detail --------------------------------------------------------------------------


def test_policy_detail_settings_table(owner_client, tenant, policy):
    response = owner_client.get(_url("policy_detail", tenant, policy.id))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert "Endpoint malware enabled" in html
    assert MALWARE in html
    assert "monday, wednesday, friday" in html
    assert _url("policy_setting_reset", tenant, policy.id, MALWARE) in html
    assert _url("policy_compare", tenant, policy.id) in html


def test_policy_detail_htmx_partial(owner_client, tenant, policy):
    response = owner_client.get(_url("policy_detail", tenant, policy.id), headers=HTMX)

    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="policy-detail">')


def test_policy_detail_unknown(owner_client, tenant):
    url = _url("policy_detail", tenant, "00000000-0000-4000-8000-000000000000")

    assert owner_client.get(url).status_code == 404


# -- edit ----------------------------------------------------------------------------


def test_policy_edit_form_is_typed(owner_client, tenant, policy):
    response = owner_client.get(_url("policy_edit", tenant, policy.id))

    html = response.content.decode()
    assert f'type="checkbox" name="setting-{MALWARE}"' in html
    assert f'type="text" name="setting-{HOUR}"' in html
    assert f'name="setting-{DAYS}" value="monday, wednesday, friday"' in html
    assert 'type="number" name="priority"' in html


def test_policy_edit_sends_only_changes(owner_client, tenant, policy):
    detail = policies.policy_get(tenant=tenant, policy_id=policy.id)

    response = owner_client.post(
        _url("policy_edit", tenant, policy.id),
        _edit_data(
            detail,
            name="Stricter scanning",
            **{f"setting-{SCHEDULED}": "on", f"setting-{DAYS}": "monday, sunday"},
        ),
    )

    updated = policies.policy_get(tenant=tenant, policy_id=policy.id)
    audit = AuditEntry.objects.get(operation="policy_update")
    assert response.status_code == 302
    assert updated.name == "Stricter scanning"
    assert updated.setting(SCHEDULED).value is True
    assert updated.setting(DAYS).value == ["monday", "sunday"]
    assert set(audit.parameters["settings"]) == {SCHEDULED, DAYS}


def test_policy_edit_nothing_changed(owner_client, tenant, policy, monkeypatch):
    detail = policies.policy_get(tenant=tenant, policy_id=policy.id)
    writes = record_writes(monkeypatch)

    response = owner_client.post(
        _url("policy_edit", tenant, policy.id), _edit_data(detail)
    )

    assert response.status_code == 302
    assert writes == []


def test_policy_edit_invalid_priority(owner_client, tenant, policy, monkeypatch):
    detail = policies.policy_get(tenant=tenant, policy_id=policy.id)
    writes = record_writes(monkeypatch)

    response = owner_client.post(
        _url("policy_edit", tenant, policy.id), _edit_data(detail, priority="0")
    )

    assert response.status_code == 400
    assert "greater than or equal to 1" in response.content.decode()
    assert writes == []


def test_policy_edit_rejects_invalid_time(owner_client, tenant, policy, monkeypatch):
    detail = policies.policy_get(tenant=tenant, policy_id=policy.id)
    writes = record_writes(monkeypatch)

    response = owner_client.post(
        _url("policy_edit", tenant, policy.id),
        _edit_data(detail, name="Renamed", **{f"setting-{HOUR}": "25:99"}),
    )

    html = response.content.decode()
    field = re.search(
        rf'<div class="field field-invalid" id="field-setting-{HOUR}">'
        r".*?</div>",
        html,
        re.S,
    )
    assert response.status_code == 400
    assert writes == []
    assert field is not None
    assert "Invalid time &quot;25:99&quot;." in field.group(0)
    assert "HH:MM, from 00:00 to 23:59" in field.group(0)
    assert policies.policy_get(tenant=tenant, policy_id=policy.id).name == detail.name


def test_policy_edit_sends_padded_time(owner_client, tenant, policy):
    detail = policies.policy_get(tenant=tenant, policy_id=policy.id)

    response = owner_client.post(
        _url("policy_edit", tenant, policy.id),
        _edit_data(detail, **{f"setting-{HOUR}": "7:30"}),
    )

    updated = policies.policy_get(tenant=tenant, policy_id=policy.id)
    assert response.status_code == 302
    assert updated.setting(HOUR).value == "07:30"


def test_policy_edit_sophos_error(owner_client, tenant, policy, monkeypatch):
    detail = policies.policy_get(tenant=tenant, policy_id=policy.id)
    rejected = reject(monkeypatch, "PATCH", r"/policies/", 400, "Invalid setting")

    response = owner_client.post(
        _url("policy_edit", tenant, policy.id), _edit_data(detail, name="Renamed")
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "Invalid setting" in html
    assert rejected.correlation_id in html


def test_base_policy_edit_has_settings_only(owner_client, tenant, base):
    response = owner_client.get(_url("policy_edit", tenant, base.id))

    html = response.content.decode()
    assert 'name="priority"' not in html
    assert 'name="name"' not in html
    assert f'name="setting-{MALWARE}"' in html


# -- assignment ----------------------------------------------------------------------


def test_policy_assignment(owner_client, tenant, policy):
    endpoint = Endpoint.objects.filter(tenant=tenant).order_by("hostname").first()
    options = policies.policy_assignment_options(tenant=tenant)
    user_id = options.users[0][0]
    user_group_id = options.user_groups[0][0]
    endpoint_group_id = options.endpoint_groups[0][0]

    page = owner_client.get(_url("policy_assignment", tenant, policy.id))
    response = owner_client.post(
        _url("policy_assignment", tenant, policy.id),
        {
            "users": [user_id],
            "user_groups": [user_group_id],
            "endpoints": [str(endpoint.pk)],
            "endpoint_groups": [endpoint_group_id],
        },
    )

    applies_to = policies.policy_get(tenant=tenant, policy_id=policy.id).applies_to
    assert endpoint.hostname in page.content.decode()
    assert response.status_code == 302
    assert applies_to.users == [user_id]
    assert applies_to.user_groups == [user_group_id]
    assert applies_to.endpoints == [str(endpoint.pk)]
    assert applies_to.endpoint_groups == [endpoint_group_id]
    detail = owner_client.get(
        reverse("tenants:endpoint_detail", args=[tenant.pk, endpoint.pk])
    )
    assert "Assigned to this endpoint." in detail.content.decode()


# -- clone, delete, reset ------------------------------------------------------------


def test_policy_clone(owner_client, tenant, policy):
    form = owner_client.get(_url("policy_clone", tenant, policy.id))
    response = owner_client.post(
        _url("policy_clone", tenant, policy.id), {"name": "Strict copy"}
    )

    clone = next(
        p for p in policies.policies_list(tenant=tenant) if p.name == "Strict copy"
    )
    assert 'value="Strict scanning (copy)"' in form.content.decode()
    assert response.status_code == 302
    assert response["Location"] == _url("policy_detail", tenant, clone.id)


def test_policy_clone_error_beside_name(owner_client, tenant, policy, monkeypatch):
    rejected = reject(monkeypatch, "POST", r"/clone$", 409, "Name already used")

    response = owner_client.post(
        _url("policy_clone", tenant, policy.id), {"name": "Strict scanning"}
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="field-name"' in html
    assert "Name already used" in html
    assert rejected.correlation_id in html


def test_policy_delete(owner_client, tenant, policy):
    confirm = owner_client.get(_url("policy_delete", tenant, policy.id))
    response = owner_client.post(_url("policy_delete", tenant, policy.id))

    assert "fall back to the next policy" in confirm.content.decode()
    breadcrumb = f'<a href="{_url("policies", tenant)}">Policies</a>'
    assert breadcrumb in confirm.content.decode()
    assert response.status_code == 302
    assert policy.id not in {p.id for p in policies.policies_list(tenant=tenant)}


def test_base_policy_delete_error(owner_client, tenant, base):
    response = owner_client.post(_url("policy_delete", tenant, base.id))

    html = response.content.decode()
    audit = AuditEntry.objects.get(operation="policy_delete")
    assert audit.outcome == "failed"
    assert response.status_code == audit.status_code
    assert "base policy" in html
    assert audit.correlation_id in html


def test_policy_setting_reset(owner_client, tenant, policy, owner):
    policies.policy_update(
        user=owner, tenant=tenant, policy_id=policy.id, settings={MALWARE: False}
    )

    confirm = owner_client.get(_url("policy_setting_reset", tenant, policy.id, MALWARE))
    response = owner_client.post(
        _url("policy_setting_reset", tenant, policy.id, MALWARE)
    )

    html = confirm.content.decode()
    assert "Reset this setting of Strict scanning?" in html
    assert "<td>Off</td><td>On</td>" in html
    assert response.status_code == 302
    detail = policies.policy_get(tenant=tenant, policy_id=policy.id)
    assert detail.setting(MALWARE).value is True


def test_policy_settings_reset_all(owner_client, tenant, policy, owner):
    policies.policy_update(
        user=owner, tenant=tenant, policy_id=policy.id, settings={MALWARE: False}
    )

    confirm = owner_client.get(_url("policy_settings_reset", tenant, policy.id))
    response = owner_client.post(_url("policy_settings_reset", tenant, policy.id))

    assert "Reset every setting of Strict scanning?" in confirm.content.decode()
    assert response.status_code == 302
    detail = policies.policy_get(tenant=tenant, policy_id=policy.id)
    assert detail.setting(MALWARE).value is True


def test_policy_reset_error_shown(owner_client, tenant, policy, monkeypatch):
    rejected = reject(monkeypatch, "POST", r"/settings/reset$", 409, "Reset refused")

    response = owner_client.post(_url("policy_settings_reset", tenant, policy.id))

    html = response.content.decode()
    assert response.status_code == 409
    assert "Reset refused" in html
    assert rejected.correlation_id in html
    assert _url("policy_settings_reset", tenant, policy.id) in html


def test_policy_setting_reset_unknown_key(owner_client, tenant, policy):
    url = _url("policy_setting_reset", tenant, policy.id, "endpoint.no-such-key")

    assert owner_client.get(url).status_code == 404


# -- base policies, comparison, metadata ---------------------------------------------


def test_base_policies_and_compare(owner_client, tenant, policy, owner):
    policies.policy_update(
        user=owner, tenant=tenant, policy_id=policy.id, settings={SCHEDULED: True}
    )

    index = owner_client.get(_url("base_policies", tenant))
    base_page = owner_client.get(
        _url("base_policy_detail", tenant, "threat-protection")
    )
    compare = owner_client.get(
        _url("policy_compare", tenant, policy.id), {"only": "differences"}
    )

    assert _url("base_policy_detail", tenant, "web-control") in index.content.decode()
    assert _url("policy_compare", tenant, policy.id) in base_page.content.decode()
    html = compare.content.decode()
    assert re.search(r"1 of \d+ settings differs", html)
    assert SCHEDULED in html
    assert MALWARE not in html


def test_base_policy_unknown_type(owner_client, tenant):
    url = _url("base_policy_detail", tenant, "no-such-type")

    assert owner_client.get(url).status_code == 404


def test_policy_metadata_page(owner_client, tenant):
    response = owner_client.get(
        _url("policy_settings_metadata", tenant), {"type": "web-control"}
    )

    html = response.content.decode()
    keys = {item.key for item in response.context["result"].matched}
    assert response.status_code == 200
    assert "endpoint.web-control.enabled" in html
    assert keys == {
        "endpoint.web-control.enabled",
        "endpoint.web-control.tls-decryption.enabled",
    }


# -- read-only -----------------------------------------------------------------------


def test_reader_sees_no_policy_controls(reader, tenant, policy):
    response = reader.get(_url("policy_detail", tenant, policy.id))

    html = response.content.decode()
    assert response.status_code == 200
    assert _url("policy_edit", tenant, policy.id) not in html
    assert _url("policy_delete", tenant, policy.id) not in html
    assert _url("policy_setting_reset", tenant, policy.id, MALWARE) not in html


@pytest.mark.parametrize(
    "name",
    [
        "policy_edit",
        "policy_assignment",
        "policy_clone",
        "policy_delete",
        "policy_settings_reset",
    ],
)
def test_reader_forged_policy_post_rejected(reader, tenant, policy, monkeypatch, name):
    writes = record_writes(monkeypatch)

    response = reader.post(_url(name, tenant, policy.id), {"name": "Forged"})

    assert response.status_code == 403
    assert writes == []
