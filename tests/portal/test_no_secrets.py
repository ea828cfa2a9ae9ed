"""A connection's client secret never leaves the encrypted column.

An owner adds a connection whose secret is a marker string, syncs it, and
then every page is fetched. The marker must not appear in any page, log
record, audit entry or task argument, and every page must carry the
Content Security Policy without inline code.
"""

import datetime
import json
import logging
from html.parser import HTMLParser

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.views.debug import ExceptionReporter
from django_q.models import OrmQ, Task
from django_q.tasks import SignedPackage

from sophos.models import Alert, AuditEntry, Connection, Endpoint, Job
from sophos.simulator.seed import demo_credential, register_credential

pytestmark = pytest.mark.django_db

MARKER = "MARKER-c0ffee-secret-9d1e4b7a"
LOGGERS = ("", "django", "httpx", "httpcore", "axes", "sophos", "portal")


@pytest.fixture
def debug_logs(caplog):
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


@pytest.fixture
def task_packages(monkeypatch):
    """Every task handed to django-q2, as the dict it signs."""
    packages = []
    original = SignedPackage.dumps

    def record(obj, *args, **kwargs):
        packages.append(obj)
        return original(obj, *args, **kwargs)

    monkeypatch.setattr(SignedPackage, "dumps", staticmethod(record))
    return packages


@pytest.fixture
def marked_connection(
    client, owner, debug_logs, task_packages, django_capture_on_commit_callbacks
):
    """A connection added and synced through the pages, secret = MARKER."""
    credential = register_credential(
        id_type="partner",
        principal_id=demo_credential().partner_id,
        client_secret=MARKER,
    )
    client.force_login(owner)
    form = {
        "name": "Marked partner",
        "transport": Connection.Transport.SIMULATOR,
        "client_id": credential.client_id,
        "client_secret": MARKER,
        "credential_created_on": "2025-02-01",
    }
    pages = {
        "add, wrong secret": client.post(
            reverse("connection_add"), {**form, "client_secret": MARKER + "-wrong"}
        ),
        "add": client.post(reverse("connection_add"), form, follow=True),
    }
    connection = Connection.objects.get(name="Marked partner")
    edit_url = reverse("connection_edit", args=[connection.pk])
    pages["edit, wrong secret"] = client.post(
        edit_url, {**form, "client_secret": MARKER + "-wrong"}
    )
    pages["edit, same secret"] = client.post(edit_url, form, follow=True)
    with django_capture_on_commit_callbacks(execute=True):
        pages["sync"] = client.post(reverse("sync_start"), follow=True)
    return connection, pages


def _routes(resolver, namespace="", inherited=frozenset()):
    """Yield (name, argument names) for every named URL pattern."""
    for entry in resolver.url_patterns:
        arguments = inherited | set(entry.pattern.converters)
        if isinstance(entry, URLResolver):
            prefix = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _routes(entry, prefix, frozenset(arguments))
        elif isinstance(entry, URLPattern) and entry.name:
            yield namespace + entry.name, arguments


def _arguments(connection, owner):
    tenant = connection.tenants.filter(sync_status="ok").first()
    assert tenant is not None, "the marked connection synced no tenant"
    alert = Alert.objects.filter(tenant=tenant).first()
    endpoint = Endpoint.objects.filter(tenant=tenant).first()
    month = timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
    values = {
        "tenant_id": tenant.pk,
        "connection_id": connection.pk,
        "job_id": Job.objects.latest("pk").pk,
        "user_id": owner.pk,
        "year": month.year,
        "month": month.month,
    }
    if alert is not None:
        values["alert_id"] = alert.pk
    if endpoint is not None:
        values["endpoint_id"] = endpoint.pk
    return values


def _every_page(client, connection, owner):
    """GET every named URL whose arguments can be filled in."""
    values = _arguments(connection, owner)
    # A failing page returns a 500 response, so the assertions name its URL.
    client.raise_request_exception = False
    pages = {}
    skipped = []
    for name, arguments in sorted(set(_routes(get_resolver()))):
        if name == "logout":
            continue
        if not arguments <= values.keys():
            skipped.append(name)
            continue
        url = reverse(name, kwargs={key: values[key] for key in arguments})
        pages[url] = client.get(url)
    return pages, skipped


def _log_records(caplog):
    """Every record of the fixture setup and of the test itself."""
    return caplog.get_records("setup") + caplog.get_records("call")


def _formatted(record):
    return logging.Formatter("%(name)s %(message)s").format(record) + repr(
        record.__dict__
    )


def _body(response):
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


class _InlineCode(HTMLParser):
    """Collect what a Content Security Policy without 'unsafe-inline' blocks."""

    def __init__(self):
        super().__init__()
        self.found = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            data_block = attributes.get("type") == "application/json"
            if "src" not in attributes and not data_block:
                self.found.append("inline <script>")
        if tag == "style":
            self.found.append("<style> element")
        for name, value in attrs:
            if name == "style":
                self.found.append(f"style attribute on <{tag}>")
            elif name.startswith("on") or name.startswith("hx-on"):
                self.found.append(f"{name} handler on <{tag}>")
            elif name in {"href", "src", "action"} and (
                value or ""
            ).strip().lower().startswith("javascript:"):
                self.found.append(f"javascript: URL on <{tag}>")


def _inline_code(html):
    parser = _InlineCode()
    parser.feed(html)
    return parser.found


def test_marker_appears_nowhere(
    client, owner, marked_connection, debug_logs, task_packages
):
    connection, pages = marked_connection

    crawled, skipped = _every_page(client, connection, owner)
    pages.update(crawled)
    with_jobs_after_sync = client.post(reverse("sync_start"))

    assert pages["add"].status_code == 200
    assert "Sophos Central rejected the client secret" in (
        pages["add, wrong secret"].content.decode()
    )
    assert len(crawled) > 10, skipped
    for label, response in {**pages, "sync again": with_jobs_after_sync}.items():
        assert response.status_code < 500, label
        assert MARKER not in _body(response), label
        assert MARKER not in str(response.headers), label

    for record in _log_records(debug_logs):
        assert MARKER not in _formatted(record), record.name

    for entry in AuditEntry.objects.all():
        assert MARKER not in json.dumps(entry.parameters), entry.operation
        assert MARKER not in entry.message, entry.operation

    for job in Job.objects.all():
        assert MARKER not in json.dumps(job.parameters), job.kind
        assert MARKER not in job.error, job.kind
    assert task_packages, "no task was queued"
    for package in task_packages:
        assert MARKER not in repr(package.get("args")), package.get("func")
        assert MARKER not in repr(package.get("kwargs")), package.get("func")
    for task in Task.objects.all():
        assert MARKER not in repr(task.args), task.func
        assert MARKER not in repr(task.kwargs), task.func
        assert MARKER not in repr(task.result), task.func
    for queued in OrmQ.objects.all():
        assert MARKER not in repr(queued.task()), queued.pk

    stored = Connection.objects.get(pk=connection.pk)
    assert MARKER not in stored.secret_encrypted


def test_every_page_has_csp_and_no_inline_code(client, owner, marked_connection):
    connection, _ = marked_connection

    pages, _ = _every_page(client, connection, owner)
    pages[reverse("login")] = type(client)().get(reverse("login"))

    html_pages = {
        url: response
        for url, response in pages.items()
        if response.get("Content-Type", "").startswith("text/html")
        and response.status_code == 200
    }
    assert len(html_pages) > 10
    for url, response in html_pages.items():
        policy = response.get("Content-Security-Policy", "")
        assert "default-src 'self'" in policy, url
        assert "frame-ancestors 'none'" in policy, url
        assert "form-action 'self'" in policy, url
        assert _inline_code(_body(response)) == [], url


def test_unexpected_error_report_hides_secret(client, owner, monkeypatch, debug_logs):
    from sophos.simulator.transport import SimulatorTransport

    def broken(self, request):
        raise RuntimeError("simulated transport failure")

    monkeypatch.setattr(SimulatorTransport, "handle_request", broken)
    client.raise_request_exception = False
    client.force_login(owner)
    form = {
        "name": "Broken partner",
        "transport": Connection.Transport.SIMULATOR,
        "client_id": demo_credential().client_id,
        "client_secret": MARKER,
        "credential_created_on": "2025-02-01",
    }

    response = client.post(reverse("connection_add"), form)

    assert response.status_code == 500
    assert MARKER not in response.content.decode()
    records = _log_records(debug_logs)
    failures = [record for record in records if record.exc_info]
    assert failures
    for record in failures:
        report = ExceptionReporter(
            getattr(record, "request", None), *record.exc_info, is_email=True
        )
        assert "simulated transport failure" in report.get_traceback_text()
        assert MARKER not in report.get_traceback_text()
        assert MARKER not in report.get_traceback_html()
    for record in records:
        assert MARKER not in _formatted(record), record.name
    assert not Connection.objects.filter(name="Broken partner").exists()
