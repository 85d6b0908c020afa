"""Muting signals in tests: :class:`mute_signals` and :class:`MuteSignalsMixin`.

Both apply a :class:`signalkit.gate.Mute`: receivers are filtered at send time,
never removed from ``Signal.receivers``.
"""

from __future__ import annotations

import contextvars
import sys
import unittest
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from django.apps import apps
from django.dispatch import Signal

from signalkit import gate
from signalkit.gate import enter, leave
from signalkit.keycheck import check_ended, check_started
from signalkit.testing.flush import (
    fixture_setup_muted,
    flushing_unmuted,
    pre_setup_unmuted,
    unmuted,
)
from signalkit.testing.wrappers import wrap

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from types import TracebackType

_T = TypeVar("_T")

#: What :class:`MuteSignalsMixin` mutes unless told otherwise.
DEFAULT_MUTED_SIGNALS: tuple[str, ...] = (
    "django.db.models.signals.pre_save",
    "django.db.models.signals.post_save",
    "django.db.models.signals.pre_delete",
    "django.db.models.signals.post_delete",
    "django.db.models.signals.m2m_changed",
)


# mute_signals() of the common shapes (signals, perhaps a sender class or
# label), shared by every call that asks for the same: an instance keeps no
# state, and building its Mute costs more than entering it. Signals and
# classes hash by identity; bounded for safety. Keys are the tuple of signals
# (no sender, context scope) or (signals, sender, scope): never equal.
_shared: dict[tuple[Any, ...], mute_signals] = {}


class mute_signals:
    """Mute ``signals`` (every signal when none is given) for a block, a function,
    a coroutine function, a generator function (while its code runs, at each
    resumption) or a test case class.

    ``sender`` limits the mute to one sender (a class or ``"app_label.Model"``),
    ``receivers`` to some receivers (callables or receiver keys). A mute without
    signals and receivers spares the receivers Django itself connects and
    signalkit's own bookkeeping. ``scope="context"`` (the default) affects only the
    current thread or asyncio task; ``scope="process"`` every thread.
    """

    __slots__ = ("mute", "scope")

    mute: gate.Mute
    scope: str

    def __new__(
        cls,
        *signals: Signal | str,
        sender: Any = None,
        receivers: Iterable[Any] | str | Callable[..., Any] | None = None,
        scope: str = "context",
    ) -> mute_signals:
        if receivers is None and sender is None and scope == "context":
            key: Any = signals  # the most common shape: a cheaper key
        elif receivers is None and (sender is None or isinstance(sender, (str, type))):
            key = (signals, sender, scope)
        else:
            key = None
        if key is not None:
            try:
                shared = _shared.get(key)
            except TypeError:  # something unhashable: not a signal anyway
                key = shared = None
            if shared is not None:
                return shared
        if scope != "context":
            gate.check_scope(scope)
        self = super().__new__(cls)
        self.mute = gate.Mute(signals, sender=sender, receivers=receivers)
        self.scope = scope
        if key is not None:
            if len(_shared) >= 256:
                _shared.clear()
            _shared[key] = self
        return self

    def __repr__(self) -> str:
        return f"<mute_signals {self.mute!r} scope={self.scope!r}>"

    # Entering keeps no state on the instance: one instance may be entered in
    # several threads or tasks at once, and nested within itself.
    def __enter__(self) -> gate.Mute:
        mute = self.mute
        if mute.unchecked:  # receiver keys given as strings, until checked
            check_started(mute)
        enter(mute, self.scope)
        return mute

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        mute = self.mute
        leave(mute, self.scope)
        if mute.unchecked:  # keys that may have been given with name= in the block
            check_ended(mute, exc)

    async def __aenter__(self) -> gate.Mute:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    def __call__(self, func: _T) -> _T:
        if isinstance(func, type):
            return decorate_test_case(func, self.mute, self.scope)  # type: ignore[return-value]
        return wrap(func, self)  # type: ignore[no-any-return]


def decorate_test_case(cls: type[_T], mute: gate.Mute, scope: str) -> type[_T]:
    """Apply ``mute`` from ``setUpClass`` (so ``setUpTestData`` is covered) until the
    class cleanups, which unittest and pytest run even when ``setUpClass`` fails."""
    from django.test import SimpleTestCase

    if not issubclass(cls, SimpleTestCase):
        raise TypeError(
            f"mute_signals() can decorate SimpleTestCase, TestCase and TransactionTestCase "
            f"subclasses, not {cls.__name__}; decorate its test methods, use "
            "'with mute_signals(...)' or the pytest marker @pytest.mark.mute_signals."
        )
    original = cls.setUpClass.__func__  # type: ignore[attr-defined]

    def setUpClass(inner_cls: type[SimpleTestCase]) -> None:
        if mute.unchecked:
            check_started(mute)
            inner_cls.addClassCleanup(check_ended, mute, None)
        gate.enter(mute, scope)
        inner_cls.addClassCleanup(gate.leave, mute, scope)
        original(inner_cls)

    cls.setUpClass = classmethod(setUpClass)  # type: ignore[assignment]
    flushing_unmuted(cls, ((mute, scope),))
    return cls


class MuteSignalsMixin:
    """Mute :attr:`muted_signals` for the whole test case class (``setUpClass``,
    ``setUpTestData``, every test and ``tearDownClass``)."""

    #: Signals, their dotted paths or short names; an empty sequence mutes nothing.
    #: A list, as documented, so that a subclass can extend it
    #: (``MuteSignalsMixin.muted_signals + [order_paid]``); never changed in place.
    muted_signals: ClassVar[Sequence[Signal | str]] = list(DEFAULT_MUTED_SIGNALS)
    #: ``"context"`` (the test's thread), or ``"process"`` (every thread: a
    #: ``LiveServerTestCase``'s server threads too).
    mute_scope: ClassVar[str] = "context"
    #: The mute in force for the class, while it runs (set on each class by its setUpClass).
    _signalkit_mute: ClassVar[gate.Mute]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # unittest's setUpClass does not call super(): a mixin after the test
        # case in the MRO would never run, and every receiver would run.
        mro = cls.__mro__
        if unittest.TestCase in mro and mro.index(unittest.TestCase) < mro.index(MuteSignalsMixin):
            case = next(base for base in cls.__bases__ if issubclass(base, unittest.TestCase))
            raise TypeError(
                f"MuteSignalsMixin comes after {case.__name__} in the bases of "
                f"{cls.__name__}, so it would mute nothing; put it first: "
                f"class {cls.__name__}(MuteSignalsMixin, {case.__name__})."
            )
        if "muted_signals" in cls.__dict__:
            check_muted_signals(cls)

    @classmethod
    def setUpClass(cls) -> None:
        signals = cls.muted_signals
        if isinstance(signals, (str, Signal)):  # one signal, not a list of them
            signals = (signals,)
        if signals:
            mute = gate.Mute(signals)
            gate.enter(mute, cls.mute_scope)
            cls._signalkit_mute = mute
            cls.addClassCleanup(gate.leave, mute, cls.mute_scope)  # type: ignore[attr-defined]
            cls.addClassCleanup(delattr, cls, "_signalkit_mute")  # type: ignore[attr-defined]
        super().setUpClass()  # type: ignore[misc]

    @classmethod
    def _pre_setup(cls) -> None:
        # With available_apps, a TransactionTestCase sends post_migrate here,
        # before each test: outside the class's mute (see signalkit.testing.flush).
        pre_setup = super()._pre_setup  # type: ignore[misc]
        mute = cls.__dict__.get("_signalkit_mute")
        if mute is None:
            pre_setup()
        else:
            pre_setup_unmuted(cls, mute, ((mute, cls.mute_scope),), pre_setup)

    @classmethod
    def _fixture_setup(cls) -> None:
        fixture_setup = super()._fixture_setup  # type: ignore[misc]
        mute = cls.__dict__.get("_signalkit_mute")
        if mute is None:
            fixture_setup()
        else:
            fixture_setup_muted(mute, ((mute, cls.mute_scope),), fixture_setup)

    def _fixture_teardown(self) -> None:
        # A TransactionTestCase's flush, after each test: outside the class's
        # mute (see signalkit.testing.flush).
        teardown = super()._fixture_teardown  # type: ignore[misc]
        mute = type(self).__dict__.get("_signalkit_mute")
        if mute is None:
            teardown()
        else:
            unmuted(((mute, self.mute_scope),), teardown)

    def run(self, result: Any = None) -> Any:
        # An IsolatedAsyncioTestCase runs each test in a context copied when the
        # test case was created, before setUpClass: the class's mute goes there too.
        mute = type(self).__dict__.get("_signalkit_mute")
        context = isolated_context(self)
        if mute is None or context is None or self.mute_scope != "context":
            return super().run(result)  # type: ignore[misc]
        context.run(gate.enter, mute)
        try:
            return super().run(result)  # type: ignore[misc]
        finally:
            context.run(gate.leave, mute)


def check_muted_signals(cls: type[MuteSignalsMixin]) -> None:
    """Refuse, as the class is created, what ``cls.muted_signals`` holds that
    ``setUpClass`` would refuse whenever it ran: what is no signal, or the
    dotted path of a signal in a module that is imported already (a misspelt
    name). A path into another module is resolved by ``setUpClass``, which
    imports it, and a short name too: the signal may be defined later. So may
    one in a module whose import is still running (the class's own)."""
    if not apps.ready:
        return
    signals = cls.muted_signals
    for signal in (signals,) if isinstance(signals, (str, Signal)) else signals:
        if isinstance(signal, str) and not _imported(signal.rpartition(".")[0]):
            continue
        try:
            gate.Mute((signal,))
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{cls.__name__}.muted_signals: {exc}") from None


def _imported(name: str) -> bool:
    # (As importlib tells a module whose import has finished.)
    module = sys.modules.get(name)
    return module is not None and not getattr(
        getattr(module, "__spec__", None), "_initializing", False
    )


def isolated_context(case: Any) -> contextvars.Context | None:
    """The context of its own in which a test case runs its test, if it has one:
    an :class:`unittest.IsolatedAsyncioTestCase` copies one when it is created,
    so mutes entered later in ``setUpClass`` or a pytest fixture are not in it."""
    context = getattr(case, "_asyncioTestContext", None)
    return context if isinstance(context, contextvars.Context) else None
