from __future__ import annotations

import functools
import gc
import sys
import weakref
from types import ModuleType
from typing import TYPE_CHECKING, Any

import django
import pytest
from django.core.signals import setting_changed
from django.db.models.signals import post_save
from django.dispatch import Signal as DjangoSignal
from django.test import override_settings

from signalkit.dispatch import Signal
from signalkit.entries import UnreadableEntryWarning
from signalkit.receivers import connect
from signalkit.registry import ReceiverInfo, registry
from tests.registryapp import custom, handlers
from tests.testapp.models import Article, Author, Stamped

if TYPE_CHECKING:
    from collections.abc import Iterator

HANDLERS = "tests/registryapp/handlers.py"


pytestmark = pytest.mark.usefixtures("test_signals_disconnected")

#: Named otherwise than its variable.
held = Signal("order_on_hold", doc="An order was put on hold.")
#: Another module's signal under a second name.
cancelled_alias = custom.order_cancelled


@pytest.fixture
def signal() -> Iterator[Signal]:
    signal = Signal("registry_demo", module="tests.test_registry", args=("item",))
    yield signal
    del signal
    gc.collect()


def only(signal: Any, **kwargs: Any) -> ReceiverInfo:
    (info,) = registry.receivers(signal, **kwargs)
    return info


class SignalsTests:
    def test_builtin_signals_first_in_catalog_order(self) -> None:
        infos = registry.signals()
        builtin = [info for info in infos if info.builtin]
        assert len(builtin) == (24 if django.VERSION >= (6, 0) else 21)
        assert infos[: len(builtin)] == builtin
        (save,) = [info for info in builtin if info.name == "post_save"]
        assert save.signal is post_save
        assert save.path == "django.db.models.signals.post_save"

    def test_custom_signals_by_path(self) -> None:
        by_path = {info.path: info for info in registry.signals()}
        shipped = by_path["tests.registryapp.custom.item_shipped"]
        assert shipped.signal is custom.item_shipped
        assert shipped.args == ("item",)
        assert shipped.doc == "An item left the warehouse."
        assert not shipped.builtin
        paid = by_path["tests.registryapp.custom.order_paid"]
        assert paid.signal is custom.order_paid
        assert paid.name == "order_paid"

    def test_unnamed_signalkit_signal_is_named_after_its_variable(self) -> None:
        info = registry.get("tests.registryapp.custom.order_cancelled")
        assert info.signal is custom.order_cancelled
        assert info.name == "order_cancelled"
        assert info.args == ("order", "reason")

    def test_unnamed_signalkit_signals_on_a_class_are_named_after_their_attributes(
        self,
    ) -> None:
        paid = registry.info(custom.ShopEvents.paid)
        assert paid.name == "ShopEvents.paid"
        assert paid.path == "tests.registryapp.custom.ShopEvents.paid"
        assert paid.doc == "An order was paid."
        refunded = registry.get("tests.registryapp.custom.ShopEvents.refunded")
        assert refunded.signal is custom.ShopEvents.refunded
        assert custom.ShopEvents.paid.path == "tests.registryapp.custom.ShopEvents.paid"

    def test_plain_signal_on_a_class_is_found(self) -> None:
        info = registry.get("tests.registryapp.custom.ShopEvents.changed")
        assert info.signal is custom.ShopEvents.changed
        assert info.name == "ShopEvents.changed"

    def test_a_path_into_a_module_nobody_imported_imports_it(self) -> None:
        for path in ("stock_low", "Warehouse.emptied"):
            sys.modules.pop("tests.registryapp.unimported", None)
            info = registry.get(f"tests.registryapp.unimported.{path}")
            module = sys.modules["tests.registryapp.unimported"]
            assert info.signal is eval(path, vars(module))
            assert info.path == f"tests.registryapp.unimported.{path}"
        sys.modules.pop("tests.registryapp.unimported", None)

    def test_a_path_into_a_module_that_fails_to_import_says_why(self) -> None:
        with pytest.raises(LookupError) as raised:
            registry.get("tests.registryapp.broken.order_lost")
        assert str(raised.value.args[0]) == (
            "Unknown signal 'tests.registryapp.broken.order_lost'. Importing "
            "'tests.registryapp.broken' failed: No module named 'signalkit_tests_no_such_module'"
        )
        assert "tests.registryapp.broken" not in sys.modules

    def test_a_path_into_no_module_is_unknown(self) -> None:
        cases = {
            "nosuchpackage.signals.x": "No module named 'nosuchpackage'.",
            "tests.registryapp.custom.nope": (
                "'tests.registryapp.custom' has no attribute or submodule 'nope'."
            ),
            "tests.registryapp.custom.ShopEvents.nope": (
                "'tests.registryapp.custom.ShopEvents' has no attribute or submodule 'nope'."
            ),
            "tests.registryapp.custom.StrictSignal": (
                "'tests.registryapp.custom.StrictSignal' is a class, not a signal."
            ),
            "tests.registryapp.custom.lazy": (
                "'tests.registryapp.custom.lazy' is a SimpleLazyObject, not a signal."
            ),
        }
        for path, why in cases.items():
            with pytest.raises(LookupError) as raised:
                registry.get(path)
            assert raised.value.args[0].startswith(f"Unknown signal {path!r}. {why}")

    def test_a_path_to_a_signal_under_another_name_finds_it(self) -> None:
        # A signal named otherwise than its variable, and an alias of another
        # module's signal: the path resolves, to the signal's own entry.
        info = registry.get("tests.test_registry.held")
        assert (info.signal, info.name) == (held, "order_on_hold")
        info = registry.get("tests.test_registry.cancelled_alias")
        assert info.signal is custom.order_cancelled
        assert info.path == "tests.registryapp.custom.order_cancelled"

    def test_a_leading_dot_is_a_typo_with_close_matches(self) -> None:
        with pytest.raises(
            LookupError, match=r"^Unknown signal '\.post_save'\. Did you mean 'post_save'"
        ):
            registry.get(".post_save")

    def test_a_misspelt_path_into_a_module_it_imports_has_close_matches(self) -> None:
        sys.modules.pop("tests.registryapp.unimported", None)
        try:
            with pytest.raises(
                LookupError, match=r"Did you mean 'tests\.registryapp\.unimported\.stock_low'"
            ):
                registry.get("tests.registryapp.unimported.stock_lw")
        finally:
            sys.modules.pop("tests.registryapp.unimported", None)

    def test_unnamed_signals_held_by_no_module_have_paths_of_their_own(self) -> None:
        first, second = Signal(), Signal()
        assert first.path != second.path
        assert first.path.startswith(f"{__name__}.<unnamed 0x")
        assert registry.info(first).path == first.path
        assert registry.info(first).name == first.path.rpartition(".")[2]

    def test_listing_looks_an_unnamed_signal_up_once(self, monkeypatch: pytest.MonkeyPatch) -> None:
        # Each lookup walks the signal's module: listing must not do it twice
        # for a signal that nothing there holds.
        signal = Signal()
        looked_up: list[Any] = []

        def name_in_module(obj: Any, module: str) -> None:
            looked_up.append(obj)

        monkeypatch.setattr(sys.modules["signalkit.dispatch"], "name_in_module", name_in_module)
        # (The module, not the registry instance that signalkit.registry names.)
        registry_module = sys.modules["signalkit.registry"]
        monkeypatch.setattr(registry_module, "name_in_module", name_in_module, raising=False)
        registry.signals()
        assert sum(obj is signal for obj in looked_up) == 1

    def test_scan_never_evaluates_lazy_objects(self) -> None:
        registry.clear_cache()
        registry.signals()
        assert custom.evaluations == []

    def test_holds_only_weak_references(self) -> None:
        module = ModuleType("tests.registry_temporary")
        module.temporary = DjangoSignal()  # type: ignore[attr-defined]
        sys.modules[module.__name__] = module
        try:
            assert registry.get("tests.registry_temporary.temporary")
        finally:
            del sys.modules[module.__name__]
        ref = weakref.ref(module.temporary)
        del module
        gc.collect()
        assert ref() is None
        registry.clear_cache()
        with pytest.raises(LookupError):
            registry.get("tests.registry_temporary.temporary")


class GetTests:
    def test_by_name_or_path(self) -> None:
        assert registry.get("post_save").signal is post_save
        assert registry.get("django.core.signals.setting_changed").signal is setting_changed

    def test_unknown_name_suggests_close_matches(self) -> None:
        with pytest.raises(
            LookupError, match=r"Unknown signal 'post_sve'\. Did you mean 'post_save'"
        ):
            registry.get("post_sve")

    def test_ambiguous_name_lists_paths(self, signal: Signal) -> None:
        other = Signal("post_save", module="tests.test_registry")
        with pytest.raises(LookupError, match=r"ambiguous: use one of django\.db\.models"):
            registry.get("post_save")
        del other

    def test_a_name_finds_the_signal_its_reloaded_module_holds(self) -> None:
        # The signal it replaced lives on in a module that imported it: the
        # same signal defined again, not a second one of that name.
        module = ModuleType("tests.registry_reloaded")
        importer = ModuleType("tests.registry_importer")
        sys.modules[module.__name__] = module
        sys.modules[importer.__name__] = importer
        source = "import signalkit\nrestocked = signalkit.define_signal('restocked')\n"
        try:
            exec(source, module.__dict__)
            importer.__dict__["restocked"] = module.restocked
            exec(source, module.__dict__)  # as importlib.reload() does
            registry.clear_cache()
            assert registry.get("restocked").signal is module.restocked
            listed = [info for info in registry.signals() if info.name == "restocked"]
            assert [info.path for info in listed] == ["tests.registry_reloaded.restocked"] * 2
        finally:
            del sys.modules[module.__name__], sys.modules[importer.__name__]
            registry.clear_cache()


class ReceiversTests:
    def test_function(self, signal: Signal) -> None:
        signal.connect(handlers.on_event)
        info = only(signal)
        assert info.signal.path == "tests.test_registry.registry_demo"
        assert info.key == "tests.registryapp.handlers.on_event"
        assert (info.module, info.qualname) == ("tests.registryapp.handlers", "on_event")
        assert info.location == f"{HANDLERS}:13"
        assert info.sender is None
        assert (info.weak, info.is_async, info.dead, info.enabled) == (True, False, False, True)
        assert (info.dispatch_uid, info.on_commit, info.offload) == (None, False, False)

    def test_async_function(self, signal: Signal) -> None:
        signal.connect(handlers.on_event_async)
        assert only(signal).is_async

    def test_in_the_order_send_calls_them(self, signal: Signal) -> None:
        # Django calls the sync receivers first, then the async ones.
        called: list[str] = []

        async def first(sender: Any, **kwargs: Any) -> None:
            called.append("first")

        def second(sender: Any, **kwargs: Any) -> None:
            called.append("second")

        async def third(sender: Any, **kwargs: Any) -> None:
            called.append("third")

        def fourth(sender: Any, **kwargs: Any) -> None:
            called.append("fourth")

        for receiver in (first, second, third, fourth):
            signal.connect(receiver)
        signal.send(None)
        listed = [str(r.qualname).rpartition(".")[2] for r in registry.receivers(signal)]
        assert listed == called == ["second", "fourth", "first", "third"]

    def test_static_and_bound_methods(self, signal: Signal) -> None:
        instance = handlers.Handlers()
        signal.connect(handlers.Handlers.static)
        signal.connect(instance.method)
        static, method = registry.receivers(signal)
        assert static.key == "tests.registryapp.handlers.Handlers.static"
        assert static.location == f"{HANDLERS}:42"
        assert method.key == "tests.registryapp.handlers.Handlers.method"
        assert method.qualname == "Handlers.method"
        assert method.location == f"{HANDLERS}:39"

    def test_partial_and_callable_instance(self, signal: Signal) -> None:
        bound = functools.partial(handlers.with_option, option="x")
        instance = handlers.CallableReceiver()
        signal.connect(bound, weak=False)
        signal.connect(instance)
        partial, callable_ = registry.receivers(signal)
        assert partial.key == "tests.registryapp.handlers.with_option"
        assert partial.location == f"{HANDLERS}:34"
        assert not partial.weak
        assert callable_.key == "tests.registryapp.handlers.CallableReceiver"
        assert callable_.qualname == "CallableReceiver"
        assert callable_.location == f"{HANDLERS}:48"

    def test_decorated_function_through_wrapped(self, signal: Signal) -> None:
        signal.connect(handlers.decorated)
        info = only(signal)
        assert info.key == "tests.registryapp.handlers.decorated"
        assert info.location == f"{HANDLERS}:29"

    def test_name_overrides_the_key(self, signal: Signal) -> None:
        def named(sender: Any, **kwargs: Any) -> None:
            pass

        connect(signal, named, name="shop.named")
        assert only(signal).key == "shop.named"

    def test_deferred_receiver_shows_its_function(self) -> None:
        connect(post_save, handlers.on_event, sender=Author, on_commit=True)
        try:
            info = only(post_save, app="registryapp")
        finally:
            post_save.disconnect(handlers.on_event, sender=Author)
        assert info.key == "tests.registryapp.handlers.on_event"
        assert info.module == "tests.registryapp.handlers"
        assert info.location == f"{HANDLERS}:13"
        assert info.sender == "testapp.Author"
        assert (info.on_commit, info.offload, info.dispatch_uid) == (True, False, None)

    @pytest.mark.parametrize("uid", ["shop.uid", 7, ("shop", 1)])
    def test_dispatch_uid(self, signal: Signal, uid: Any) -> None:
        signal.connect(handlers.on_event, dispatch_uid=uid)
        assert only(signal).dispatch_uid == uid

    def test_dead_receiver(self, signal: Signal) -> None:
        local = handlers.make_local_receiver()
        signal.connect(local)
        del local
        gc.collect()
        info = only(signal)
        assert info.dead
        assert info.key == "<dead receiver>"
        assert info.location is None

    def test_a_receiver_whose_sender_was_collected(self, signal: Signal) -> None:
        # Django 6.0+ holds the sender weakly and never calls such a receiver.
        sender = type("Temporary", (), {})
        signal.connect(handlers.on_event, sender=sender)
        del sender
        gc.collect()
        info = only(signal)
        assert info.dead is (django.VERSION >= (6,))

    @override_settings(SIGNALKIT={"RECEIVERS": {"tests.registryapp.handlers.on_event": False}})
    def test_disabled_toggle(self, signal: Signal) -> None:
        signal.connect(handlers.on_event)
        assert not only(signal).enabled

    def test_senders(self, signal: Signal) -> None:
        opaque = object()  # neither weak-referenceable nor module-level
        senders = (Article, Stamped, custom.SHOP_SENDER, "registryapp", "on_event", opaque)
        for sender in senders:
            signal.connect(handlers.on_event, sender=sender)
        labels = [info.sender for info in registry.receivers(signal)]
        assert labels == [
            "testapp.Article",
            "testapp.Stamped",
            "shop.v2",
            "registryapp",
            "on_event",
            f"<unresolved sender id {id(opaque):#x}>",
        ]

    def test_user_model_app_config_and_handler_senders(self, signal: Signal) -> None:
        from django.apps import apps
        from django.contrib.auth import get_user_model
        from django.core.handlers.wsgi import WSGIHandler

        for sender in (get_user_model(), apps.get_app_config("auth"), WSGIHandler, None):
            signal.connect(handlers.on_event, sender=sender)
        assert [info.sender for info in registry.receivers(signal)] == [
            "auth.User",
            "auth (AppConfig)",
            "django.core.handlers.wsgi.WSGIHandler",
            None,
        ]

    def test_sender_filter_keeps_any_sender_receivers(self, signal: Signal) -> None:
        signal.connect(handlers.on_event, sender=Article)
        signal.connect(handlers.decorated, sender=Author)
        signal.connect(handlers.on_event_async)
        keys = [r.qualname for r in registry.receivers(signal, sender="testapp.article")]
        assert keys == ["on_event", "on_event_async"]
        assert [r.qualname for r in registry.receivers(signal, sender=Author)] == [
            "decorated",
            "on_event_async",
        ]

    def test_a_model_instance_as_sender_is_a_type_error(self, signal: Signal) -> None:
        # Django sends model signals from the class: an instance would keep only
        # the receivers connected for any sender, as if they were all there is.
        signal.connect(handlers.on_event, sender=Article)
        with pytest.raises(TypeError, match=r"use Article or 'testapp\.Article'\.$"):
            registry.receivers(signal, sender=Article())  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=r"^sender must be a model"):
            registry.receivers(signal, sender=42)  # type: ignore[arg-type]

    def test_an_app_config_sender_filters_by_it(self, signal: Signal) -> None:
        from django.apps import apps

        signal.connect(handlers.on_event, sender=apps.get_app_config("auth"))
        signal.connect(handlers.decorated, sender=apps.get_app_config("testapp"))
        listed = registry.receivers(signal, sender=apps.get_app_config("auth"))
        assert [r.qualname for r in listed] == ["on_event"]

    def test_app_filter(self, signal: Signal) -> None:
        signal.connect(handlers.on_event)
        signal.connect(custom._evaluate)
        assert [r.qualname for r in registry.receivers(signal, app="registryapp")] == [
            "on_event",
            "_evaluate",
        ]
        assert registry.receivers(signal, app="testapp") == []
        assert [r.key for r in registry.receivers(app="testapp")] == [
            "tests.testapp.signals.remember_author"
        ]

    def test_app_filter_leaves_out_an_app_installed_inside_it(self, signal: Signal) -> None:
        from django.conf import settings

        from tests.registryapp.nested.handlers import on_nested_event

        signal.connect(handlers.on_event)
        signal.connect(on_nested_event)
        nested = [*settings.INSTALLED_APPS, "tests.registryapp.nested"]
        with override_settings(INSTALLED_APPS=nested):
            assert [r.qualname for r in registry.receivers(signal, app="registryapp")] == [
                "on_event"
            ]
            assert [r.qualname for r in registry.receivers(signal, app="nested")] == [
                "on_nested_event"
            ]

    def test_pending_string_sender(self) -> None:
        from django.apps import apps

        post_save.connect(handlers.on_event, sender="registryapp.Later")
        try:
            info = only(post_save, app="registryapp")
        finally:
            apps._pending_operations.pop(("registryapp", "later"))
        assert info.sender == "registryapp.later (pending)"
        assert info.key == "tests.registryapp.handlers.on_event"
        assert info.is_async is False

    def test_pending_async_receiver_is_async(self) -> None:
        from django.apps import apps

        post_save.connect(handlers.on_event_async, sender="registryapp.Later")
        connect(
            post_save,
            handlers.on_event_async,
            sender="registryapp.Later",
            on_commit=True,
            dispatch_uid="after_commit",
        )
        try:
            plain, deferred = registry.receivers(post_save, app="registryapp")
        finally:
            apps._pending_operations.pop(("registryapp", "later"))
        assert plain.sender == deferred.sender == "registryapp.later (pending)"
        assert plain.is_async is True
        assert deferred.is_async is True
        assert deferred.on_commit is True

    def test_unreadable_entry_is_a_row_not_a_crash(self, signal: Signal) -> None:
        signal.connect(handlers.on_event)
        signal.receivers.append(("what", "is", "this", "shape", "?"))
        with pytest.warns(UnreadableEntryWarning):
            good, bad = registry.receivers(signal)
        assert good.key == "tests.registryapp.handlers.on_event"
        assert bad.key == "<unreadable entry ('what', 'is', 'this', 'shape', '?')>"
        assert (bad.module, bad.location, bad.dead) == (None, None, False)

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"signal": "post_sav"}, "Did you mean 'post_save'"),
            ({"sender": "testapp.Autor"}, "Unknown model 'testapp.Autor'.*'testapp.Author'"),
            ({"app": "testap"}, "Unknown app label 'testap'. Did you mean 'testapp'"),
        ],
    )
    def test_bad_input(self, kwargs: dict[str, Any], message: str) -> None:
        with pytest.raises(LookupError, match=message):
            registry.receivers(**kwargs)
