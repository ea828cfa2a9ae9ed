"""Two-factor pages: enrol, the code step at login, removal, and the owners'
requirement setting."""

from __future__ import annotations

import base64
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from portal.access import user_roles
from portal.accounts.login import next_url_loops
from portal.accounts.models import Role
from portal.security import two_factor
from portal.security.forms import RequirementForm, TokenForm
from portal.security.models import PortalSettings
from portal.security.qr import qr_data_uri


def _next_url(request: HttpRequest, default: str = "fleet") -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if (
        candidate
        and not next_url_loops(candidate)
        and url_has_allowed_host_and_scheme(
            candidate,
            allowed_hosts={request.get_host()},
            require_https=request.is_secure(),
        )
    ):
        return candidate
    return reverse(default)


def _account(request: HttpRequest) -> AbstractBaseUser:
    user = request.user
    assert isinstance(user, AbstractBaseUser)
    return user


@sensitive_post_parameters("token")
@require_http_methods(["GET", "POST"])
def two_factor_page(request: HttpRequest) -> HttpResponse:
    """Show the user's two-factor status and enrol an authenticator app."""
    user = _account(request)
    device = two_factor.device_confirmed(user)
    required = PortalSettings.load().require_two_factor
    context: dict[str, Any] = {
        "device": device,
        "required": required,
        "next": request.POST.get("next") or request.GET.get("next", ""),
        "section": "account",
    }
    if device is not None:
        context["remove_form"] = TokenForm()
        return render(request, "security/two_factor.html", context)

    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        reason = two_factor.enrolment_confirm(
            request=request, token=form.cleaned_data["token"]
        )
        if not reason:
            messages.success(
                request, "Two-factor login is on: each login now asks for a code."
            )
            return redirect(_next_url(request, default="two_factor"))
        form.add_error("token", reason)

    pending = two_factor.device_pending(user)
    context.update(
        {
            "form": form,
            "config_url": pending.config_url,
            "qr_code": qr_data_uri(pending.config_url),
            "manual_key": base64.b32encode(pending.bin_key).decode("ascii"),
        }
    )
    return render(request, "security/two_factor.html", context)


@sensitive_post_parameters("token")
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """Ask for the code after the password."""
    if request.user.is_verified():  # type: ignore[union-attr]
        return redirect(_next_url(request))
    if two_factor.device_confirmed(request.user) is None:
        two_factor.state_refresh(request)
        return redirect(_next_url(request))

    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        reason = two_factor.login_verify(
            request=request, token=form.cleaned_data["token"]
        )
        if not reason:
            return redirect(_next_url(request))
        form.add_error("token", reason)

    context = {
        "form": form,
        "next": request.POST.get("next") or request.GET.get("next", ""),
    }
    return render(request, "security/verify.html", context)


@sensitive_post_parameters("token")
@require_POST
def two_factor_remove(request: HttpRequest) -> HttpResponse:
    """Remove the user's authenticator app after checking a current code."""
    user = _account(request)
    device = two_factor.device_confirmed(user)
    if device is None:
        return redirect("two_factor")

    form = TokenForm(request.POST)
    reason = "Enter the 6-digit code your app shows."
    if form.is_valid():
        reason = two_factor.login_verify(
            request=request, token=form.cleaned_data["token"]
        )
    if reason:
        context = {
            "device": device,
            "required": PortalSettings.load().require_two_factor,
            "remove_form": form,
            "remove_error": reason,
            "section": "account",
        }
        return render(request, "security/two_factor.html", context, status=400)

    two_factor.two_factor_remove(actor=user, user=user, request=request)
    messages.success(request, "Your authenticator app is removed.")
    return redirect("two_factor")


@require_http_methods(["GET", "POST"])
def security_settings(request: HttpRequest) -> HttpResponse:
    """Let owners require two-factor login for every user."""
    if Role.OWNER not in user_roles(request.user):
        raise PermissionDenied("Only owners may change the portal's login rules.")

    row = PortalSettings.load()
    form = RequirementForm(
        request.POST or None, initial={"require_two_factor": row.require_two_factor}
    )
    if request.method == "POST" and form.is_valid():
        required = form.cleaned_data["require_two_factor"]
        try:
            ended = two_factor.two_factor_requirement_set(
                request=request, required=required
            )
        except two_factor.TwoFactorError as exc:
            form.add_error("require_two_factor", str(exc))
        else:
            if required:
                sessions = "session" if ended == 1 else "sessions"
                messages.success(
                    request,
                    "Two-factor login is required. "
                    f"{ended} {sessions} of users without an app ended.",
                )
            else:
                messages.success(request, "Two-factor login is optional.")
            return redirect("security_settings")

    context = {"form": form, "settings_row": row, "section": "security"}
    return render(request, "security/settings.html", context)
