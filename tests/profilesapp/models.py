"""Senders and profile models for the ``signalkit.profiles`` tests."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import Group, User
from django.db import models
from django.db.models.functions import Lower


class Profile(models.Model):
    """The profile of the tests: one required field that ``DEFAULTS`` fills."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    nickname = models.CharField(max_length=50)
    bio = models.TextField(blank=True, default="")
    timezone = models.CharField(max_length=50, default="UTC")

    def __str__(self) -> str:
        return self.nickname


class Preferences(models.Model):
    """A profile whose every field has a default (needs no ``DEFAULTS``)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    theme = models.CharField(max_length=20, default="light")
    newsletter = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.theme


class Membership(models.Model):
    """A profile keyed by a foreign key made unique by a constraint."""

    account = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    level = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account"], name="membership_one_per_user")]

    def __str__(self) -> str:
        return f"level {self.level}"


class Note(models.Model):
    """Not a profile: many notes per user, and a one-to-one to another model."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    profile = models.OneToOneField(Profile, on_delete=models.CASCADE)
    score = models.IntegerField()

    def __str__(self) -> str:
        return str(self.score)


class StaffUser(User):
    """A proxy of the user model: ``post_save`` names it as the sender."""

    class Meta:
        proxy = True


class Customer(User):
    """A multi-table child of the user model: saving one saves a user row too."""

    company = models.CharField(max_length=50, blank=True, default="")


class VipCustomer(Customer):
    """A proxy of a multi-table child of the user model."""

    class Meta:
        proxy = True


class MemberManager(BaseUserManager["Member"]):
    def create_user(self, email: str, password: str | None = None, **extra: Any) -> Member:
        member = self.model(email=self.normalize_email(email), **extra)
        member.set_password(password)
        member.save(using=self._db)
        return member


class Member(AbstractBaseUser):
    """A custom user model, swapped in with ``override_settings(AUTH_USER_MODEL=...)``."""

    email = models.EmailField(unique=True)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"

    objects = MemberManager()

    def __str__(self) -> str:
        return self.email


class MemberProfile(models.Model):
    member = models.OneToOneField(Member, on_delete=models.CASCADE, related_name="profile")
    display_name = models.CharField(max_length=50, blank=True, default="")

    def __str__(self) -> str:
        return self.display_name


class ProfileBase(models.Model):
    """The parent of a multi-table profile model."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )

    def __str__(self) -> str:
        return f"profile {self.pk}"


class RichProfile(ProfileBase):
    """A profile model that is a multi-table child (``bulk_create`` refuses it)."""

    theme = models.CharField(max_length=20, default="light")

    # Declared for mypy, whose Django plugin misses the manager inherited from ProfileBase.
    objects: ClassVar[models.Manager[RichProfile]] = models.Manager()


class ProfileParent(models.Model):
    """The parent of a multi-table profile model, with a reverse accessor on the user."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile_parent"
    )

    def __str__(self) -> str:
        return f"profile {self.pk}"


class ChildProfile(ProfileParent):
    """A multi-table profile model whose user link is declared on its parent."""

    theme = models.CharField(max_length=20, default="light")
    groups = models.ManyToManyField(Group, blank=True, related_name="+")

    objects: ClassVar[models.Manager[ChildProfile]] = models.Manager()

    @property
    def label(self) -> str:
        """Read-only: not a value ``DEFAULTS`` can give."""
        return f"{self.user_id}: {self.theme}"


class PublicProfile(Profile):
    """A proxy of ``Profile``: ``user.profile`` gives ``Profile`` instances, not these."""

    class Meta:
        proxy = True


class Badge(models.Model):
    """Many per profile: ``Profile.badges`` is a reverse relation, not a field to set."""

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="badges")
    name = models.CharField(max_length=20)

    def __str__(self) -> str:
        return self.name


class UuidMemberManager(BaseUserManager["UuidMember"]):
    def create_user(self, email: str, password: str | None = None, **extra: Any) -> UuidMember:
        member = self.model(email=self.normalize_email(email), **extra)
        member.set_password(password)
        member.save(using=self._db)
        return member


class UuidMember(AbstractBaseUser):
    """A custom user model whose primary key is set when the instance is built."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"

    objects = UuidMemberManager()

    def __str__(self) -> str:
        return self.email


class UuidMemberProfile(models.Model):
    member = models.OneToOneField(UuidMember, on_delete=models.CASCADE, related_name="profile")
    display_name = models.CharField(max_length=50, blank=True, default="")

    def __str__(self) -> str:
        return self.display_name


class HandleProfile(models.Model):
    """A profile with a generated column: the database computes it, nobody gives it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    handle = models.CharField(max_length=50, default="")
    handle_lower = models.GeneratedField(
        expression=Lower("handle"),
        output_field=models.CharField(max_length=50),
        db_persist=True,
    )

    objects: ClassVar[models.Manager[HandleProfile]] = models.Manager()

    def __str__(self) -> str:
        return self.handle


class SharedParent(models.Model):
    """The parent of several profile types: a user may have its row before a child's."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(max_length=50, default="")

    objects: ClassVar[models.Manager[SharedParent]] = models.Manager()

    def __str__(self) -> str:
        return self.name


class TeamProfile(SharedParent):
    """One profile type on ``SharedParent``, with a required field of its own."""

    role = models.CharField(max_length=20)

    objects: ClassVar[models.Manager[TeamProfile]] = models.Manager()


class LeadProfile(TeamProfile):
    """A profile type two tables below the user field."""

    budget = models.IntegerField(default=0)

    objects: ClassVar[models.Manager[LeadProfile]] = models.Manager()
