"""Tenant category pages, one module per category.

Each module defines its views and a ``urlpatterns`` list that
``portal.tenants.urls`` joins under ``/tenants/<uuid:tenant_id>/``.
"""
