from django.urls import path

from portal.security import views

urlpatterns = [
    path("security/two-factor/", views.two_factor_page, name="two_factor"),
    path(
        "security/two-factor/verify/",
        views.two_factor_verify,
        name="two_factor_verify",
    ),
    path(
        "security/two-factor/remove/",
        views.two_factor_remove,
        name="two_factor_remove",
    ),
    path("settings/security/", views.security_settings, name="security_settings"),
]
