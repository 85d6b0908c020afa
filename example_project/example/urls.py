from __future__ import annotations

from django.contrib import admin
from django.urls import path

from blog import views

urlpatterns = [
    path("", views.post_list, name="post_list"),
    path("posts/<int:pk>/", views.post_detail, name="post_detail"),
    path("admin/", admin.site.urls),
]
