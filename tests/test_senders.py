from __future__ import annotations

import gc
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.handlers.wsgi import WSGIHandler
from django.db.models.signals import post_save
from django.test import SimpleTestCase

from signalkit.entries import Entry, make_id, read_entries
from signalkit.scan import find_by_id
from signalkit.senders import SenderIndex, describe, pending_connections
from tests.registryapp.handlers import on_event
from tests.testapp.models import Article, PublishedArticle, Stamped


def _entry(sender_id: Any) -> Entry:
    from signalkit.entries import UNKNOWN

    return Entry(on_event, sender_id, UNKNOWN, None, True, False, False)


class DescribeTests:
    def test_models_by_label(self) -> None:
        assert describe(Article) == "testapp.Article"
        assert describe(PublishedArticle) == "testapp.PublishedArticle"
        assert describe(Stamped) == "testapp.Stamped"
        assert describe(get_user_model()) == "auth.User"

    def test_other_senders(self) -> None:
        assert describe(None) is None
        assert describe(apps.get_app_config("auth")) == "auth (AppConfig)"
        assert describe(WSGIHandler) == "django.core.handlers.wsgi.WSGIHandler"
        assert describe("blog") == "blog"
        assert describe(3) == "builtins.int instance"


class SenderIndexTests:
    def test_finds_models_abstract_bases_and_app_configs_by_id(self) -> None:
        index = SenderIndex()
        assert index.label(_entry(id(Article))) == "testapp.Article"
        config = apps.get_app_config("testapp")
        assert index.label(_entry(id(config))) == "testapp (AppConfig)"
        assert index.label(_entry(make_id(None))) is None

    def test_abstract_model_without_subclass_is_found_in_its_module(self) -> None:
        assert not SenderIndex().knows(_entry(id(Stamped)))
        extra = find_by_id({id(Stamped)}).values()
        assert SenderIndex(extra).label(_entry(id(Stamped))) == "testapp.Stamped"

    def test_extra_objects_and_unresolved_ids(self) -> None:
        assert SenderIndex([WSGIHandler]).label(_entry(id(WSGIHandler))) == (
            "django.core.handlers.wsgi.WSGIHandler"
        )
        unknown = _entry(0x1234)
        assert not SenderIndex().knows(unknown)
        assert SenderIndex().label(unknown) == "<unresolved sender id 0x1234>"

    def test_sender_from_the_entry_wins(self) -> None:
        entry = Entry(on_event, 0x1234, Article, None, True, False, False)
        assert SenderIndex().label(entry) == "testapp.Article"


class PendingConnectionsTests(SimpleTestCase):
    def test_string_sender_of_an_unregistered_model_is_pending(self) -> None:
        post_save.connect(on_event, sender="registryapp.NotYet", dispatch_uid="pending-uid")
        try:
            (pending,) = [p for p in pending_connections() if p.receiver is on_event]
            assert pending.signal is post_save
            assert pending.sender == "registryapp.notyet (pending)"
            assert pending.dispatch_uid == "pending-uid"
            assert pending.weak
            assert [e for e in read_entries(post_save) if e.receiver is on_event] == []
        finally:
            apps._pending_operations.pop(("registryapp", "notyet"), None)
        gc.collect()
        assert [p for p in pending_connections() if p.receiver is on_event] == []
