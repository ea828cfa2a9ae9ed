import csv
import io
from unittest import mock

import pytest
from django.urls import reverse

from sophos.errors import BadRequest, Conflict
from sophos.models import AuditEntry
from sophos.services import exclusions
from sophos.simulator.faults import set_faults
from tests.portal.tenant_pages import (
    last_audit,
    login_reader,
    login_technician,
    shown_correlation_ids,
    simulator_tenant,
)

pytestmark = pytest.mark.django_db

SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


@pytest.fixture
def tenant(demo_connection):
    return simulator_tenant(demo_connection)


@pytest.fixture
def allowed(tenant, owner):
    return exclusions.allowed_item_create(
        user=owner,
        tenant=tenant,
        type="sha256",
        properties=exclusions.ItemProperties(sha256=SHA256, file_name="tool.exe"),
        comment="Build tool",
    )


@pytest.fixture
def scanning(tenant, owner):
    return exclusions.scanning_exclusion_create(
        user=owner,
        tenant=tenant,
        type="path",
        value="D:\\Builds\\",
        scan_mode="onAccess",
        comment="Build output",
    )


def _url(name, tenant, *args):
    return reverse(f"tenants:{name}", args=[tenant.pk, *args])


def _allowed_ids(tenant):
    return [item.id for item in exclusions.allowed_items_list(tenant=tenant).items]


# -- lists ---------------------------------------------------------------------------


def test_allowed_list_full_page(owner_client, tenant, allowed):
    response = owner_client.get(_url("allowed_items_list", tenant))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert SHA256 in html
    assert "tool.exe" in html
    assert _url("allowed_items_create", tenant) in html
    assert _url("allowed_items_delete", tenant, allowed.id) in html
    assert 'aria-current="page">Allowed items' in html
    assert 'type="search" name="q"' in html


def test_allowed_list_htmx_partial(owner_client, tenant, allowed):
    response = owner_client.get(
        _url("allowed_items_list", tenant), headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="allowed-items-table"' in html
    assert SHA256 in html
    assert "HX-Request" in response["Vary"]


def test_allowed_list_search_and_filter(owner_client, tenant, allowed):
    found = owner_client.get(_url("allowed_items_list", tenant) + "?q=TOOL.EXE")
    missed = owner_client.get(_url("allowed_items_list", tenant) + "?type=path&q=tool")

    assert SHA256 in found.content.decode()
    assert SHA256 not in missed.content.decode()
    assert "No allowed item matches these filters." in missed.content.decode()


def test_allowed_list_csv_neutralises_formulas(owner_client, tenant, owner):
    exclusions.allowed_item_create(
        user=owner,
        tenant=tenant,
        type="path",
        properties=exclusions.ItemProperties(path="C:\\x.exe"),
        comment='=HYPERLINK("http://example.invalid")',
    )

    response = owner_client.get(
        _url("allowed_items_list", tenant) + "?format=csv&type=path"
    )

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert response["Content-Type"].startswith("text/csv")
    assert rows[0][:4] == ["Item", "Type", "File name", "Comment"]
    exported = [row for row in rows[1:] if row[0] == "C:\\x.exe"]
    assert exported[0][3] == '\'=HYPERLINK("http://example.invalid")'


def test_scanning_list_sorts_by_whitelisted_key(owner_client, tenant, scanning):
    response = owner_client.get(
        _url("scanning_exclusions_list", tenant) + "?sort=-value"
    )
    fallback = owner_client.get(
        _url("scanning_exclusions_list", tenant) + "?sort=comment__secret"
    )

    assert response.status_code == 200
    assert 'aria-sort="descending"' in response.content.decode()
    assert fallback.status_code == 200
    assert 'aria-sort="ascending"' in fallback.content.decode()


def test_list_shows_sophos_error(owner_client, tenant):
    set_faults(forbidden_tenant_ids=[tenant.pk])

    response = owner_client.get(_url("scanning_exclusions_list", tenant))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Status 403" in html
    assert len(shown_correlation_ids(html)) == 1


# -- create --------------------------------------------------------------------------


def test_allowed_create_form(owner_client, tenant):
    response = owner_client.get(_url("allowed_items_create", tenant))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="type" value="sha256"' in html
    assert 'name="certificate_signer"' in html
    assert 'name="origin_person_id"' in html


def test_allowed_create_sha256(owner_client, tenant):
    response = owner_client.post(
        _url("allowed_items_create", tenant),
        {"type": "sha256", "sha256": SHA256.upper(), "comment": "Signed installer"},
    )

    items = exclusions.allowed_items_list(tenant=tenant).items
    created = [item for item in items if item.properties.sha256 == SHA256]
    assert response.status_code == 302
    assert len(created) == 1
    assert response["Location"] == _url("allowed_items_detail", tenant, created[0].id)
    assert created[0].comment == "Signed installer"
    audit = last_audit("allowed_item_create")
    assert audit.status_code == 201
    assert str(audit.tenant_id) == str(tenant.pk)


def test_allowed_create_needs_the_typed_property(owner_client, tenant):
    with mock.patch(
        "sophos.services.resources.client_for", autospec=True
    ) as client_for:
        response = owner_client.post(
            _url("allowed_items_create", tenant),
            {"type": "path", "sha256": SHA256, "comment": "x"},
        )

    html = response.content.decode()
    assert response.status_code == 400
    assert "Enter the Path to allow by." in html
    client_for.assert_not_called()


def test_allowed_create_rejects_bad_sha256(owner_client, tenant):
    response = owner_client.post(
        _url("allowed_items_create", tenant),
        {"type": "sha256", "sha256": "abc", "comment": "x"},
    )

    assert response.status_code == 400
    assert "Enter a SHA-256 hash" in response.content.decode()
    assert not AuditEntry.objects.exists()


def test_allowed_create_conflict_beside_field(owner_client, tenant):
    conflict = Conflict(
        "An allowed item with this SHA-256 already exists.",
        status=409,
        correlation_id="11111111-2222-3333-4444-555555555555",
    )
    with mock.patch(
        "sophos.services.exclusions.allowed_item_create",
        autospec=True,
        side_effect=conflict,
    ):
        response = owner_client.post(
            _url("allowed_items_create", tenant),
            {"type": "sha256", "sha256": SHA256, "comment": "Again"},
        )

    html = response.content.decode()
    field = html.split('id="field-sha256"')[1].split("</div>")[0]
    assert response.status_code == 400
    assert "already exists" in field
    assert "11111111-2222-3333-4444-555555555555" in field


def test_allowed_create_duplicate_in_simulator(owner_client, tenant, allowed):
    response = owner_client.post(
        _url("allowed_items_create", tenant),
        {"type": "sha256", "sha256": SHA256, "comment": "Again"},
    )

    html = response.content.decode()
    field = html.split('id="field-sha256"')[1].split("</div>")[0]
    assert response.status_code == 400
    assert last_audit("allowed_item_create").correlation_id in field


def test_create_rejected_by_sophos_shows_message(owner_client, tenant):
    set_faults(forbidden_tenant_ids=[tenant.pk])

    response = owner_client.post(
        _url("scanning_exclusions_create", tenant),
        {"type": "process", "value": "backup.exe", "comment": ""},
    )

    html = response.content.decode()
    audit = last_audit("scanning_exclusion_create")
    assert response.status_code == 400
    assert audit.outcome == AuditEntry.Outcome.FAILED
    assert audit.correlation_id
    assert audit.correlation_id in html.split('id="field-value"')[1]


def test_scanning_create_path_defaults_scan_mode(owner_client, tenant):
    response = owner_client.post(
        _url("scanning_exclusions_create", tenant),
        {"type": "path", "value": "E:\\Data\\", "comment": ""},
    )

    created = [
        item
        for item in exclusions.scanning_exclusions_list(tenant=tenant).items
        if item.value == "E:\\Data\\"
    ]
    assert response.status_code == 302
    assert created[0].scan_mode == "onDemandAndOnAccess"


def test_scanning_create_rejects_web_url(owner_client, tenant):
    response = owner_client.post(
        _url("scanning_exclusions_create", tenant),
        {"type": "web", "value": "https://www.example.com", "comment": ""},
    )

    assert response.status_code == 400
    assert "without http://" in response.content.decode()


def test_blocked_create(owner_client, tenant):
    response = owner_client.post(
        _url("blocked_items_create", tenant),
        {"sha256": SHA256, "file_name": "bad.exe", "comment": "Ransomware"},
    )

    blocked = [
        item
        for item in exclusions.blocked_items_list(tenant=tenant).items
        if item.properties.sha256 == SHA256
    ]
    assert response.status_code == 302
    assert blocked[0].type == "sha256"
    assert blocked[0].properties.file_name == "bad.exe"


@pytest.mark.parametrize(
    "family", ["isolation_exclusions", "intrusion_prevention_exclusions"]
)
def test_network_exclusion_create_and_edit(owner_client, tenant, family):
    created = owner_client.post(
        _url(f"{family}_create", tenant),
        {
            "direction": "outbound",
            "remote_addresses": "10.0.0.5, 10.1.0.0/16",
            "local_ports": "",
            "remote_ports": "443 8443",
            "comment": "Remediation server",
        },
    )
    detail_url = created["Location"]
    edited = owner_client.post(
        detail_url,
        {
            "direction": "both",
            "remote_addresses": "10.0.0.5",
            "local_ports": "",
            "remote_ports": "",
            "comment": "",
        },
    )
    page = owner_client.get(detail_url).content.decode()
    details = page.split('class="details"')[1].split("</dl>")[0]

    assert created.status_code == 302
    assert edited.status_code == 302
    assert "Both" in details
    assert "10.1.0.0/16" not in details
    assert "8443" not in details


def test_network_exclusion_needs_a_target(owner_client, tenant):
    response = owner_client.post(
        _url("isolation_exclusions_create", tenant),
        {"direction": "inbound", "remote_addresses": "", "local_ports": ""},
    )

    assert response.status_code == 400
    assert "Enter at least one remote address" in response.content.decode()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("local_ports", "70000", "is not a port"),
        ("remote_addresses", "example.com", "is not an IP address"),
    ],
)
def test_network_exclusion_checks_values(owner_client, tenant, field, value, message):
    response = owner_client.post(
        _url("intrusion_prevention_exclusions_create", tenant),
        {"direction": "inbound", field: value},
    )

    assert response.status_code == 400
    assert message in response.content.decode()


# -- detail and edit -----------------------------------------------------------------


def test_allowed_detail_full_and_partial(owner_client, tenant, allowed):
    url = _url("allowed_items_detail", tenant, allowed.id)

    page = owner_client.get(url)
    partial = owner_client.get(url, headers={"HX-Request": "true"})

    assert page.status_code == 200
    assert "<html" in page.content.decode()
    assert "Build tool" in page.content.decode()
    assert "<html" not in partial.content.decode()
    assert 'id="item-detail"' in partial.content.decode()


def test_allowed_edit_comment(owner_client, tenant, allowed):
    url = _url("allowed_items_detail", tenant, allowed.id)

    response = owner_client.post(url, {"comment": "Vendor tool, reviewed"})

    item = exclusions.allowed_item_get(tenant=tenant, item_id=allowed.id)
    assert response.status_code == 302
    assert item.comment == "Vendor tool, reviewed"
    assert last_audit("allowed_item_update").status_code == 200


def test_scanning_edit_rejected_by_sophos(owner_client, tenant, scanning):
    rejected = BadRequest(
        "Invalid value for a path exclusion.", status=400, correlation_id="cid-77"
    )
    with mock.patch(
        "sophos.services.exclusions.scanning_exclusion_update",
        autospec=True,
        side_effect=rejected,
    ):
        response = owner_client.post(
            _url("scanning_exclusions_detail", tenant, scanning.id),
            {"value": "D:\\Other\\", "scan_mode": "onDemand", "comment": ""},
        )

    html = response.content.decode()
    field = html.split('id="field-value"')[1].split("</div>")[0]
    assert response.status_code == 400
    assert "Invalid value for a path exclusion. (correlation id cid-77)" in field


def test_unknown_item_is_not_found(owner_client, tenant):
    response = owner_client.get(
        _url(
            "scanning_exclusions_detail", tenant, "00000000-0000-4000-8000-000000000000"
        )
    )

    assert response.status_code == 404


def test_blocked_detail_has_no_edit_form(owner_client, tenant, owner):
    item = exclusions.blocked_item_create(
        user=owner,
        tenant=tenant,
        properties=exclusions.ItemProperties(sha256=SHA256),
        comment="Blocked",
    )

    page = owner_client.get(_url("blocked_items_detail", tenant, item.id))
    post = owner_client.post(
        _url("blocked_items_detail", tenant, item.id), {"comment": "x"}
    )

    assert page.status_code == 200
    assert "<h3>Edit</h3>" not in page.content.decode()
    assert post.status_code == 405


# -- delete --------------------------------------------------------------------------


def test_delete_confirmation_says_what_is_lost(owner_client, tenant, allowed):
    url = _url("allowed_items_delete", tenant, allowed.id)

    page = owner_client.get(url)
    panel = owner_client.get(url, headers={"HX-Request": "true"})

    assert page.status_code == 200
    assert "<html" in page.content.decode()
    assert "cannot be undone" in page.content.decode()
    assert "Sophos detects or blocks tool.exe again" in page.content.decode()
    assert "<html" not in panel.content.decode()
    assert 'id="confirm-panel"' in panel.content.decode()
    assert 'hx-post="' + url + '"' in panel.content.decode()
    assert allowed.id in _allowed_ids(tenant)


def test_delete_htmx_refreshes_the_list(owner_client, tenant, allowed):
    response = owner_client.post(
        _url("allowed_items_delete", tenant, allowed.id),
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#allowed-items-table"
    assert response["HX-Push-Url"] == _url("allowed_items_list", tenant)
    assert "<html" not in html
    assert f"Deleted the allowed item {SHA256}." in html
    assert SHA256 not in html.split("</p>", 1)[1]
    assert allowed.id not in _allowed_ids(tenant)
    assert last_audit("allowed_item_delete").status_code == 200


def test_delete_without_htmx_redirects(owner_client, tenant, scanning):
    response = owner_client.post(
        _url("scanning_exclusions_delete", tenant, scanning.id)
    )

    listed = exclusions.scanning_exclusions_list(tenant=tenant).items
    assert response.status_code == 302
    assert response["Location"] == _url("scanning_exclusions_list", tenant)
    assert scanning.id not in [item.id for item in listed]


def test_delete_rejected_by_sophos(owner_client, tenant, scanning):
    rejected = Conflict(
        "The exclusion is locked by the managing account.",
        status=409,
        correlation_id="cid-409",
    )
    with mock.patch(
        "sophos.services.exclusions.scanning_exclusion_delete",
        autospec=True,
        side_effect=rejected,
    ):
        response = owner_client.post(
            _url("scanning_exclusions_delete", tenant, scanning.id),
            headers={"HX-Request": "true"},
        )

    html = response.content.decode()
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#confirm-panel"
    assert "locked by the managing account" in html
    assert "cid-409" in html


# -- roles ---------------------------------------------------------------------------


def test_reader_sees_no_action_controls(client, tenant, allowed):
    login_reader(client, tenant)

    response = client.get(_url("allowed_items_list", tenant))
    detail = client.get(_url("allowed_items_detail", tenant, allowed.id))

    html = response.content.decode()
    assert response.status_code == 200
    assert SHA256 in html
    assert _url("allowed_items_create", tenant) not in html
    assert "/delete/" not in html
    assert "<h3>Edit</h3>" not in detail.content.decode()
    assert "/delete/" not in detail.content.decode()


@pytest.mark.parametrize(
    ("name", "with_item"),
    [
        ("allowed_items_create", False),
        ("allowed_items_detail", True),
        ("allowed_items_delete", True),
    ],
)
def test_reader_forged_post_is_forbidden(client, tenant, allowed, name, with_item):
    login_reader(client, tenant)
    args = [allowed.id] if with_item else []
    audited = AuditEntry.objects.count()

    with mock.patch(
        "sophos.services.resources.client_for", autospec=True
    ) as client_for:
        response = client.post(
            _url(name, tenant, *args),
            {"type": "sha256", "sha256": SHA256, "comment": "forged"},
        )

    assert response.status_code == 403
    client_for.assert_not_called()
    assert AuditEntry.objects.count() == audited


def test_technician_may_act(client, tenant):
    login_technician(client, tenant)

    response = client.get(_url("blocked_items_list", tenant))

    assert _url("blocked_items_create", tenant) in response.content.decode()


def test_tenant_outside_scope_is_not_found(client, tenant, demo_connection):
    other = simulator_tenant(demo_connection, index=1)
    login_reader(client, other)

    response = client.get(_url("scanning_exclusions_list", tenant))

    assert response.status_code == 404
