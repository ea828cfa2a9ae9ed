from django.urls import path

from portal.connections import views

urlpatterns = [
    path("", views.connections_list, name="connections"),
    path("new/", views.connection_add, name="connection_add"),
    path("<int:connection_id>/edit/", views.connection_edit, name="connection_edit"),
    path(
        "<int:connection_id>/remove/",
        views.connection_remove,
        name="connection_remove",
    ),
]
