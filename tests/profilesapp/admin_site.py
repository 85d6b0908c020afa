"""A separate admin site whose user admin has ``ProfileInline``."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User

from signalkit.profiles.admin import ProfileInline

site = admin.AdminSite(name="profilesadmin")


@admin.register(User, site=site)
class UserWithProfileAdmin(UserAdmin):  # type: ignore[type-arg]
    inlines = [ProfileInline]
