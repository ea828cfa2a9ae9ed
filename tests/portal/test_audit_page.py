import csv
import datetime
import io
import uuid
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.accounts.audit_views import csv_cell
from portal.accounts.models import Role
from sophos.models import AuditEntry
from sophos.services.audit import audit_record
from tests.portal.factories import make_user

pytestmark = pytest.mark.django_db

AUDIT_URL = reverse("audit")
EXPORT_URL = reverse("audit_export")
TENANT_A = uuid.UUID("aaaaaaaa-0000-4000-8000-000000000001")
TENANT_B = uuid.UUID("bbbbbbbb-0000-4000-8000-000000000002")


@pytest.fixture
def admin_client(client):
    client.force_login(make_user(roles=[Role.ADMINISTRATOR], username="admin"))
    return client


def _record(operation, *, username="alice", tenant_id=None, at=None, **fields):
    user = make_user(username=f"{username}-{uuid.uuid4().hex[:6]}")
    # The entry's time comes from timezone.now() when it is saved, and the
    # log rejects updates, so an older entry is made by moving the clock.
    with mock.patch("django.utils.timezone.now", return_value=at or timezone.now()):
        return audit_record(
            user=user,
            operation=operation,
            outcome=fields.pop("outcome", AuditEntry.Outcome.SUCCEEDED),
            tenant_id=tenant_id,
            tenant_name=fields.pop("tenant_name", "Contoso" if tenant_id else ""),
            **fields,
        )


def _csv(response):
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize(
    "role", [Role.TECHNICIAN, Role.READ_ONLY, Role.BILLING, None], ids=str
)
def test_audit_rejects_other_roles(client, role):
    client.force_login(make_user(roles=[role] if role else []))

    assert client.get(AUDIT_URL).status_code == 403
    assert client.get(EXPORT_URL).status_code == 403


def test_audit_requires_login(client):
    response = client.get(AUDIT_URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_audit_lists_newest_first(owner_client):
    old = _record("user_create", at=timezone.now() - datetime.timedelta(days=2))
    new = _record("alert_action_perform", tenant_id=TENANT_A)

    response = owner_client.get(AUDIT_URL)

    assert response.status_code == 200
    assert list(response.context["page"]) == [new, old]
    html = response.content.decode()
    assert "alert_action_perform" in html
    assert "Contoso" in html


def test_audit_htmx_returns_table_only(admin_client):
    _record("user_create")

    response = admin_client.get(AUDIT_URL, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="audit-table"')
    assert "<html" not in html


def test_audit_filters_by_user_tenant_and_operation(admin_client):
    wanted = _record("alert_action_perform", username="alice", tenant_id=TENANT_A)
    _record("alert_action_perform", username="bob", tenant_id=TENANT_A)
    _record("alert_action_perform", username="alice", tenant_id=TENANT_B)
    _record("user_create", username="alice", tenant_id=TENANT_A)

    response = admin_client.get(
        AUDIT_URL,
        {
            "user": wanted.username,
            "tenant": str(TENANT_A),
            "operation": "alert_action_perform",
        },
    )

    assert list(response.context["page"]) == [wanted]


def test_audit_filters_by_date_range(admin_client):
    now = timezone.now()
    _record("too_old", at=now - datetime.timedelta(days=10))
    inside = _record("inside", at=now - datetime.timedelta(days=5))
    _record("too_new", at=now)
    first = timezone.localdate(now - datetime.timedelta(days=6))
    last = timezone.localdate(now - datetime.timedelta(days=4))

    response = admin_client.get(
        AUDIT_URL, {"since": first.isoformat(), "until": last.isoformat()}
    )

    assert list(response.context["page"]) == [inside]


def test_audit_last_day_is_inclusive(admin_client):
    today = timezone.localdate()
    entry = _record("today")

    response = admin_client.get(AUDIT_URL, {"until": today.isoformat()})

    assert list(response.context["page"]) == [entry]


def test_audit_reports_reversed_range(admin_client):
    response = admin_client.get(
        AUDIT_URL, {"since": "2025-02-01", "until": "2025-01-01"}
    )

    assert response.status_code == 200
    assert "before the first day" in response.content.decode()


def test_audit_ignores_unknown_filter_values(admin_client):
    entry = _record("user_create")

    response = admin_client.get(
        AUDIT_URL, {"user": "nobody", "tenant": "not-a-uuid", "page": "x"}
    )

    assert list(response.context["page"]) == [entry]


def test_audit_paginates_50_per_page(admin_client):
    for number in range(51):
        audit_record(user=None, operation=f"op_{number:02d}", outcome="succeeded")

    first = admin_client.get(AUDIT_URL)
    second = admin_client.get(AUDIT_URL, {"page": 2})

    assert len(first.context["page"]) == 50
    assert len(second.context["page"]) == 1
    assert "Page 1 of 2" in first.content.decode()


def test_audit_export_honours_filters(admin_client):
    wanted = _record(
        "alert_action_perform",
        tenant_id=TENANT_A,
        status_code=200,
        correlation_id="corr-1",
        parameters={"action": "acknowledge"},
    )
    _record("user_create")

    response = admin_client.get(EXPORT_URL, {"operation": "alert_action_perform"})

    rows = _csv(response)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert rows[0][:4] == ["time", "username", "operation", "outcome"]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["username"] == wanted.username
    assert row["tenant_id"] == str(TENANT_A)
    assert row["status_code"] == "200"
    assert row["correlation_id"] == "corr-1"
    assert row["parameters"] == '{"action": "acknowledge"}'


def test_it_neutralises_formulas_in_the_export(admin_client):
    _record(
        "user_update",
        tenant_id=TENANT_A,
        tenant_name='=HYPERLINK("http://x")',
        message="+1+1",
    )

    rows = _csv(admin_client.get(EXPORT_URL))

    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["tenant_name"] == '\'=HYPERLINK("http://x")'
    assert row["message"] == "'+1+1"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (42, "42"),
    ],
)
def test_csv_cell(value, expected):
    assert csv_cell(value) == expected


def test_audit_entries_stay_append_only(admin_client):
    entry = _record("user_create")

    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(PermissionError):
        entry.save()


def test_audit_shows_operation_labels(admin_client):
    _record("alert_action_perform", tenant_id=TENANT_A)
    _record("fleet.onboarding.run")

    html = admin_client.get(AUDIT_URL).content.decode()

    assert '<th scope="row" title="alert_action_perform">Alert action</th>' in html
    assert 'title="fleet.onboarding.run">Fleet: Customer onboarding</th>' in html
    assert '<option value="alert_action_perform">Alert action</option>' in html


def test_audit_tells_portal_users_from_directory_users(admin_client):
    _record("user_create")
    _record("user_create", tenant_id=TENANT_A)

    html = admin_client.get(AUDIT_URL).content.decode()

    assert 'title="user_create">Portal user: create</th>' in html
    assert 'title="user_create">Directory user: create</th>' in html
    assert '<option value="user_create">Portal or directory user: create' in html


def test_audit_details_read_as_key_value_list(admin_client):
    _record(
        "user_update",
        message="Updated",
        parameters={"message": None, "roles": ["owner"], "dry_run": True},
    )

    html = admin_client.get(AUDIT_URL).content.decode()

    assert "<dt>Message</dt><dd>—</dd>" in html
    assert "<dt>Roles</dt><dd>[&quot;owner&quot;]</dd>" in html
    assert "<dt>Dry run</dt><dd>yes</dd>" in html
    assert "{&#x27;message&#x27;: None" not in html


def test_audit_export_keeps_raw_codes(admin_client):
    _record("user_create", parameters={"message": None})

    rows = _csv(admin_client.get(EXPORT_URL))

    assert rows[1][2] == "user_create"
    assert rows[1][-1] == '{"message": null}'
