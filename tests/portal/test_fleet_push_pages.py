"""The item push pages: form, dry run, push, detail and undo."""

from __future__ import annotations

import pytest
from django.urls import reverse

from portal.accounts.models import Role, TenantGroup
from sophos.models import JobItem, Tenant
from sophos.models_fleet import ItemPush, ItemPushTarget
from sophos.services import exclusions
from tests.portal.factories import make_user
from tests.portal.simulator_calls import record_writes

pytestmark = pytest.mark.django_db

SHA = "d" * 64
LIST_URL = reverse("fleet_ops:push_list")
CREATE_URL = reverse("fleet_ops:push_create")


@pytest.fixture(autouse=True)
def _no_call_budget(settings):
    settings.SOPHOS_CALLS_PER_MINUTE = 0


@pytest.fixture
def tenants(synced_fleet):
    return list(Tenant.objects.order_by("name"))


@pytest.fixture
def post(django_capture_on_commit_callbacks):
    """POST and run the queued job inline."""

    def post(client, url, data=None):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data or {})

    return post


def _form(tenants, action="push", **fields):
    data = {
        "kind": "blocked",
        "item_type": "sha256",
        "value": SHA,
        "comment": "Ransomware sample",
        "tenants": [str(tenant.pk) for tenant in tenants],
        "action": action,
    }
    data.update(fields)
    return data


def _hashes(tenant):
    items = exclusions.blocked_items_list(tenant=tenant).items
    return [item.properties.sha256 for item in items]


def test_list_page_full_and_partial(owner_client, tenants):
    full = owner_client.get(LIST_URL)
    partial = owner_client.get(LIST_URL, headers={"HX-Request": "true"})

    assert full.status_code == 200
    assert b"<html" in full.content
    assert b"Push an item" in full.content
    assert partial.status_code == 200
    assert b"<html" not in partial.content
    assert b'id="push-table"' in partial.content


def test_list_counts_pushes(owner_client, tenants, post):
    no_push = owner_client.get(LIST_URL).content.decode()
    post(owner_client, CREATE_URL, _form(tenants[:1], action="preview"))
    one_push = owner_client.get(LIST_URL).content.decode()
    post(owner_client, CREATE_URL, _form(tenants[:1], action="preview"))
    two_pushes = owner_client.get(LIST_URL).content.decode()

    assert '<p class="count">0 pushes</p>' in no_push
    assert '<p class="count">1 push, showing 1–1</p>' in one_push
    assert '<p class="count">2 pushes, showing 1–2</p>' in two_pushes
    assert "pushs" not in two_pushes


def test_form_page_full_and_partial(owner_client, tenants):
    full = owner_client.get(CREATE_URL)
    partial = owner_client.get(CREATE_URL, headers={"HX-Request": "true"})

    assert full.status_code == 200
    assert b"<html" in full.content
    assert tenants[0].name.encode() in full.content
    assert b"<html" not in partial.content
    assert b'id="push-form"' in partial.content


def test_invalid_sha256_shows_error(owner_client, tenants, monkeypatch):
    writes = record_writes(monkeypatch)

    response = owner_client.post(CREATE_URL, _form(tenants[:1], value="abc123"))

    assert response.status_code == 400
    assert "A SHA-256 hash is 64 hexadecimal characters" in response.content.decode()
    assert writes == []
    assert not ItemPush.objects.exists()


def test_no_target_is_rejected(owner_client, tenants):
    response = owner_client.post(CREATE_URL, _form([]))

    assert response.status_code == 400
    assert b"Choose at least one tenant or tenant group." in response.content


def test_preview_is_a_dry_run(owner_client, tenants, post, monkeypatch):
    writes = record_writes(monkeypatch)

    response = post(owner_client, CREATE_URL, _form(tenants[:2], action="preview"))

    push = ItemPush.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("fleet_ops:push_detail", args=[push.pk])
    assert push.dry_run is True
    assert writes == []
    page = owner_client.get(response["Location"]).content.decode()
    assert "Dry run" in page
    assert "Would add the blocked item" in page
    assert "Push now to these tenants" in page


def test_run_after_preview_pushes(owner_client, tenants, post):
    post(owner_client, CREATE_URL, _form(tenants[:2], action="preview"))
    preview = ItemPush.objects.get()

    response = post(owner_client, reverse("fleet_ops:push_run", args=[preview.pk]))

    push = ItemPush.objects.exclude(pk=preview.pk).get()
    assert response["Location"] == reverse("fleet_ops:push_detail", args=[push.pk])
    assert push.dry_run is False
    assert SHA in _hashes(tenants[0])
    assert SHA in _hashes(tenants[1])


def test_push_detail_shows_ids(owner_client, tenants, post):
    post(owner_client, CREATE_URL, _form(tenants[:2]))
    push = ItemPush.objects.get()
    url = reverse("fleet_ops:push_detail", args=[push.pk])

    full = owner_client.get(url)
    partial = owner_client.get(url, headers={"HX-Request": "true"})

    html = full.content.decode()
    for target in push.targets.all():
        assert target.item_id in html
    assert "Undo the push (2 items)" in html
    assert b"<html" not in partial.content
    assert b'id="push-detail"' in partial.content


def test_push_to_group(owner_client, tenants, post):
    group = TenantGroup.objects.create(name="Clinics")
    group.tenants.add(tenants[2], tenants[3])

    post(owner_client, CREATE_URL, _form([], groups=[str(group.pk)]))

    push = ItemPush.objects.get()
    assert sorted(push.targets.values_list("tenant_id", flat=True)) == sorted(
        [tenants[2].pk, tenants[3].pk]
    )


def test_undo_confirms_then_deletes(owner_client, tenants, post):
    exclusions.blocked_item_create(
        user=None,
        tenant=tenants[0],
        properties=exclusions.ItemProperties(sha256=SHA),
        comment="Before",
    )
    post(owner_client, CREATE_URL, _form(tenants[:2]))
    push = ItemPush.objects.get()
    url = reverse("fleet_ops:push_undo", args=[push.pk])

    confirm = owner_client.get(url).content.decode()
    response = post(owner_client, url)

    assert "Delete 1 item" in confirm
    assert "had the item before the push; it stays" in confirm
    assert response.status_code == 302
    assert SHA in _hashes(tenants[0])
    assert SHA not in _hashes(tenants[1])
    statuses = dict(push.targets.values_list("tenant_id", "status"))
    assert statuses[tenants[0].pk] == ItemPushTarget.Status.ALREADY_PRESENT
    assert statuses[tenants[1].pk] == ItemPushTarget.Status.REMOVED


def test_read_only_cannot_push(client, tenants, monkeypatch):
    reader = make_user(roles=[Role.READ_ONLY], tenants=[tenants[0]])
    client.force_login(reader)
    writes = record_writes(monkeypatch)

    form = client.get(CREATE_URL)
    response = client.post(CREATE_URL, _form(tenants[:1]))

    assert form.status_code == 403
    assert response.status_code == 403
    assert writes == []
    assert b"Push an item" not in client.get(LIST_URL).content


def test_technician_cannot_pick_other_tenant(client, tenants, monkeypatch):
    technician = make_user(roles=[Role.TECHNICIAN], tenants=[tenants[0]])
    client.force_login(technician)
    writes = record_writes(monkeypatch)

    response = client.post(CREATE_URL, _form(tenants[1:2]))

    assert response.status_code == 400
    assert writes == []
    assert not ItemPush.objects.exists()
    assert tenants[1].name not in client.get(CREATE_URL).content.decode()


def test_technician_group_push_stays_in_scope(client, tenants, post):
    group = TenantGroup.objects.create(name="Mixed")
    group.tenants.add(tenants[0], tenants[1])
    technician = make_user(roles=[Role.TECHNICIAN], tenants=[tenants[0]])
    client.force_login(technician)

    post(client, CREATE_URL, _form([], groups=[str(group.pk)]))

    push = ItemPush.objects.get()
    assert list(push.job.items.values_list("tenant_id", flat=True)) == [tenants[0].pk]
    assert SHA not in _hashes(tenants[1])


def test_other_users_push_is_hidden(client, owner_client, tenants, post):
    post(owner_client, CREATE_URL, _form(tenants[:1]))
    push = ItemPush.objects.get()
    technician = make_user(roles=[Role.TECHNICIAN], tenants=[tenants[0]])
    client.force_login(technician)

    detail = client.get(reverse("fleet_ops:push_detail", args=[push.pk]))
    undo = client.post(reverse("fleet_ops:push_undo", args=[push.pk]))

    assert detail.status_code == 404
    assert undo.status_code == 404
    assert SHA in _hashes(tenants[0])


def test_failed_tenant_shows_correlation_id(owner_client, tenants, post):
    from sophos.simulator.faults import set_faults

    set_faults(forbidden_tenant_ids=[str(tenants[1].pk)])

    post(owner_client, CREATE_URL, _form(tenants[:2]))

    push = ItemPush.objects.get()
    failed = push.job.items.get(status=JobItem.Status.FAILED)
    page = owner_client.get(reverse("fleet_ops:push_detail", args=[push.pk]))
    assert failed.correlation_id in page.content.decode()
    assert b"1 failed" in page.content
