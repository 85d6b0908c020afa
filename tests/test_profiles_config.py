from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.test import SimpleTestCase
from django.test.utils import isolate_apps

from signalkit.profiles.config import is_unique, required_fields


def user_field(model: type[models.Model]) -> Any:
    return model._meta.get_field("user")


@isolate_apps("tests.profilesapp")
class RequiredFieldsTests(SimpleTestCase):
    def test_fields_that_can_be_left_out_are_not_required(self) -> None:
        class Relaxed(models.Model):  # noqa: DJ008  (never shown)
            user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
            nullable = models.IntegerField(null=True)
            defaulted = models.IntegerField(default=0)
            db_defaulted = models.DateTimeField(db_default=Now())
            stamped = models.DateTimeField(auto_now_add=True)
            touched = models.DateField(auto_now=True)
            optional_text = models.CharField(max_length=10, blank=True)

            class Meta:
                app_label = "profilesapp"

        assert required_fields(Relaxed, user_field(Relaxed)) == []

    def test_fields_without_a_usable_value_are_required(self) -> None:
        class Strict(models.Model):  # noqa: DJ008  (never shown)
            user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
            count = models.IntegerField()
            flag = models.BooleanField()
            name = models.CharField(max_length=10)
            ratio = models.FloatField(blank=True)

            class Meta:
                app_label = "profilesapp"

        assert required_fields(Strict, user_field(Strict)) == ["count", "flag", "name", "ratio"]


@isolate_apps("tests.profilesapp")
class IsUniqueTests(SimpleTestCase):
    def test_conditional_or_multi_field_constraints_are_not_unique(self) -> None:
        class Loose(models.Model):  # noqa: DJ008  (never shown)
            user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
            kind = models.CharField(max_length=10)

            class Meta:
                app_label = "profilesapp"
                constraints = [
                    models.UniqueConstraint(fields=["user", "kind"], name="loose_pair"),
                    models.UniqueConstraint(
                        fields=["user"], condition=models.Q(kind="main"), name="loose_main"
                    ),
                ]

        assert not is_unique(Loose, user_field(Loose))

    def test_one_to_one_is_unique(self) -> None:
        class Tight(models.Model):  # noqa: DJ008  (never shown)
            user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)

            class Meta:
                app_label = "profilesapp"

        assert is_unique(Tight, user_field(Tight))
