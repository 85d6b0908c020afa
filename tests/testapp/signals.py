"""Discovered by signalkit's autodiscovery: nothing imports this module by hand."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from tests.testapp.models import Author

#: Names of authors seen by :func:`remember_author`, for the autodiscovery tests.
seen_authors: list[str] = []


@receiver(post_save, sender=Author, dispatch_uid="testapp.remember_author")
def remember_author(sender: type[Author], *, instance: Author, **kwargs: Any) -> None:
    seen_authors.append(instance.name)
