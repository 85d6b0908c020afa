from __future__ import annotations

import sys
from types import ModuleType
from typing import TYPE_CHECKING

import pytest
from django.apps import apps
from django.core.checks import run_checks
from django.db.models.signals import post_save

from signalkit.dispatch import Signal
from signalkit.registry import registry
from signalkit.signal_checks import check_signal_names
from signalkit.testing import mute_signals

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

HINT = (
    "Give each signal a name of its own: the name given to define_signal() or Signal(), "
    "else the variable that holds it. Until then, name them by their dotted paths."
)


@pytest.fixture
def module() -> Iterator[Callable[[str, str], ModuleType]]:
    """Modules made from source, as imports make them; removed after the test."""
    made: list[str] = []

    def make(name: str, source: str) -> ModuleType:
        created = ModuleType(name)
        sys.modules[name] = created
        made.append(name)
        exec(source, created.__dict__)
        return created

    yield make
    for name in made:
        del sys.modules[name]
    registry.clear_cache()  # (rescanned only when sys.modules grows)


def named(name: str) -> list[str]:
    return [message.msg for message in check_signal_names() if repr(name) in message.msg]


DEFINED = "import signalkit\norder_paid = signalkit.define_signal('order_paid_w015')\n"


class CheckSignalNamesTests:
    def test_two_modules_define_one_name(self, module: Callable[[str, str], ModuleType]) -> None:
        module("tests.w015_shop", DEFINED)
        module("tests.w015_billing", DEFINED)
        [message] = [m for m in check_signal_names() if "order_paid_w015" in m.msg]
        assert message.id == "signalkit.W015"
        assert message.msg == (
            "2 signals are named 'order_paid_w015': tests.w015_billing.order_paid_w015 "
            "(module tests.w015_billing) and tests.w015_shop.order_paid_w015 (module "
            "tests.w015_shop). 'manage.py listsignals order_paid_w015', "
            "registry.get('order_paid_w015') and mute_signals('order_paid_w015') cannot "
            "tell them apart, and refuse the name."
        )
        assert message.hint == HINT
        # What the message says.
        with pytest.raises(LookupError, match="'order_paid_w015' is ambiguous: use one of"):
            registry.get("order_paid_w015")
        with pytest.raises(ValueError, match="is ambiguous"):
            mute_signals("order_paid_w015")

    def test_the_name_of_one_of_djangos_signals(self) -> None:
        mine = Signal("post_save", module="tests.w015_mine")
        assert named("post_save") == [
            "2 signals are named 'post_save': django.db.models.signals.post_save (module "
            "django.db.models.signals) and tests.w015_mine.post_save (module "
            "tests.w015_mine). 'manage.py listsignals post_save', registry.get('post_save') "
            "and mute_signals('post_save') cannot tell them apart, and refuse the name."
        ]
        del mine
        assert named("post_save") == []
        assert registry.get("post_save").signal is post_save

    def test_one_name_twice_in_one_module(self, module: Callable[[str, str], ModuleType]) -> None:
        # A copy-paste slip: the second was meant to be order_refunded.
        module(
            "tests.w015_slip", f"{DEFINED}refunded = signalkit.define_signal('order_paid_w015')\n"
        )
        [message] = named("order_paid_w015")
        assert message.startswith(
            "2 signals are named 'order_paid_w015': tests.w015_slip.order_paid_w015 (module "
            "tests.w015_slip, bound to refunded) and tests.w015_slip.order_paid_w015 (module "
            "tests.w015_slip, bound to order_paid)."
        )

    def test_a_module_run_again_in_place_is_no_duplicate(
        self, module: Callable[[str, str], ModuleType]
    ) -> None:
        shop = module("tests.w015_reloaded", DEFINED)
        # A module that imported the signal keeps the one the reload replaced.
        importer = module("tests.w015_importer", "")
        importer.__dict__["order_paid_w015"] = shop.order_paid
        exec(DEFINED, shop.__dict__)  # as importlib.reload() does
        registry.clear_cache()
        assert importer.__dict__["order_paid_w015"] is not shop.order_paid
        assert named("order_paid_w015") == []
        # The name finds the signal the module holds now, as its path does.
        assert registry.get("order_paid_w015").signal is shop.order_paid
        assert registry.get("tests.w015_reloaded.order_paid_w015").signal is shop.order_paid

    def test_plain_signals_of_one_name_are_not_reported(
        self, module: Callable[[str, str], ModuleType]
    ) -> None:
        plain = "from django.dispatch import Signal\nplain_w015 = Signal()\n"
        module("tests.w015_plain_a", plain)
        module("tests.w015_plain_b", plain)
        assert named("plain_w015") == []
        # With a signalkit signal of that name, all three are listed.
        mine = Signal("plain_w015", module="tests.w015_mine")
        [message] = named("plain_w015")
        assert message.startswith(
            "3 signals are named 'plain_w015': tests.w015_mine.plain_w015 (module "
            "tests.w015_mine), tests.w015_plain_a.plain_w015 (module tests.w015_plain_a) and "
            "tests.w015_plain_b.plain_w015 (module tests.w015_plain_b)."
        )
        del mine

    def test_only_the_signals_of_the_apps_checked(self) -> None:
        # manage.py check LABEL: a name some signalkit signal of those apps has.
        mine = Signal("shared_w015", module="tests.registryapp.custom")
        theirs = Signal("shared_w015", module="tests.testapp.signals")
        assert len(named("shared_w015")) == 1
        [message] = check_signal_names([apps.get_app_config("registryapp")])
        assert message.id == "signalkit.W015"
        assert check_signal_names([apps.get_app_config("auth")]) == []
        del mine, theirs

    def test_registered_with_the_signals_tag(self) -> None:
        mine = Signal("tagged_w015", module="tests.w015_a")
        other = Signal("tagged_w015", module="tests.w015_b")
        assert [m.id for m in run_checks(tags=["signals"]) if "tagged_w015" in m.msg] == [
            "signalkit.W015"
        ]
        del mine, other
