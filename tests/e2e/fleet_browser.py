"""Helpers for the browser tests of the fleet pages."""

from __future__ import annotations

from portal.accounts.models import Role
from sophos.models import Tenant
from tests.portal.factories import make_user

PASSWORD = "tech-password-1"


def technician_create(username: str, tenants: list[Tenant]):
    """Create a technician assigned ``tenants``, whose password is PASSWORD."""
    return make_user(roles=[Role.TECHNICIAN], tenants=tenants, username=username)


def csp_errors_collect(page) -> list[str]:
    """Return a list that fills with the page's Content Security Policy errors.

    Chromium reports a blocked script, style or connection as a console
    message naming the Content Security Policy.
    """
    errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    return errors


def log_in(page, live_server, path: str, username: str) -> None:
    """Open ``path``, which redirects to the login page, and log in."""
    page.goto(live_server.url + path)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{path}")


def job_finished_wait(page) -> None:
    """Wait until the job page's polling region shows a finished job."""
    page.locator("#job-detail:not([hx-get])").wait_for()
