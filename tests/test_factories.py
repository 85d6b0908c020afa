from __future__ import annotations

import pytest

from tests.factories import ArticleFactory, AuthorFactory, PublishedArticleFactory, TagFactory
from tests.testapp.models import Article, PublishedArticle


@pytest.mark.django_db
class FactoriesTests:
    def test_sequences_are_deterministic(self) -> None:
        first, second = AuthorFactory.create_batch(2)
        assert second.name.removeprefix("Author ") == str(
            int(first.name.removeprefix("Author ")) + 1
        )
        assert TagFactory.build().name.startswith("tag-")

    def test_article_with_author_and_tags(self) -> None:
        tags = TagFactory.create_batch(2)
        article = ArticleFactory.create(tags=tags)
        assert article.author is not None
        assert set(article.tags.all()) == set(tags)
        assert type(PublishedArticleFactory.create()) is PublishedArticle
        assert Article.objects.count() == 2
