"""Receivers in a module that nothing imports (not a name autodiscovery looks
for): toggles of them match no connected receiver."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from tests.testapp.models import Author


@receiver(post_save, sender=Author, dispatch_uid="testapp.unimported.never_connected")
def never_connected(sender: type[Author], **kwargs: Any) -> None:
    raise AssertionError("this module is never imported")
