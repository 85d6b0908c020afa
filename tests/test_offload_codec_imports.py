"""What a payload can make a worker import: a task's payload is data, written by
whoever can write to the queue, and it must not choose which code runs."""

from __future__ import annotations

import http
import sys
from typing import Any

import pytest
from django.test import TestCase

from signalkit.offload.codec import decode, encode
from tests.offloadapp.models import Article

UNIMPORTED = "tests.offload_unimported"
LAZY = "tests.offloadapp.lazy_enums"


def refusal(path: str, module: str) -> str:
    return (
        f"Cannot find the class {path!r}: a task does not import {module!r}, which is "
        f"neither imported in this process nor a module of an installed app (a payload "
        f"never chooses which code a worker runs). Import it when the worker starts: "
        f"in the receiver's module or an AppConfig.ready()."
    )


@pytest.mark.parametrize(
    ("payload", "path", "module"),
    [
        ({"$class": [UNIMPORTED, "Thing"]}, f"{UNIMPORTED}.Thing", UNIMPORTED),
        ({"$enum": [UNIMPORTED, "Colour", "red"]}, f"{UNIMPORTED}.Colour", UNIMPORTED),
        # The dotted form of earlier versions: "tests" is imported, and has no
        # class of that name.
        ({"$class": f"{UNIMPORTED}.Thing"}, f"{UNIMPORTED}.Thing", UNIMPORTED),
        ({"$class": "tabnanny.Thing"}, "tabnanny.Thing", "tabnanny"),
        ({"$enum": ["tabnanny", "Thing", 1]}, "tabnanny.Thing", "tabnanny"),
    ],
)
def test_a_payload_imports_no_module_outside_the_installed_apps(
    payload: Any, path: str, module: str
) -> None:
    assert module not in sys.modules
    with pytest.raises(ImportError) as caught:
        decode(payload, using="default")
    assert str(caught.value) == refusal(path, module)
    assert module not in sys.modules


def test_a_module_of_an_installed_app_is_imported_when_a_payload_names_it() -> None:
    sys.modules.pop(LAZY, None)
    enum_member = decode({"$enum": [LAZY, "Colour", "red"]}, using="default")
    assert type(enum_member).__module__ == LAZY
    assert enum_member.value == "red"
    sys.modules.pop(LAZY, None)
    assert decode({"$class": f"{LAZY}.Colour"}, using="default").__module__ == LAZY


def test_a_class_of_a_module_already_imported_arrives() -> None:
    # Outside the installed apps: the standard library, a package the worker uses.
    assert decode(encode(http.HTTPStatus.OK), using="default") is http.HTTPStatus.OK
    assert decode(encode(http.HTTPStatus), using="default") is http.HTTPStatus
    assert decode({"$class": "http.HTTPStatus"}, using="default") is http.HTTPStatus


def test_a_path_that_is_no_module_name_is_refused() -> None:
    for module in ("", ".offloadapp", ["tests"]):
        with pytest.raises((ImportError, TypeError)):
            decode({"$class": [module, "Thing"]}, using="default")


class DictKeyTests(TestCase):
    def test_a_dict_key_is_a_string_whatever_the_payload_says(self) -> None:
        # The encoder refuses keys that are not strings, so "$items" holds
        # strings only: a key that a payload gives as an instance was re-fetched
        # (a deleted one skipped the call, whatever MISSING said), and a class
        # key imported its module.
        article = Article.objects.create(title="Key")
        for key in (encode(article), {"$class": [UNIMPORTED, "Thing"]}, 1):
            with pytest.raises(TypeError, match="is not a dict key of an offload payload"):
                decode({"$items": [[key, 1]]}, using="default", none_if_missing=True)
        assert UNIMPORTED not in sys.modules
        assert decode({"$items": [[{"$str": "YQBi"}, 1]]}, using="default") == {"a\x00b": 1}
