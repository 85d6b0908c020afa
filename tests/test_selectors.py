from __future__ import annotations

from typing import Any

from django.dispatch import Signal

from signalkit.keys import is_spared
from signalkit.selectors import Mute, silenced_keys

KEYS = ("blog.signals.notify", "blog.signals.index", "django.contrib.fake", "signalkit.audit.x")


def notify(sender: Any, **kwargs: Any) -> None:
    return None


notify.__module__, notify.__qualname__ = "blog.signals", "notify"


def silenced_one_by_one(mutes: list[Mute]) -> set[str]:
    return {key for key in KEYS if any(mute.silences(key) for mute in mutes)}


def silenced_together(mutes: list[Mute]) -> set[str]:
    found = silenced_keys(mutes)
    if found is None:
        return set(KEYS)
    named, catch_all = found
    return {key for key in KEYS if key in named or (catch_all and not is_spared(key))}


class SilencedKeysTests:
    def test_no_mutes_silence_nothing(self) -> None:
        assert silenced_keys([]) == (frozenset(), False)

    def test_receiver_mutes_name_their_keys_together(self) -> None:
        mutes = [Mute(receivers=[notify]), Mute(receivers=["blog.signals.index"])]
        assert silenced_keys(mutes) == (
            frozenset({"blog.signals.notify", "blog.signals.index"}),
            False,
        )

    def test_a_mute_without_receivers_silences_every_receiver(self) -> None:
        mutes = [Mute(receivers=[notify]), Mute([Signal()], sender=int)]
        assert silenced_keys(mutes) is None

    def test_a_catch_all_is_told_apart(self) -> None:
        assert silenced_keys([Mute(), Mute(receivers=[notify])]) == (
            frozenset({"blog.signals.notify"}),
            True,
        )

    def test_together_as_each_mute_says_one_by_one(self) -> None:
        shapes = [
            Mute(),
            Mute(receivers=[notify]),
            Mute(receivers=["blog.signals.index", "django.contrib.fake"]),
            Mute([Signal()]),
        ]
        for first in shapes:
            for second in shapes:
                mutes = [first, second]
                assert silenced_together(mutes) == silenced_one_by_one(mutes), mutes
