"""The warning about a connection Django would drop: the same function connected
again another way (with or without ``on_commit`` or ``offload``) under a lookup
key already taken, whether the model sender is given as a class or a label."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import pytest
from django.apps import apps
from django.db.models.signals import post_save
from django.dispatch import Signal

import signalkit
from tests.testapp.models import Article

if TYPE_CHECKING:
    from collections.abc import Iterator

TAKEN = r"notify is connected to this signal and sender already"


def notify(sender: Any, **kwargs: Any) -> None:
    pass


@pytest.fixture
def disconnected() -> Iterator[None]:
    yield
    while post_save.disconnect(notify, sender=Article):
        pass


@pytest.mark.usefixtures("disconnected")
class ModelLabelTests:
    def test_a_label_and_its_class_are_one_sender_in_either_order(self) -> None:
        signalkit.receiver(post_save, sender=Article)(notify)
        with pytest.warns(RuntimeWarning, match=TAKEN):
            signalkit.receiver(post_save, sender="testapp.Article", on_commit=True)(notify)
        (info,) = [r for r in signalkit.registry.receivers(post_save) if r.qualname == "notify"]
        assert info.on_commit is False  # (the second was dropped, as warned)
        assert post_save.disconnect(notify, sender=Article)
        signalkit.receiver(post_save, sender="testapp.Article", on_commit=True)(notify)
        with pytest.warns(RuntimeWarning, match=TAKEN):
            signalkit.receiver(post_save, sender=Article)(notify)
        # For a signal that is no model signal, a label is a string sender like any.
        plain = Signal()
        signalkit.receiver(plain, sender=Article)(notify)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            signalkit.receiver(plain, sender="testapp.Article", on_commit=True)(notify)
        assert len(plain.receivers) == 2

    def test_a_label_of_a_model_not_registered_yet_is_compared_with_those_waiting(
        self,
    ) -> None:
        waiting = ("testapp", "notyet")
        try:
            signalkit.receiver(post_save, sender="testapp.NotYet")(notify)
            with pytest.warns(RuntimeWarning, match=TAKEN):
                signalkit.receiver(post_save, sender="testapp.NotYet", on_commit=True)(notify)
            # Its own dispatch_uid: two connections, on purpose.
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                signalkit.receiver(
                    post_save, sender="testapp.NotYet", on_commit=True, dispatch_uid="later"
                )(notify)
            assert len(apps._pending_operations[waiting]) == 3
        finally:
            apps._pending_operations.pop(waiting, None)
