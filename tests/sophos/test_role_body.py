import pytest

from sophos.services.tenant_admins import role_body


def test_role_body_for_update():
    body = role_body(name=" Helpdesk ", description="", permission_sets=["ps-1"])

    assert body == {"name": "Helpdesk", "description": "", "permissionSets": ["ps-1"]}


def test_role_body_for_create():
    body = role_body(
        name="Helpdesk",
        description="First line",
        permission_sets=["ps-1", "ps-2"],
        principal_type="service",
    )

    assert body["principalType"] == "service"
    assert body["permissionSets"] == ["ps-1", "ps-2"]


def test_role_body_rejects_principal_type():
    with pytest.raises(ValueError, match="'robot' is invalid"):
        role_body(
            name="Helpdesk",
            description="",
            permission_sets=[],
            principal_type="robot",
        )


def test_role_body_needs_permission_set():
    with pytest.raises(ValueError, match="at least one permission set"):
        role_body(name="Helpdesk", description="", permission_sets=[])
