"""URLs of the tenant category pages, below /tenants/<uuid:tenant_id>/.

Each category's view module keeps its own ``urlpatterns``; add a category
by importing its module and joining its list here.
"""

from portal.tenants.views import (
    admins,
    alerts,
    directory,
    endpoint_settings,
    endpoints,
    exclusions,
    exploit_mitigation,
    firewalls,
    groups,
    migrations,
    packages,
    policies,
    web_control,
)

app_name = "tenants"

urlpatterns = [
    *exclusions.urlpatterns,
    *exploit_mitigation.urlpatterns,
    *web_control.urlpatterns,
    *endpoints.urlpatterns,
    *groups.urlpatterns,
    *alerts.urlpatterns,
    *policies.urlpatterns,
    *directory.urlpatterns,
    *admins.urlpatterns,
    *firewalls.urlpatterns,
    *migrations.urlpatterns,
    *packages.urlpatterns,
    *endpoint_settings.urlpatterns,
]
