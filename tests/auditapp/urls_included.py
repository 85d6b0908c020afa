"""The test views under a prefix: a view marked non-atomic inside an include()."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [path("app/", include("tests.auditapp.urls"))]
