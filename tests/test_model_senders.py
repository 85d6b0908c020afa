from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.signals import user_logged_in
from django.core.signals import request_started
from django.db.models.signals import (
    class_prepared,
    m2m_changed,
    post_delete,
    post_init,
    post_migrate,
    post_save,
    pre_delete,
    pre_init,
    pre_migrate,
    pre_save,
)
from django.dispatch import Signal
from django.test import TestCase

from signalkit.testing import capture_signals, mute_signals
from tests.testapp.models import Article, Author, Tag

custom = Signal()
heard: list[Any] = []


def on_custom(sender: Any, **kwargs: Any) -> None:
    heard.append(sender)


def on_save(sender: Any, **kwargs: Any) -> None:
    heard.append(sender)


MODEL_CLASS = {
    "pre_init": pre_init,
    "post_init": post_init,
    "pre_save": pre_save,
    "post_save": post_save,
    "pre_delete": pre_delete,
    "post_delete": post_delete,
    "class_prepared": class_prepared,
}


class MuteInstanceSenderTests:
    def test_an_instance_as_the_sender_of_post_save_is_refused(self) -> None:
        # post_save is sent with sender=Tag, instance=tag: the mute silenced nothing.
        with pytest.raises(TypeError) as info:
            mute_signals(post_save, sender=Tag(name="news"))
        assert str(info.value) == (
            "sender is an instance of testapp.Tag, but django.db.models.signals.post_save "
            "is sent with the model class as its sender, never with an instance: the mute "
            "would silence none of its sends. Pass the class instead, type(obj): "
            "sender=Tag or sender='testapp.Tag'."
        )

    @pytest.mark.parametrize("signal", MODEL_CLASS.values(), ids=MODEL_CLASS.keys())
    def test_every_signal_sent_from_the_model_class(self, signal: Signal) -> None:
        with pytest.raises(TypeError, match=r"sender=Author or sender='testapp\.Author'\.$"):
            mute_signals(signal, sender=Author(name="ann"))

    def test_m2m_changed_names_the_through_models(self) -> None:
        # Sent from the intermediate model, whichever side changed the relation.
        for instance in (Article(title="a"), Tag(name="t")):
            with pytest.raises(TypeError, match="intermediate") as info:
                mute_signals(m2m_changed, sender=instance)
            assert str(info.value).endswith(
                "Pass the intermediate model of the relation: sender=Article.tags.through."
            )
        with pytest.raises(TypeError) as info:
            mute_signals(m2m_changed, sender=Author(name="ann"))  # in no relation
        assert str(info.value).endswith("relation, sender=Model.field.through.")

    @pytest.mark.parametrize("signal", [pre_migrate, post_migrate], ids=["pre", "post"])
    def test_migrate_signals_name_the_app_config(self, signal: Signal) -> None:
        with pytest.raises(TypeError, match="sent with the AppConfig as its sender") as info:
            mute_signals(signal, sender=Tag(name="t"))
        assert str(info.value).endswith("sender=apps.get_app_config('testapp').")

    def test_other_django_signals_too(self) -> None:
        # None of Django's signals is ever sent from a model instance.
        with pytest.raises(TypeError, match=r"the user's class as its sender.*sender=Author "):
            mute_signals(user_logged_in, sender=Author(name="ann"))
        with pytest.raises(TypeError, match=r"the handler class as its sender.*class\.$"):
            mute_signals(request_started, sender=Author(name="ann"))

    def test_a_signal_given_by_its_path_or_among_others(self) -> None:
        author = Author(name="ann")
        with pytest.raises(TypeError, match="post_save is sent with the model class"):
            mute_signals("django.db.models.signals.post_save", sender=author)
        with pytest.raises(TypeError, match="pre_save is sent with the model class"):
            mute_signals(custom, pre_save, sender=author)

    def test_a_custom_signal_may_be_sent_from_an_instance(self) -> None:
        # (With a key: Django hashes senders.)
        author, other = Author(pk=1, name="ann"), Author(pk=2, name="bob")
        custom.connect(on_custom)
        heard.clear()
        try:
            with mute_signals(custom, sender=author):
                custom.send(author)
                custom.send(other)
            # Every signal: custom ones may be sent from it.
            with mute_signals(sender=author):
                custom.send(author)
        finally:
            custom.disconnect(on_custom)
        assert heard == [other]

    def test_the_class_decorator_refuses_it_too(self) -> None:
        with pytest.raises(TypeError, match="sent with the model class"):

            @mute_signals(post_save, sender=Tag(name="t"))
            class Muted(TestCase):
                pass

    def test_the_class_a_mute_asks_for_is_muted(self, db: None) -> None:
        # What the message says to do.
        tag = Tag(name="t")
        post_save.connect(on_save, dispatch_uid="test_model_senders.on_save")
        heard.clear()
        try:
            with mute_signals(post_save, sender=type(tag)):
                tag.save()
        finally:
            post_save.disconnect(dispatch_uid="test_model_senders.on_save")
        assert heard == []


class CaptureInstanceSenderTests:
    def test_assertions_refuse_an_instance_as_the_sender_of_a_model_signal(self, db: None) -> None:
        tag = Tag(name="t")
        with capture_signals() as capture:
            tag.save()
        message = (
            "sender is an instance of testapp.Tag, but django.db.models.signals.post_save is "
            "sent with the model class as its sender, never with an instance: no send of it "
            "can match, and assert_not_sent() would pass whatever was sent. Pass the class "
            "instead, type(obj): sender=Tag or sender='testapp.Tag'."
        )
        for check in (capture.assert_sent, capture.assert_not_sent, capture.matching):
            with pytest.raises(TypeError) as info:
                check(post_save, sender=tag)
            assert str(info.value) == message
        capture.assert_sent(post_save, sender=Tag, instance=tag, created=True)

    def test_a_custom_signal_sent_from_an_instance_is_matched(self) -> None:
        author = Author(pk=1, name="ann")
        with capture_signals(custom) as capture:
            custom.send(author)
        capture.assert_sent(custom, sender=author)
        capture.assert_not_sent(custom, sender=Author(pk=2, name="bob"))
