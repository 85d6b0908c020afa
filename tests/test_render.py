from __future__ import annotations

import gc
import json
from typing import TYPE_CHECKING

import pytest
from django.test import override_settings

from signalkit.dispatch import Signal
from signalkit.receivers import connect
from signalkit.registry import registry
from signalkit.render import as_json, listing, mermaid, text
from tests.registryapp import custom, handlers
from tests.testapp.models import Article

if TYPE_CHECKING:
    from collections.abc import Iterator

PATH = "tests.test_render.render_demo"


pytestmark = pytest.mark.usefixtures("test_signals_disconnected")


@pytest.fixture
def signal() -> Iterator[Signal]:
    signal = Signal("render_demo", module="tests.test_render", doc="A demo signal.", args=("item",))
    instance = handlers.CallableReceiver()
    signal.connect(handlers.on_event, sender=Article)
    signal.connect(handlers.on_event_async, dispatch_uid="demo.async")
    signal.connect(instance, weak=False)
    connect(signal, handlers.with_option, on_commit=True)
    yield signal
    del signal


WIDE = """\
render_demo (tests.test_render.render_demo)
  tests.registryapp.handlers.on_event          testapp.Article  weak
      at tests/registryapp/handlers.py:13
  tests.registryapp.handlers.CallableReceiver  any sender       strong
      at tests/registryapp/handlers.py:48
  tests.registryapp.handlers.with_option       any sender       weak, on_commit
      at tests/registryapp/handlers.py:34
  tests.registryapp.handlers.on_event_async    any sender       async, weak, uid='demo.async'
      at tests/registryapp/handlers.py:17
"""


class ListingTests:
    def test_only_signals_with_receivers_unless_all(self, signal: Signal) -> None:
        paths = [info.path for info, _ in listing()]
        assert PATH in paths
        assert "django.db.models.signals.pre_init" not in paths
        everything = [info.path for info, _ in listing(include_all=True)]
        assert everything[0] == "django.db.models.signals.pre_init"
        assert len(everything) == len(registry.signals())

    def test_djangos_receivers_hidden_unless_asked(self) -> None:
        keys = [r.key for _, receivers in listing(["request_finished"]) for r in receivers]
        assert keys == []
        keys = [
            r.key
            for _, receivers in listing(["request_finished"], include_django=True)
            for r in receivers
        ]
        assert "django.db.close_old_connections" in keys

    def test_djangos_receiver_switched_off_is_shown(self) -> None:
        # The project switched it off: listing it shows that the toggle took.
        key = "django.db.close_old_connections"
        with override_settings(SIGNALKIT={"RECEIVERS": {key: False}}):
            shown = [r for _, found in listing(["request_finished"]) for r in found]
        assert [(r.key, r.enabled) for r in shown] == [(key, False)]

    def test_signalkit_bookkeeping_hidden_with_djangos(self) -> None:
        def keys(include_django: bool = False) -> list[str]:
            data = listing(["setting_changed"], include_django=include_django)
            return [r.key for _, receivers in data for r in receivers]

        assert "signalkit.conf.reset_settings" not in keys()
        assert "signalkit.conf.reset_settings" in keys(include_django=True)

    def test_unnamed_signals_on_a_class_are_listed_apart(self) -> None:
        custom.ShopEvents.paid.connect(handlers.on_event)
        custom.ShopEvents.refunded.connect(handlers.decorated)
        try:
            data = {info.path: receivers for info, receivers in listing()}
        finally:
            custom.ShopEvents.paid.disconnect(handlers.on_event)
            custom.ShopEvents.refunded.disconnect(handlers.decorated)
        assert [r.qualname for r in data["tests.registryapp.custom.ShopEvents.paid"]] == [
            "on_event"
        ]
        assert [r.qualname for r in data["tests.registryapp.custom.ShopEvents.refunded"]] == [
            "decorated"
        ]

    def test_named_signal_is_listed_even_without_receivers(self) -> None:
        ((info, receivers),) = listing(["pre_init"])
        assert info.name == "pre_init"
        assert receivers == []

    def test_sender_and_app(self, signal: Signal) -> None:
        ((_, receivers),) = listing([PATH], sender="testapp.Article")
        # As send() calls them: the sync ones, then the async one connected second.
        assert [r.qualname for r in receivers] == [
            "on_event",
            "CallableReceiver",
            "with_option",
            "on_event_async",
        ]
        ((_, receivers),) = listing([PATH], sender="auth.User")
        assert "on_event" not in [r.qualname for r in receivers]
        assert listing([PATH], app="testapp") == [(registry.get(PATH), [])]

    def test_dead_receivers_are_left_out(self, signal: Signal) -> None:
        # Django never calls them again and drops them at its next clean-up.
        local = handlers.make_local_receiver()
        signal.connect(local)
        temporary = type("Temporary", (), {})
        signal.connect(handlers.decorated, sender=temporary)
        del local, temporary
        gc.collect()
        connected = registry.receivers(signal)
        assert "<dead receiver>" in [r.key for r in connected]  # (the registry lists them)
        ((_, receivers),) = listing([PATH])
        assert [r.key for r in receivers] == [r.key for r in connected if not r.dead]
        assert not any(r.dead for r in receivers)

    @pytest.mark.parametrize(
        "kwargs",
        [{"names": ["nope"]}, {"sender": "testapp.Nope"}, {"app": "nope"}],
    )
    def test_bad_input(self, kwargs: dict[str, object]) -> None:
        with pytest.raises(LookupError):
            listing(**kwargs)  # type: ignore[arg-type]


class MultiLineRepr:
    """A ``dispatch_uid`` whose ``repr()`` spans two lines."""

    def __repr__(self) -> str:
        return "<multi\nline>"


class TextTests:
    def test_wide_group_puts_locations_on_their_own_lines(self, signal: Signal) -> None:
        assert text(listing([PATH])) == WIDE
        assert all(len(line) <= 100 for line in WIDE.splitlines())

    def test_narrow_group_is_one_line_per_receiver(self) -> None:
        demo = Signal("narrow_demo", module="tests.test_render")
        demo.connect(handlers.on_event, sender=Article)
        assert text(listing(["tests.test_render.narrow_demo"])) == (
            "narrow_demo (tests.test_render.narrow_demo)\n"
            "  tests.registryapp.handlers.on_event  testapp.Article  weak"
            "  tests/registryapp/handlers.py:13\n"
        )

    @override_settings(SIGNALKIT={"RECEIVERS": {"tests.registryapp.handlers.on_event": False}})
    def test_disabled_and_strong_flags(self) -> None:
        demo = Signal("flag_demo", module="tests.test_render")
        demo.connect(handlers.on_event, weak=False, dispatch_uid=7)
        assert text(listing(["tests.test_render.flag_demo"])) == (
            "flag_demo (tests.test_render.flag_demo)\n"
            "  tests.registryapp.handlers.on_event  any sender  strong, uid=7, disabled\n"
            "      at tests/registryapp/handlers.py:13\n"
        )

    def test_line_breaks_in_names_are_escaped(self) -> None:
        # (JSON keeps the values as they are: JSON escapes them itself.)
        demo = Signal("line\nbreak", module="tests.test_render", doc="Two\nlines.")
        local = handlers.make_local_receiver()
        local.__qualname__ = "qual\nname"
        connect(demo, local, dispatch_uid=MultiLineRepr())
        connect(demo, handlers.make_local_receiver(), name="named\r\x85key\u2028", weak=False)
        data = listing([demo.path])
        assert text(data) == (
            "line\\nbreak (tests.test_render.line\\nbreak)\n"
            "  tests.registryapp.handlers.qual\\nname  any sender  weak, uid=<multi\\nline>\n"
            "      at tests/registryapp/handlers.py:58\n"
            "  named\\r\\x85key\\u2028                   any sender  strong\n"
            "      at tests/registryapp/handlers.py:58\n"
        )
        [document] = json.loads(as_json(data))["signals"]
        assert (document["name"], document["doc"]) == ("line\nbreak", "Two\nlines.")
        assert [(r["key"], r["qualname"], r["dispatch_uid"]) for r in document["receivers"]] == [
            ("tests.registryapp.handlers.qual\nname", "qual\nname", "<multi\nline>"),
            ("named\r\x85key\u2028", "make_local_receiver.<locals>.local", None),
        ]

    def test_empty_and_unimported(self) -> None:
        assert text([]) == "No receivers.\n"
        assert text(listing(["template_rendered", "pre_init"])) == (
            "template_rendered (django.test.signals.template_rendered)\n"
            + (
                "  (no receivers)\n"
                if registry.get("template_rendered").signal is not None
                else "  (its module is not imported)\n"
            )
            + "\npre_init (django.db.models.signals.pre_init)\n  (no receivers)\n"
        )


class JsonTests:
    def test_documented_schema(self, signal: Signal) -> None:
        document = json.loads(as_json(listing([PATH])))
        assert document["version"] == 1
        (entry,) = document["signals"]
        assert entry == {
            "name": "render_demo",
            "path": PATH,
            "builtin": False,
            "args": ["item"],
            "doc": "A demo signal.",
            "receivers": entry["receivers"],
        }
        assert entry["receivers"][3] == {
            "key": "tests.registryapp.handlers.on_event_async",
            "module": "tests.registryapp.handlers",
            "qualname": "on_event_async",
            "sender": None,
            "dispatch_uid": "demo.async",
            "weak": True,
            "is_async": True,
            "dead": False,
            "enabled": True,
            "location": "tests/registryapp/handlers.py:17",
            "on_commit": False,
            "offload": False,
        }
        assert [r["on_commit"] for r in entry["receivers"]] == [False, False, True, False]
        assert [r["sender"] for r in entry["receivers"]] == ["testapp.Article", None, None, None]

    def test_exact_text(self, signal: Signal) -> None:
        out = as_json(listing([PATH], sender="testapp.Article", app="registryapp"))
        assert out.startswith(
            '{\n  "version": 1,\n  "signals": [\n    {\n      "name": "render_demo",'
        )
        assert out.endswith("    }\n  ]\n}\n")

    def test_uid_that_is_not_json_is_its_repr(self) -> None:
        demo = Signal("uid_demo", module="tests.test_render")
        demo.connect(handlers.on_event, dispatch_uid=("shop", 1))
        (entry,) = json.loads(as_json(listing(["tests.test_render.uid_demo"])))["signals"]
        assert entry["receivers"][0]["dispatch_uid"] == "('shop', 1)"


class MermaidTests:
    def test_flowchart(self, signal: Signal) -> None:
        assert mermaid(listing([PATH, "pre_init"])) == (
            "flowchart LR\n"
            '    s0["render_demo"]\n'
            '    r0["tests.registryapp.handlers.on_event"]\n'
            '    r1["tests.registryapp.handlers.CallableReceiver"]\n'
            '    r2["tests.registryapp.handlers.with_option"]\n'
            '    r3["tests.registryapp.handlers.on_event_async"]\n'
            '    s1["pre_init"]\n'
            '    s0 -->|"testapp.Article"| r0\n'
            '    s0 -->|"any sender"| r1\n'
            '    s0 -->|"any sender"| r2\n'
            '    s0 -->|"any sender"| r3\n'
        )

    def test_labels_are_escaped_and_nodes_shared(self) -> None:
        first = Signal("first", module="tests.test_render")
        second = Signal("second", module="tests.test_render")
        first.connect(handlers.on_event, sender=custom.ODD_SENDER)
        second.connect(handlers.on_event)
        out = mermaid(listing(["tests.test_render.first", "tests.test_render.second"]))
        assert out == (
            "flowchart LR\n"
            '    s0["first"]\n'
            '    r0["tests.registryapp.handlers.on_event"]\n'
            '    s1["second"]\n'
            '    s0 -->|"a #quot;quoted#quot; #lt;sender#gt; #amp; co"| r0\n'
            '    s1 -->|"any sender"| r0\n'
        )

    def test_entity_codes_and_line_breaks_in_labels_are_escaped(self) -> None:
        # A "#" starts a mermaid entity code: "#lt;" would show as "<". A line
        # break would end the node's line and break the chart.
        odd = Signal("ticket#lt;1;\nnext", module="tests.test_render")
        odd.connect(handlers.on_event)
        assert mermaid(listing([odd.path])) == (
            "flowchart LR\n"
            '    s0["ticket#35;lt;1;#10;next"]\n'
            '    r0["tests.registryapp.handlers.on_event"]\n'
            '    s0 -->|"any sender"| r0\n'
        )
