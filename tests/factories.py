"""Factories: one ``DjangoModelFactory`` per model, with deterministic values."""

from __future__ import annotations

from django.contrib.auth.models import User
from factory.declarations import Sequence
from factory.django import DjangoModelFactory


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User

    username = Sequence(lambda n: f"user{n}")  # type: ignore[no-untyped-call]
    email = Sequence(lambda n: f"user{n}@example.com")  # type: ignore[no-untyped-call]
    password = "!"  # an unusable password: no hashing cost
