"""A URLconf a middleware may choose for a request: the same path, another view."""

from __future__ import annotations

from django.urls import path

from tests.auditapp.urls import create_non_atomic

urlpatterns = [path("create/", create_non_atomic)]
