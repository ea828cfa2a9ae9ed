from django.urls import path

from portal.web import views

urlpatterns = [
    path("", views.fleet, name="fleet"),
]
