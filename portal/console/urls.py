from django.urls import path

from portal.console import views

urlpatterns = [
    path("", views.console_page, name="console"),
    path("operation/", views.console_operation, name="console_operation"),
    path("preview/", views.console_preview, name="console_preview"),
]
