"""The top bar wraps instead of widening the page on laptop screens."""

import pytest
from django.urls import reverse

from tests.e2e.test_browser import browser_page  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [800, 1280, 1400])
def test_top_bar_fits_the_window(
    committed_db,
    live_server,
    browser_page,  # noqa: F811
    django_user_model,
    width,
):
    django_user_model.objects.create_superuser("owner", password="Owner-pass-42")
    page = browser_page
    page.set_viewport_size({"width": width, "height": 700})
    page.goto(live_server.url + reverse("login"))
    page.fill("input[name=username]", "owner")
    page.fill("input[name=password]", "Owner-pass-42")
    page.click("button[type=submit]")

    page.goto(live_server.url + reverse("jobs"))

    assert page.evaluate("document.documentElement.scrollWidth") == width
    assert page.get_by_role("link", name="API console").is_visible()
