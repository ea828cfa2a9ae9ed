from django.urls import path

from portal.web import views

urlpatterns = [
    path("", views.fleet_overview, name="fleet"),
    path("sync/", views.sync_start, name="sync_start"),
    path("tenants/<uuid:tenant_id>/", views.tenant_detail, name="tenant_detail"),
    path(
        "tenants/<uuid:tenant_id>/endpoints/",
        views.tenant_endpoints,
        name="tenant_endpoints",
    ),
    path(
        "tenants/<uuid:tenant_id>/alerts/",
        views.tenant_alerts,
        name="tenant_alerts",
    ),
    path(
        "tenants/<uuid:tenant_id>/alerts/<uuid:alert_id>/action/",
        views.alert_action,
        name="alert_action",
    ),
    path("jobs/", views.jobs_list, name="jobs"),
    path("jobs/<int:job_id>/", views.job_detail, name="job_detail"),
]
