import pytest

from sophos.errors import ApiError, NotFound
from sophos.models import AuditEntry, Endpoint, Tenant
from sophos.services import policies
from sophos.services.policies import PolicyAssignment


@pytest.fixture
def tenant(synced_fleet):
    return Tenant.objects.filter(endpoints__isnull=False).order_by("name").first()


@pytest.fixture
def base(tenant):
    return policies.base_policy_get(tenant=tenant, policy_type="threat-protection")


@pytest.fixture
def custom(tenant, owner):
    return policies.policy_create(
        user=owner,
        tenant=tenant,
        name="Strict scanning",
        type="threat-protection",
        priority=3,
    )


def test_policies_list_includes_base_policies(tenant):
    listed = policies.policies_list(tenant=tenant, policy_type="threat-protection")

    assert [p.type for p in listed] == ["threat-protection"]
    assert listed[0].is_base


def test_policy_get_labels_and_kinds(tenant, base):
    detail = policies.policy_get(tenant=tenant, policy_id=base.id)

    malware = detail.setting("endpoint.malware.enabled")
    days = detail.setting("endpoint.scans.scheduled.days")
    assert malware.kind == policies.BOOLEAN
    assert malware.has_recommended
    assert malware.is_recommended
    assert malware.label == "Endpoint malware enabled"
    assert days.kind == policies.LIST
    assert days.value == ["monday", "wednesday", "friday"]


def test_policy_settings_metadata_for_one_type(tenant):
    metadata = policies.policy_settings_metadata_get(
        tenant=tenant, policy_type="web-control"
    )

    assert "endpoint.web-control.enabled" in metadata
    assert metadata["endpoint.web-control.enabled"].type == "boolean"
    assert "endpoint.malware.enabled" not in metadata


def test_policy_update_settings_and_name(tenant, custom, owner):
    updated = policies.policy_update(
        user=owner,
        tenant=tenant,
        policy_id=custom.id,
        name="Stricter scanning",
        settings={"endpoint.scans.scheduled.enabled": True},
    )

    detail = policies.policy_get(tenant=tenant, policy_id=custom.id)
    assert updated.name == "Stricter scanning"
    assert detail.setting("endpoint.scans.scheduled.enabled").value is True
    entry = AuditEntry.objects.get(operation="policy_update")
    assert entry.parameters["name"] == "Stricter scanning"


def test_policy_update_nothing_raises(tenant, custom, owner):
    with pytest.raises(ValueError, match="Nothing to change"):
        policies.policy_update(user=owner, tenant=tenant, policy_id=custom.id)


def test_policy_clone_and_delete(tenant, custom, owner):
    clone = policies.policy_clone(
        user=owner, tenant=tenant, policy_id=custom.id, name="Copy of strict"
    )
    policies.policy_delete(user=owner, tenant=tenant, policy_id=clone.id)

    assert clone.id != custom.id
    assert clone.name == "Copy of strict"
    with pytest.raises(NotFound):
        policies.policy_get(tenant=tenant, policy_id=clone.id)


def test_policy_delete_base_is_rejected(tenant, base, owner):
    with pytest.raises(ApiError) as caught:
        policies.policy_delete(user=owner, tenant=tenant, policy_id=base.id)

    assert caught.value.correlation_id
    assert AuditEntry.objects.get().outcome == "failed"


def test_policy_setting_reset_one_and_all(tenant, custom, owner):
    key = "endpoint.malware.enabled"
    policies.policy_update(
        user=owner, tenant=tenant, policy_id=custom.id, settings={key: False}
    )
    policies.policy_setting_reset(
        user=owner, tenant=tenant, policy_id=custom.id, key=key
    )
    after_one = policies.policy_get(tenant=tenant, policy_id=custom.id)
    policies.policy_update(
        user=owner, tenant=tenant, policy_id=custom.id, settings={key: False}
    )
    policies.policy_settings_reset(user=owner, tenant=tenant, policy_id=custom.id)
    after_all = policies.policy_get(tenant=tenant, policy_id=custom.id)

    assert after_one.setting(key).value is True
    assert after_all.setting(key).value is True


def test_policy_compare_with_base(tenant, custom, owner):
    policies.policy_update(
        user=owner,
        tenant=tenant,
        policy_id=custom.id,
        settings={"endpoint.scans.scheduled.enabled": True},
    )

    comparison = policies.policy_compare(tenant=tenant, policy_id=custom.id)

    differing = [row.key for row in comparison.rows if row.differs]
    assert differing == ["endpoint.scans.scheduled.enabled"]
    assert comparison.differences == 1


def test_policy_assignment_round_trip(tenant, custom, owner):
    endpoint = Endpoint.objects.filter(tenant=tenant).first()
    options = policies.policy_assignment_options(tenant=tenant)
    user_id = options.users[0][0]
    group_id = options.user_groups[0][0]
    assignment = PolicyAssignment(
        users=[user_id], user_groups=[group_id], endpoints=[str(endpoint.pk)]
    )

    policies.policy_update(
        user=owner, tenant=tenant, policy_id=custom.id, applies_to=assignment
    )

    detail = policies.policy_get(tenant=tenant, policy_id=custom.id)
    assert detail.applies_to.users == [user_id]
    assert detail.applies_to.user_groups == [group_id]
    assert detail.applies_to.endpoints == [str(endpoint.pk)]
    applied = policies.policies_of_endpoint(tenant=tenant, endpoint_id=endpoint.pk)
    by_type = {a.policy.type: a for a in applied}
    assert by_type["threat-protection"].policy.id == custom.id
    assert by_type["threat-protection"].reason == "Assigned to this endpoint."
    assert by_type["web-control"].policy.is_base
