from django.urls import path

from portal.fleet import views_drift, views_onboarding, views_push
from portal.fleet.views import hygiene, isolation, jobs, notifications, search, tamper

app_name = "fleet_ops"

urlpatterns = [
    path("fleet/search/", search.search_page, name="search"),
    path("fleet/tamper-protection/", tamper.tamper_board, name="tamper"),
    path("fleet/tamper-protection/enable/", tamper.tamper_enable, name="tamper_enable"),
    path("fleet/isolation/", isolation.isolation_page, name="isolation"),
    path(
        "fleet/isolation/preview/",
        isolation.isolation_preview,
        name="isolation_preview",
    ),
    path("fleet/isolation/start/", isolation.isolation_start, name="isolation_start"),
    path("fleet/hygiene/", hygiene.hygiene_page, name="hygiene"),
    path("fleet/hygiene/delete/", hygiene.hygiene_delete, name="hygiene_delete"),
    path("notifications/", notifications.notifications_page, name="notifications"),
    path(
        "notifications/read/",
        notifications.notifications_read,
        name="notifications_read",
    ),
    path("fleet/push/", views_push.push_list, name="push_list"),
    path("fleet/push/new/", views_push.push_create, name="push_create"),
    path("fleet/push/<int:push_id>/", views_push.push_detail, name="push_detail"),
    path("fleet/push/<int:push_id>/run/", views_push.push_run, name="push_run"),
    path("fleet/push/<int:push_id>/undo/", views_push.push_undo, name="push_undo"),
    path("fleet/drift/", views_drift.drift_page, name="drift"),
    path("fleet/drift/policies/", views_drift.drift_policies, name="drift_policies"),
    path("fleet/drift/start/", views_drift.drift_start, name="drift_start"),
    path("fleet/drift/<int:check_id>/", views_drift.drift_check, name="drift_check"),
    path(
        "fleet/drift/<int:check_id>/accept/",
        views_drift.drift_accept,
        name="drift_accept",
    ),
    path(
        "fleet/drift/<int:check_id>/realign/",
        views_drift.drift_realign,
        name="drift_realign",
    ),
    path("fleet/drift/templates/", views_drift.drift_templates, name="drift_templates"),
    path(
        "fleet/drift/templates/new/",
        views_drift.drift_template_create,
        name="drift_template_create",
    ),
    path(
        "fleet/drift/templates/<int:template_id>/delete/",
        views_drift.drift_template_delete,
        name="drift_template_delete",
    ),
    path("fleet/onboarding/", views_onboarding.onboarding_list, name="onboarding"),
    path(
        "fleet/onboarding/new/",
        views_onboarding.onboarding_create,
        name="onboarding_create",
    ),
    path(
        "fleet/onboarding/<int:run_id>/",
        views_onboarding.onboarding_run,
        name="onboarding_run",
    ),
    path(
        "fleet/onboarding/<int:run_id>/resume/",
        views_onboarding.onboarding_resume,
        name="onboarding_resume",
    ),
    path(
        "fleet/onboarding/<int:run_id>/repeat/",
        views_onboarding.onboarding_repeat,
        name="onboarding_repeat",
    ),
    path(
        "fleet/onboarding/templates/",
        views_onboarding.onboarding_templates,
        name="onboarding_templates",
    ),
    path(
        "fleet/onboarding/templates/new/",
        views_onboarding.onboarding_template_create,
        name="onboarding_template_create",
    ),
    path(
        "fleet/onboarding/templates/<int:template_id>/delete/",
        views_onboarding.onboarding_template_delete,
        name="onboarding_template_delete",
    ),
    path("jobs/<int:job_id>/cancel/", jobs.job_cancel, name="job_cancel"),
    path("jobs/<int:job_id>/retry/", jobs.job_retry, name="job_retry"),
    path("jobs/<int:job_id>/repeat/", jobs.job_repeat, name="job_repeat"),
]
