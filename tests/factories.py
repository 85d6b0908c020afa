"""Factories: one ``DjangoModelFactory`` per model, with deterministic values."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from factory.declarations import Sequence, SubFactory
from factory.django import DjangoModelFactory
from factory.helpers import post_generation

from tests.testapp.models import Article, Author, PublishedArticle, Tag


class AuthorFactory(DjangoModelFactory[Author]):
    class Meta:
        model = Author

    name = Sequence(lambda n: f"Author {n}")  # type: ignore[no-untyped-call]


class TagFactory(DjangoModelFactory[Tag]):
    class Meta:
        model = Tag

    name = Sequence(lambda n: f"tag-{n}")  # type: ignore[no-untyped-call]


class ArticleFactory(DjangoModelFactory[Article]):
    class Meta:
        model = Article
        skip_postgeneration_save = True

    title = Sequence(lambda n: f"Article {n}")  # type: ignore[no-untyped-call]
    author = SubFactory(AuthorFactory)  # type: ignore[no-untyped-call]

    @post_generation  # type: ignore[untyped-decorator]
    def tags(self, create: bool, extracted: list[Tag] | None, **kwargs: Any) -> None:
        if create and extracted:
            self.tags.add(*extracted)


class PublishedArticleFactory(ArticleFactory):
    class Meta:
        model = PublishedArticle


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User

    username = Sequence(lambda n: f"user{n}")  # type: ignore[no-untyped-call]
    email = Sequence(lambda n: f"user{n}@example.com")  # type: ignore[no-untyped-call]
    password = "!"  # an unusable password: no hashing cost
