"""The wrappers of ``save_base`` and ``_save_table`` that follow the saves in
progress: Django's own methods get wrappers that pass their arguments on by
position; a method overridden with other parameters gets one that passes on
whatever it is given."""

from __future__ import annotations

import functools
from typing import Any

from django.db.models import Model
from django.test import SimpleTestCase, TestCase

from signalkit.audit import saves
from signalkit.audit.wrapping import fitting
from tests.audit_utils import audited, events
from tests.auditapp.models import Account
from tests.test_audit_refresh import refreshed_after_save


def standard(
    self: Any,
    raw: bool = False,
    force_insert: bool = False,
    force_update: bool = False,
    using: str | None = None,
    update_fields: Any = None,
) -> tuple[Any, ...]:
    """A stand-in with the parameters of Django's ``save_base``."""
    return (raw, force_insert, force_update, using, update_fields)


class WrapperChoiceTests(SimpleTestCase):
    def test_djangos_own_methods_get_the_positional_wrappers(self) -> None:
        # Fails on a Django whose save_base() or _save_table() takes other
        # parameters: the wrappers would still work, through *args and **kwargs.
        assert saves._wrap(Model.save_base).__code__.co_name == "save_base"
        save_table = Model._save_table  # type: ignore[attr-defined]
        assert saves._wrap_write(save_table).__code__.co_name == "_save_table"

    def test_other_parameters_get_the_general_wrappers(self) -> None:
        def save_base(self: Any, *args: Any, **kwargs: Any) -> None:
            return None

        def _save_table(self: Any, raw: bool = True) -> None:  # another default
            return None

        assert saves._wrap(save_base).__code__.co_name == "any_save_base"
        assert saves._wrap_write(_save_table).__code__.co_name == "any_save_table"

    def test_a_decorated_method_is_judged_by_its_own_parameters(self) -> None:
        # functools.wraps() makes the decorator's wrapper report the parameters
        # of what it wraps; it takes others (here: ``reason``).
        def decorated(function: Any) -> Any:
            @functools.wraps(function)
            def wrapper(self: Any, *args: Any, reason: str = "", **kwargs: Any) -> Any:
                return function(self, *args, **kwargs)

            return wrapper

        wrapped = saves._wrap(decorated(standard))
        assert wrapped.__code__.co_name == "any_save_base"
        assert wrapped(object(), using="other", reason="x") == (False, False, False, "other", None)

    def test_the_positional_wrapper_passes_every_argument_on(self) -> None:
        wrapped = saves._wrap(standard)
        assert wrapped.__code__.co_name == "save_base"
        instance = object()
        assert wrapped(instance) == (False, False, False, None, None)
        assert wrapped(instance, True, using="other", update_fields=["a"], force_update=True) == (
            True,
            False,
            True,
            "other",
            ["a"],
        )
        assert not saves._active

    def test_fitting_compares_names_kinds_and_defaults(self) -> None:
        def same(self: Any, raw: bool = False, force_insert: bool = False, **rest: Any) -> None:
            return None

        def renamed(self: Any, raw: bool = False, insert: bool = False, **rest: Any) -> None:
            return None

        def keyword_only(self: Any, raw: bool = False, *, force_insert: bool = False) -> None:
            return None

        def general(*args: Any, **kwargs: Any) -> None:
            return None

        exact = same
        assert fitting(same, exact, general) is exact
        assert fitting(renamed, exact, general) is general
        assert fitting(keyword_only, exact, general) is general
        assert fitting(print, exact, general) is general  # (a builtin: no signature)


class OverriddenSaveBaseTests(TestCase):
    def test_a_save_base_with_other_parameters_is_followed_too(self) -> None:
        reasons: list[str] = []

        def save_base(self: Account, *args: Any, reason: str = "", **kwargs: Any) -> None:
            reasons.append(reason)
            Model.save_base(self, *args, **kwargs)

        Account.save_base = save_base  # type: ignore[method-assign,assignment]
        try:
            with audited():
                account = Account.objects.create(name="a", balance=1)
                # A post_save receiver that refreshes, before the audit's: the
                # save's frame keeps its old values for the audit.
                with refreshed_after_save(), audited():
                    assert Account.save_base.__code__.co_name == "any_save_base"
                    account.name = "b"
                    account.save()
                    account.name = "c"
                    account.save_base(using="default", reason="by hand")  # type: ignore[call-arg]
            assert not saves._active
        finally:
            del Account.save_base
        assert reasons == ["", "", "by hand"]
        assert [e.changes for e in events(action="update")] == [
            {"name": ["a", "b"]},
            {"name": ["b", "c"]},
        ]
