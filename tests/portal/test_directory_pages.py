import pytest
from django.urls import reverse

from portal.accounts.models import Role
from sophos.models import AuditEntry, Tenant
from sophos.services import directory
from tests.portal.factories import make_user
from tests.portal.simulator_calls import record_writes, reject

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenant(synced_fleet):
    return Tenant.objects.order_by("name").first()


@pytest.fixture
def reader_client(client, tenant):
    client.force_login(make_user(roles=[Role.READ_ONLY], tenants=[tenant]))
    return client


def _url(name, tenant, *args):
    return reverse(f"tenants:{name}", args=[tenant.pk, *args])


def _first_user(tenant):
    return directory.users_list(tenant=tenant).items[0]


def _group_with_members(tenant):
    for group in directory.user_groups_list(tenant=tenant).items:
        members = directory.user_group_users_list(tenant=tenant, group_id=group.id)
        if members.items:
            return group, members.items
    raise AssertionError("the seeded tenant has no group with members")


# Users


def test_users_list_full_page(owner_client, tenant):
    user = _first_user(tenant)

    response = owner_client.get(_url("directory_users_list", tenant))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert user.name in html
    assert "Add user" in html


def test_users_list_partial(owner_client, tenant):
    response = owner_client.get(
        _url("directory_users_list", tenant), headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert "<html" not in html
    assert 'id="directory-users-table"' in html


def test_users_list_csv(owner_client, tenant):
    user = _first_user(tenant)

    response = owner_client.get(
        _url("directory_users_list", tenant), {"format": "csv", "q": user.name}
    )

    body = response.content.decode()
    assert response["Content-Type"].startswith("text/csv")
    assert body.splitlines()[0].startswith("Name,Email")
    assert user.name in body


def test_user_create_adds_user(owner_client, tenant):
    response = owner_client.post(
        _url("directory_users_create", tenant),
        {"name": "Dana Test", "first_name": "Dana", "email": "dana@example.com"},
    )

    created = [
        user
        for user in directory.users_list(tenant=tenant).items
        if user.name == "Dana Test"
    ]
    assert response.status_code == 302
    assert len(created) == 1
    assert response["Location"] == _url("directory_users_detail", tenant, created[0].id)
    entry = AuditEntry.objects.get(operation="user_create")
    assert entry.outcome == AuditEntry.Outcome.SUCCEEDED
    assert entry.status_code == 201


def test_user_create_rejects_bad_email(owner_client, tenant, monkeypatch):
    writes = record_writes(monkeypatch)

    response = owner_client.post(
        _url("directory_users_create", tenant), {"name": "X", "email": "not-an-email"}
    )

    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()
    assert writes == []


def test_user_create_shows_sophos_rejection(owner_client, tenant, monkeypatch):
    rejection = reject(
        monkeypatch,
        "POST",
        r"/common/v1/directory/users$",
        409,
        "Email address already in use.",
    )

    response = owner_client.post(
        _url("directory_users_create", tenant),
        {"name": "Dup", "email": "dup@example.com"},
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "Email address already in use." in html
    assert rejection.correlation_id in html
    assert 'id="field-email"' in html


def test_user_detail_shows_groups(owner_client, tenant):
    group, members = _group_with_members(tenant)

    response = owner_client.get(_url("directory_users_detail", tenant, members[0].id))

    html = response.content.decode()
    assert response.status_code == 200
    assert group.name in html
    assert "Remove selected" in html
    assert "Add groups" in html


def test_user_detail_partial(owner_client, tenant):
    user = _first_user(tenant)

    response = owner_client.get(
        _url("directory_users_detail", tenant, user.id),
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    assert "<html" not in html
    assert 'id="related-table"' in html


def test_user_detail_unknown_is_404(owner_client, tenant):
    response = owner_client.get(
        _url("directory_users_detail", tenant, "00000000-0000-4000-8000-000000000000")
    )

    assert response.status_code == 404


def test_user_update_saves(owner_client, tenant):
    user = _first_user(tenant)

    response = owner_client.post(
        _url("directory_users_detail", tenant, user.id),
        {"name": "Renamed User", "email": user.email},
    )

    assert response.status_code == 302
    assert directory.user_get(tenant=tenant, user_id=user.id).name == "Renamed User"


def test_user_groups_add_shows_outcome(owner_client, tenant):
    user = directory.user_create(
        user=None, tenant=tenant, name="Joiner", email="joiner@example.com"
    )
    group = directory.user_groups_list(tenant=tenant).items[0]

    response = owner_client.post(
        _url("directory_user_groups_add", tenant, user.id),
        {"ids": [group.id]},
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Added 1 group." in html
    assert group.name in html
    memberships = directory.user_memberships_list(tenant=tenant, user_id=user.id)
    assert [item.id for item in memberships.items] == [group.id]


def test_user_groups_remove_lists_not_found(owner_client, tenant):
    group, members = _group_with_members(tenant)
    missing = "00000000-0000-4000-8000-000000000001"

    response = owner_client.post(
        _url("directory_user_groups_remove", tenant, members[0].id),
        {"ids": [group.id, missing]},
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    assert "Removed 1 group." in html
    assert missing in html


def test_user_groups_remove_needs_selection(owner_client, tenant, monkeypatch):
    user = _first_user(tenant)
    writes = record_writes(monkeypatch)

    response = owner_client.post(
        _url("directory_user_groups_remove", tenant, user.id),
        {},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 400
    assert "Select at least one to remove." in response.content.decode()
    assert writes == []


def test_user_delete_confirms_then_deletes(owner_client, tenant):
    user = directory.user_create(user=None, tenant=tenant, name="Leaver")
    url = _url("directory_users_delete", tenant, user.id)

    confirm = owner_client.get(url)
    response = owner_client.post(url)

    assert "Delete the user Leaver?" in confirm.content.decode()
    assert response.status_code == 302
    names = [item.name for item in directory.users_list(tenant=tenant).items]
    assert "Leaver" not in names


def test_synced_user_is_read_only(owner_client, tenant, monkeypatch):
    user = _first_user(tenant)
    synced = directory.DirectoryUser(
        **{**user.__dict__, "source_type": "activeDirectory"}
    )
    monkeypatch.setattr(directory, "user_get", lambda **kwargs: synced)
    writes = record_writes(monkeypatch)

    page = owner_client.get(_url("directory_users_detail", tenant, user.id))
    response = owner_client.post(
        _url("directory_user_groups_add", tenant, user.id),
        {"ids": [user.id]},
        headers={"HX-Request": "true"},
    )

    html = page.content.decode()
    assert "synced from Active Directory, so it is read-only here" in html
    assert "Remove selected" not in html
    assert ">Save<" not in html
    assert response.status_code == 409
    assert writes == []


def test_read_only_user_sees_no_controls(reader_client, tenant):
    group, members = _group_with_members(tenant)

    listing = reader_client.get(_url("directory_users_list", tenant)).content.decode()
    detail = reader_client.get(
        _url("directory_users_detail", tenant, members[0].id)
    ).content.decode()

    assert "Add user" not in listing
    assert "Remove selected" not in detail
    assert ">Save<" not in detail
    assert "Delete" not in detail


def test_read_only_user_forged_post_is_403(reader_client, tenant, monkeypatch):
    user = _first_user(tenant)
    writes = record_writes(monkeypatch)

    responses = [
        reader_client.post(_url("directory_users_create", tenant), {"name": "X"}),
        reader_client.post(
            _url("directory_users_detail", tenant, user.id), {"name": "X"}
        ),
        reader_client.post(
            _url("directory_user_groups_add", tenant, user.id), {"ids": [user.id]}
        ),
        reader_client.post(_url("directory_users_delete", tenant, user.id)),
    ]

    assert [response.status_code for response in responses] == [403] * 4
    assert writes == []


# User groups


def test_user_groups_list_full_and_partial(owner_client, tenant):
    group = directory.user_groups_list(tenant=tenant).items[0]

    page = owner_client.get(_url("user_groups_list", tenant))
    partial = owner_client.get(
        _url("user_groups_list", tenant), headers={"HX-Request": "true"}
    )

    assert group.name in page.content.decode()
    assert "<html" in page.content.decode()
    assert "<html" not in partial.content.decode()
    assert group.name in partial.content.decode()


def test_user_group_create_with_members(owner_client, tenant):
    user = _first_user(tenant)

    response = owner_client.post(
        _url("user_groups_create", tenant),
        {"name": "Auditors", "description": "Read the books", "members": [user.id]},
    )

    groups = {g.name: g for g in directory.user_groups_list(tenant=tenant).items}
    assert response.status_code == 302
    assert "Auditors" in groups
    members = directory.user_group_users_list(
        tenant=tenant, group_id=groups["Auditors"].id
    )
    assert [member.id for member in members.items] == [user.id]


def test_user_group_detail_lists_members(owner_client, tenant):
    group, members = _group_with_members(tenant)

    response = owner_client.get(_url("user_groups_detail", tenant, group.id))

    html = response.content.decode()
    assert response.status_code == 200
    assert members[0].name in html
    assert "Add members" in html


def test_user_group_update_saves(owner_client, tenant):
    group = directory.user_groups_list(tenant=tenant).items[0]

    response = owner_client.post(
        _url("user_groups_detail", tenant, group.id),
        {"name": "Renamed group", "description": ""},
    )

    assert response.status_code == 302
    assert directory.user_group_get(tenant=tenant, group_id=group.id).name == (
        "Renamed group"
    )


def test_user_group_members_add_and_remove(owner_client, tenant):
    group = directory.user_group_create(user=None, tenant=tenant, name="Empty")
    user = _first_user(tenant)

    added = owner_client.post(
        _url("user_group_members_add", tenant, group.id),
        {"ids": [user.id]},
        headers={"HX-Request": "true"},
    )
    removed = owner_client.post(
        _url("user_group_members_remove", tenant, group.id),
        {"ids": [user.id]},
        headers={"HX-Request": "true"},
    )

    assert "Added 1 member." in added.content.decode()
    assert user.name in added.content.decode()
    assert "Removed 1 member." in removed.content.decode()
    members = directory.user_group_users_list(tenant=tenant, group_id=group.id)
    assert members.items == []


def test_user_group_delete_with_members_explains(owner_client, tenant):
    group, _ = _group_with_members(tenant)
    url = _url("user_groups_delete", tenant, group.id)

    response = owner_client.post(url)

    html = response.content.decode()
    assert response.status_code == 409
    assert "Sophos Central deletes only empty groups" in html
    assert "Correlation id <code>" in html
    entry = AuditEntry.objects.get(operation="user_group_delete")
    assert entry.outcome == AuditEntry.Outcome.FAILED
    assert entry.status_code == 409


def test_user_group_delete_htmx_error_stays_in_panel(owner_client, tenant):
    group, _ = _group_with_members(tenant)

    response = owner_client.post(
        _url("user_groups_delete", tenant, group.id), headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert response["HX-Retarget"] == "#confirm-panel"
    assert "Sophos Central deletes only empty groups" in response.content.decode()


def test_user_group_delete_empty_group(owner_client, tenant):
    group = directory.user_group_create(user=None, tenant=tenant, name="Short lived")

    response = owner_client.post(_url("user_groups_delete", tenant, group.id))

    assert response.status_code == 302
    names = [g.name for g in directory.user_groups_list(tenant=tenant).items]
    assert "Short lived" not in names
