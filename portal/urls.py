from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from portal.accounts.login import LoginView


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", healthz, name="healthz"),
    path("", include("portal.security.urls")),
    path("settings/connections/", include("portal.connections.urls")),
    path("", include("portal.accounts.urls")),
    path("console/", include("portal.console.urls")),
    path("tenants/<uuid:tenant_id>/", include("portal.tenants.urls")),
    path("partner/", include("portal.partner.urls")),
    path("", include("portal.fleet.urls")),
    path("", include("portal.web.urls")),
]
