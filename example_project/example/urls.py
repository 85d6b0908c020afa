from __future__ import annotations

from django.contrib import admin
from django.urls import path

from accounts import views as accounts
from blog import views

urlpatterns = [
    path("", views.post_list, name="post_list"),
    path("posts/<int:pk>/", views.post_detail, name="post_detail"),
    path("signup/", accounts.signup, name="signup"),
    path("profile/", accounts.profile, name="profile"),
    path("admin/", admin.site.urls),
]
