from django.urls import path

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
    path("jobs/<int:job_id>/cancel/", jobs.job_cancel, name="job_cancel"),
    path("jobs/<int:job_id>/retry/", jobs.job_retry, name="job_retry"),
    path("jobs/<int:job_id>/repeat/", jobs.job_repeat, name="job_repeat"),
]
