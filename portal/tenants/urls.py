"""URLs of the tenant category pages, below /tenants/<uuid:tenant_id>/.

Each category's view module keeps its own ``urlpatterns``; add a category
by importing its module and joining its list here.
"""

from portal.tenants.views import (
    admins,
    directory,
    endpoint_settings,
    exclusions,
    exploit_mitigation,
    firewalls,
    migrations,
    packages,
    web_control,
)

app_name = "tenants"

urlpatterns = [
    *exclusions.urlpatterns,
    *exploit_mitigation.urlpatterns,
    *web_control.urlpatterns,
    *directory.urlpatterns,
    *admins.urlpatterns,
    *firewalls.urlpatterns,
    *migrations.urlpatterns,
    *packages.urlpatterns,
    *endpoint_settings.urlpatterns,
]
