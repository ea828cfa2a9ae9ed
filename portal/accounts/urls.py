from django.urls import path

from portal.accounts import audit_views, views

urlpatterns = [
    path("settings/users/", views.users_list, name="users"),
    path("settings/users/new/", views.user_create, name="user_create"),
    path("settings/users/<int:user_id>/", views.user_edit, name="user_edit"),
    path(
        "settings/users/<int:user_id>/password/",
        views.user_password,
        name="user_password",
    ),
    path(
        "settings/users/<int:user_id>/disable/",
        views.user_disable,
        name="user_disable",
    ),
    path(
        "settings/users/<int:user_id>/enable/",
        views.user_enable,
        name="user_enable",
    ),
    path("settings/groups/", views.groups_list, name="groups"),
    path("settings/groups/new/", views.group_create, name="group_create"),
    path("settings/groups/<int:group_id>/", views.group_edit, name="group_edit"),
    path(
        "settings/groups/<int:group_id>/delete/",
        views.group_delete,
        name="group_delete",
    ),
    path("settings/customer-names/", views.customer_names, name="customer_names"),
    path(
        "settings/customer-names/rename/",
        views.tenants_rename,
        name="tenants_rename",
    ),
    path(
        "settings/customer-names/<uuid:tenant_id>/",
        views.customer_name_set,
        name="customer_name_set",
    ),
    path("audit/", audit_views.audit_log, name="audit"),
    path("audit/export.csv", audit_views.audit_export, name="audit_export"),
]
