from __future__ import annotations

from django.urls import path

from tests.profilesapp.admin_site import site

urlpatterns = [path("admin/", site.urls)]
