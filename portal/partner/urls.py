"""URLs of the partner pages, below /partner/."""

from django.urls import path

from portal.partner.views import admins, billing, tenants

urlpatterns = [
    path("tenants/", tenants.partner_tenants_list, name="partner_tenants"),
    path("tenants/new/", tenants.partner_tenant_create, name="partner_tenant_create"),
    path(
        "tenants/<uuid:tenant_id>/",
        tenants.partner_tenant_detail,
        name="partner_tenant_detail",
    ),
    path("admins/", admins.partner_admins_list, name="partner_admins"),
    path("admins/new/", admins.partner_admin_create, name="partner_admin_create"),
    path(
        "admins/<uuid:item_id>/",
        admins.partner_admin_detail,
        name="partner_admin_detail",
    ),
    path(
        "admins/<uuid:item_id>/roles/add/",
        admins.partner_admin_roles_add,
        name="partner_admin_roles_add",
    ),
    path(
        "admins/<uuid:item_id>/roles/<uuid:assignment_id>/remove/",
        admins.partner_admin_roles_remove,
        name="partner_admin_roles_remove",
    ),
    path("roles/", admins.partner_roles_list, name="partner_roles"),
    path("roles/new/", admins.partner_role_create, name="partner_role_create"),
    path(
        "roles/permission-sets/",
        admins.partner_permission_sets_list,
        name="partner_permission_sets",
    ),
    path(
        "roles/<uuid:item_id>/", admins.partner_role_detail, name="partner_role_detail"
    ),
    path(
        "roles/<uuid:item_id>/delete/",
        admins.partner_role_delete,
        name="partner_role_delete",
    ),
    path("billing/", billing.billing_index, name="billing"),
    path(
        "billing/<int:year>/<int:month>/", billing.billing_month, name="billing_month"
    ),
    path(
        "billing/<int:year>/<int:month>/fetch/",
        billing.billing_months_fetch,
        name="billing_months_fetch",
    ),
    path(
        "billing/<int:year>/<int:month>/refresh/",
        billing.billing_month_refresh,
        name="billing_month_refresh",
    ),
    # Account ids come from Sophos unchanged, so ``path`` also matches one that
    # contains a "/".
    path(
        "billing/<int:year>/<int:month>/tenants/<path:account_id>/",
        billing.billing_tenant_usage,
        name="billing_tenant_usage",
    ),
]
