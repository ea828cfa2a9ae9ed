import pytest
from django.urls import reverse

from portal.accounts.models import Role
from tests.portal.factories import make_user

pytestmark = pytest.mark.django_db


def test_login_page_renders_form(client):
    response = client.get(reverse("login"))

    html = response.content.decode()
    assert response.status_code == 200
    assert '<label for="id_username">Username</label>' in html
    assert '<label for="id_password">Password</label>' in html
    assert "Log out" not in html


def test_login_redirects_to_fleet(client):
    make_user(username="alice")

    response = client.post(
        reverse("login"), {"username": "alice", "password": "tech-password-1"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("fleet")


def test_login_shows_error_for_bad_password(client):
    make_user(username="alice")

    response = client.post(reverse("login"), {"username": "alice", "password": "x"})

    assert 'role="alert"' in response.content.decode()


def test_layout_navigation_and_logout(client):
    client.force_login(make_user(roles=[Role.OWNER], username="alice"))

    html = client.get(reverse("jobs")).content.decode()

    assert f'<a href="{reverse("fleet")}">Fleet</a>' in html
    assert f'<a href="{reverse("billing")}">Billing</a>' in html
    assert f'<a href="{reverse("users")}">Users</a>' in html
    assert f'<a href="{reverse("audit")}">Audit log</a>' in html
    assert f'<a href="{reverse("jobs")}" aria-current="page">Jobs</a>' in html
    assert f'<form method="post" action="{reverse("logout")}">' in html
    assert "alice" in html
    assert 'hx-headers=\'{"X-CSRFToken": "' in html
    assert "/static/django_htmx/htmx-2.min.js" in html


def test_logout_is_a_post(client):
    client.force_login(make_user())

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert client.get(reverse("fleet")).status_code == 302


def test_anonymous_htmx_gets_hx_redirect(client):
    response = client.get(reverse("fleet"), headers={"HX-Request": "true"})

    assert response.status_code == 401
    assert response["HX-Redirect"]


def test_layout_hides_links_the_role_cannot_use(client):
    client.force_login(make_user(roles=[Role.TECHNICIAN]))

    html = client.get(reverse("jobs")).content.decode()

    assert reverse("fleet") in html
    assert reverse("billing") not in html
    assert reverse("users") not in html
    assert reverse("audit") not in html
