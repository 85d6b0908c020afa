from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User

from signalkit.profiles.admin import ProfileInline

admin.site.unregister(User)


@admin.register(User)
class UserWithProfileAdmin(UserAdmin):  # type: ignore[type-arg]
    # Edits the profile the receiver created, instead of inserting a second one.
    inlines = [ProfileInline]
