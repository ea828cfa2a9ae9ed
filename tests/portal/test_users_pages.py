import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from portal.access import tenants_visible, user_roles
from portal.accounts.models import Role, TenantAssignment, TenantGroup, UserRole
from sophos.models import AuditEntry
from tests.portal.factories import make_tenant, make_user

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Quiet-Harbour-Lamp-42"


@pytest.fixture
def admin_client(client):
    client.force_login(make_user(roles=[Role.ADMINISTRATOR], username="admin"))
    return client


@pytest.fixture
def tenant():
    return make_tenant(name="Contoso")


def _roles(user):
    return set(UserRole.objects.filter(user=user).values_list("role", flat=True))


def _entries(operation):
    return list(AuditEntry.objects.filter(operation=operation))


def test_users_list_shows_roles_and_assignments(owner_client, tenant):
    make_user(roles=[Role.TECHNICIAN], tenants=[tenant], username="alice")

    html = owner_client.get(reverse("users")).content.decode()

    assert "alice" in html
    assert "Technician" in html
    assert "Contoso" in html


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMINISTRATOR], ids=str)
def test_users_list_all_tenants_roles(owner_client, role):
    make_user(roles=[role], username="carol")

    html = owner_client.get(reverse("users")).content.decode()

    row = next(part for part in html.split("<tr>") if "carol" in part)
    assert "All tenants" in row
    assert ">None<" not in row


def test_users_list_disabled_owner_all_tenants(owner_client):
    make_user(roles=[Role.OWNER], username="erin", is_active=False)

    html = owner_client.get(reverse("users")).content.decode()

    row = next(part for part in html.split("<tr>") if "erin" in part)
    assert "All tenants" in row
    assert "Disabled" in row


def test_users_list_no_assignment_is_none(owner_client):
    make_user(roles=[Role.TECHNICIAN], username="dave")

    html = owner_client.get(reverse("users")).content.decode()

    row = next(part for part in html.split("<tr>") if "dave" in part)
    assert ">None<" in row
    assert "All tenants" not in row


@pytest.mark.parametrize(
    "role", [Role.TECHNICIAN, Role.READ_ONLY, Role.BILLING, None], ids=str
)
def test_users_pages_reject_other_roles(client, role):
    client.force_login(make_user(roles=[role] if role else []))

    assert client.get(reverse("users")).status_code == 403
    assert client.get(reverse("groups")).status_code == 403
    assert client.get(reverse("user_create")).status_code == 403


def test_it_creates_a_user_with_roles_and_tenants(owner_client, tenant):
    group = TenantGroup.objects.create(name="North")

    response = owner_client.post(
        reverse("user_create"),
        {
            "username": "bob",
            "email": "bob@example.com",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "roles": [Role.TECHNICIAN, Role.BILLING],
            "tenants": [str(tenant.pk)],
            "groups": [str(group.pk)],
        },
    )

    bob = get_user_model().objects.get(username="bob")
    assert response.status_code == 302
    assert response["Location"] == reverse("user_edit", args=[bob.pk])
    assert bob.check_password(NEW_PASSWORD)
    assert _roles(bob) == {Role.TECHNICIAN, Role.BILLING}
    assert TenantAssignment.objects.filter(user=bob, tenant=tenant).exists()
    assert TenantAssignment.objects.filter(user=bob, group=group).exists()


def test_user_create_audit_has_no_password(owner_client, tenant):
    owner_client.post(
        reverse("user_create"),
        {
            "username": "bob",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "roles": [Role.READ_ONLY],
        },
    )

    [entry] = _entries("user_create")
    assert entry.username == "owner"
    assert entry.outcome == "succeeded"
    assert entry.parameters["username"] == "bob"
    assert entry.parameters["roles"] == [Role.READ_ONLY]
    assert NEW_PASSWORD not in str(entry.parameters)
    assert NEW_PASSWORD not in entry.message


def test_user_create_rejects_weak_and_mismatched_passwords(owner_client):
    weak = owner_client.post(
        reverse("user_create"),
        {"username": "bob", "password1": "123", "password2": "123"},
    )
    mismatched = owner_client.post(
        reverse("user_create"),
        {"username": "bob", "password1": NEW_PASSWORD, "password2": "other-pass-99"},
    )

    assert weak.status_code == 200
    assert weak.context["form"].errors["password1"]
    assert mismatched.context["form"].errors["password2"]
    assert not get_user_model().objects.filter(username="bob").exists()


def test_user_create_rejects_taken_username(owner_client):
    make_user(username="bob")

    response = owner_client.post(
        reverse("user_create"),
        {"username": "BOB", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert "taken" in str(response.context["form"].errors["username"])


def test_it_keeps_administrators_from_granting_owner(admin_client):
    response = admin_client.post(
        reverse("user_create"),
        {
            "username": "mallory",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "roles": [Role.OWNER],
        },
    )

    assert response.status_code == 200
    assert "roles" in response.context["form"].errors
    assert not get_user_model().objects.filter(username="mallory").exists()


def test_administrator_form_offers_no_owner_role(admin_client):
    response = admin_client.get(reverse("user_create"))

    choices = [value for value, _ in response.context["form"].fields["roles"].choices]
    assert Role.OWNER not in choices
    assert Role.ADMINISTRATOR in choices


def test_administrator_cannot_edit_an_owner(admin_client):
    boss = make_user(roles=[Role.OWNER], username="boss")

    page = admin_client.get(reverse("user_edit", args=[boss.pk]))
    disable = admin_client.post(reverse("user_disable", args=[boss.pk]))
    password = admin_client.post(
        reverse("user_password", args=[boss.pk]),
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    boss.refresh_from_db()
    assert page.status_code == 403
    assert disable.status_code == 403
    assert password.status_code == 403
    assert boss.is_active
    assert not boss.check_password(NEW_PASSWORD)


def test_it_sets_roles_and_assignments(owner_client, tenant):
    other = make_tenant(name="Fabrikam")
    group = TenantGroup.objects.create(name="South")
    carol = make_user(roles=[Role.READ_ONLY], tenants=[other], username="carol")

    response = owner_client.post(
        reverse("user_edit", args=[carol.pk]),
        {
            "email": "carol@example.com",
            "roles": [Role.TECHNICIAN],
            "tenants": [str(tenant.pk)],
            "groups": [str(group.pk)],
        },
    )

    carol = get_user_model().objects.get(pk=carol.pk)
    assert response.status_code == 302
    assert carol.email == "carol@example.com"
    assert _roles(carol) == {Role.TECHNICIAN}
    assert set(tenants_visible(carol)) == {tenant}
    [roles_entry] = _entries("user_roles_set")
    assert roles_entry.parameters["roles"] == [Role.TECHNICIAN]
    assert roles_entry.parameters["previous_roles"] == [Role.READ_ONLY]
    [assign_entry] = _entries("user_assignments_set")
    assert assign_entry.parameters["tenants"] == [str(tenant.pk)]
    assert assign_entry.parameters["groups"] == ["South"]
    assert assign_entry.parameters["previous_tenants"] == [str(other.pk)]
    assert len(_entries("user_update")) == 1


def test_unchanged_edit_records_nothing(owner_client):
    carol = make_user(roles=[Role.READ_ONLY], username="carol")

    owner_client.post(
        reverse("user_edit", args=[carol.pk]), {"roles": [Role.READ_ONLY]}
    )

    assert AuditEntry.objects.count() == 0


def test_it_keeps_the_last_owner(client):
    only = make_user(roles=[Role.OWNER], username="only")
    client.force_login(only)

    response = client.post(reverse("user_edit", args=[only.pk]), {"roles": []})

    assert response.status_code == 200
    assert "last active owner" in response.content.decode()
    assert _roles(only) == {Role.OWNER}


def test_it_disables_a_user_and_ends_sessions(owner_client):
    dave = make_user(roles=[Role.TECHNICIAN], username="dave")
    dave_client = Client()
    dave_client.force_login(dave)
    assert dave_client.get(reverse("fleet")).status_code == 200

    response = owner_client.post(reverse("user_disable", args=[dave.pk]))

    dave.refresh_from_db()
    assert response.status_code == 302
    assert not dave.is_active
    assert not any(
        s.get_decoded().get("_auth_user_id") == str(dave.pk)
        for s in Session.objects.all()
    )
    assert dave_client.get(reverse("fleet")).status_code == 302
    [entry] = _entries("user_disable")
    assert entry.parameters["sessions_ended"] == 1


def test_disabled_user_cannot_log_in(owner_client):
    dave = make_user(username="dave")
    owner_client.post(reverse("user_disable", args=[dave.pk]))
    dave_client = Client()

    response = dave_client.post(
        reverse("login"), {"username": "dave", "password": "tech-password-1"}
    )

    assert response.status_code == 200
    assert dave_client.get(reverse("fleet")).status_code == 302


def test_it_enables_a_disabled_user(owner_client):
    dave = make_user(username="dave", is_active=False)

    owner_client.post(reverse("user_enable", args=[dave.pk]))

    dave.refresh_from_db()
    assert dave.is_active
    assert len(_entries("user_enable")) == 1


def test_user_cannot_disable_themselves(client):
    admin = make_user(roles=[Role.ADMINISTRATOR], username="admin")
    client.force_login(admin)

    client.post(reverse("user_disable", args=[admin.pk]))

    admin.refresh_from_db()
    assert admin.is_active
    assert _entries("user_disable") == []


def test_it_sets_a_password_without_recording_it(owner_client):
    dave = make_user(username="dave")

    response = owner_client.post(
        reverse("user_password", args=[dave.pk]),
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    dave.refresh_from_db()
    assert response.status_code == 302
    assert dave.check_password(NEW_PASSWORD)
    [entry] = _entries("user_password_set")
    assert entry.parameters == {"username": "dave"}


def test_password_form_rejects_mismatch(owner_client):
    dave = make_user(username="dave")

    response = owner_client.post(
        reverse("user_password", args=[dave.pk]),
        {"new_password1": NEW_PASSWORD, "new_password2": "something-else-77"},
    )

    dave.refresh_from_db()
    assert response.status_code == 400
    assert not dave.check_password(NEW_PASSWORD)


def test_unknown_user_is_404(owner_client):
    assert owner_client.get(reverse("user_edit", args=[999999])).status_code == 404


def test_it_manages_tenant_groups(owner_client, tenant):
    other = make_tenant(name="Fabrikam")

    created = owner_client.post(
        reverse("group_create"),
        {"name": "North", "description": "Northern customers", "tenants": [tenant.pk]},
    )
    group = TenantGroup.objects.get(name="North")
    updated = owner_client.post(
        reverse("group_edit", args=[group.pk]),
        {"name": "North-East", "description": "", "tenants": [tenant.pk, other.pk]},
    )
    listing = owner_client.get(reverse("groups")).content.decode()
    deleted = owner_client.post(reverse("group_delete", args=[group.pk]))

    assert created.status_code == 302
    assert updated.status_code == 302
    assert "North-East" in listing
    assert deleted.status_code == 302
    assert not TenantGroup.objects.exists()
    operations = list(
        AuditEntry.objects.order_by("id").values_list("operation", flat=True)
    )
    assert operations == [
        "tenant_group_create",
        "tenant_group_update",
        "tenant_group_delete",
    ]


def test_group_change_reaches_assigned_users(owner_client, tenant):
    group = TenantGroup.objects.create(name="North")
    erin = make_user(roles=[Role.TECHNICIAN], groups=[group], username="erin")
    assert tenants_visible(erin).count() == 0

    owner_client.post(
        reverse("group_edit", args=[group.pk]),
        {"name": "North", "tenants": [tenant.pk]},
    )

    erin = get_user_model().objects.get(pk=erin.pk)
    assert list(tenants_visible(erin)) == [tenant]


def test_group_name_must_be_unique(owner_client):
    TenantGroup.objects.create(name="North")

    response = owner_client.post(reverse("group_create"), {"name": "North"})

    assert response.status_code == 200
    assert "name" in response.context["form"].errors


def test_new_user_role_reaches_access_rules(owner_client):
    owner_client.post(
        reverse("user_create"),
        {
            "username": "fay",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "roles": [Role.BILLING],
        },
    )

    fay = get_user_model().objects.get(username="fay")
    assert user_roles(fay) == frozenset({Role.BILLING})
