from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from portal import access
from portal.web.views import HtmxHttpRequest, _render
from sophos.models import Notification
from sophos.services import notifications

PAGE_SIZE = 50


def _visible(request: HttpRequest) -> QuerySet[Notification]:
    return notifications.notifications_visible(
        tenants=access.tenants_visible(request.user),
        every_tenant=access.sees_every_tenant(request.user),
    )


@require_GET
@login_required
def notifications_page(request: HtmxHttpRequest) -> HttpResponse:
    visible = _visible(request)
    unread = set(
        notifications.notifications_unread(
            notifications=visible, user_id=int(request.user.pk or 0)
        ).values_list("pk", flat=True)
    )
    page = Paginator(visible, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "unread": unread, "section": "notifications"}
    return _render(
        request, "fleet_ops/notifications.html", "notifications-list", context
    )


@require_POST
@login_required
def notifications_read(request: HtmxHttpRequest) -> HttpResponse:
    count = notifications.notifications_mark_read(
        notifications=_visible(request), user_id=int(request.user.pk or 0)
    )
    messages.success(request, f"Marked {count} notifications as read.")
    return redirect("fleet_ops:notifications")
