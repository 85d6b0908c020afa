"""The pytest plugin's check for a misapplied ``mute_signals`` marker.

pytest takes a marker called with a single class or function, and nothing
else, for the marker used as a decorator: it marks that class or function and
returns it, and that decorates the test: ``Post(test_x)``, an instance of the
model, or ``notify(test_x)``, what the receiver returns (``None``). The test is
lost without an error, or runs unmuted.

The check reads the module's source for such calls of the marker, and resolves
the argument as written (``notify``, ``receivers.notify``, ``Post``) without
running the module's code again, to test it as pytest does. Where the source
cannot tell (an argument computed by a call), it looks for what is left
behind: a name of a test bound to something that is no test, and classes or
functions that carry a bare ``mute_signals`` mark.

Imports nothing of Django: :mod:`signalkit.pytest_plugin` loads it first.
"""

from __future__ import annotations

import ast
import inspect
from contextlib import suppress
from types import FunctionType
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

__all__ = ["misapplied_markers"]

# How many times a class or function given the marker by mistake had been
# marked when a collection error last named it (it keeps the marks).
_reported = pytest.StashKey[dict[Any, int]]()
_MARKER = "mute_signals"
# Expressions with a scope of their own: their names are not the module's.
_OWN_SCOPE = (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_UNKNOWN: Any = object()


def misapplied_markers(module: pytest.Module) -> list[str]:
    """The collection errors for what ``@pytest.mark.mute_signals(Post)`` or
    ``(notify)`` did in ``module``."""
    written: dict[int, tuple[Any, str, list[str]]] = {}
    for target, text, test in _written_mistakes(module):
        tests = written.setdefault(id(target), (target, text, []))[2]
        if test is not None:
            tests.append(test)
    explained = {test for _, _, tests in written.values() for test in tests}
    reported = module.session.stash.setdefault(_reported, {})
    problems = []
    for target, text, tests in written.values():
        _note_reported(reported, target)
        problems.append(_misapplied_message(target, text, tests))
    # Each mistake adds a mark: a target imported by a later module is named
    # again only if marked again there.
    for target, tests in _left_behind(module, explained).items():
        count = _bare_marks(target)
        if id(target) not in written and count > reported.get(target, 0):
            reported[target] = count
            problems.append(_misapplied_message(target, target.__name__, tests))
    return problems


def _written_mistakes(module: pytest.Module) -> Iterator[tuple[Any, str, str | None]]:
    """``(target, argument as written, test decorated or None)`` for each call of
    the marker in the source of ``module`` that pytest took for its use as a decorator."""
    names = module.obj.__dict__
    try:
        source = module.path.read_bytes()
        # (The marker, or the marker imported under another name: types only,
        # as below.)
        if _MARKER.encode() not in source and not any(
            type(value) is pytest.MarkDecorator and value.name == _MARKER
            for value in names.values()
        ):
            return
        tree = ast.parse(source)
    except (OSError, SyntaxError, ValueError):
        return
    yield from _statements(tree.body, names, None, "")


def _statements(
    body: list[ast.stmt],
    names: Mapping[str, Any],
    class_names: Mapping[str, Any] | None,
    prefix: str,
) -> Iterator[tuple[Any, str, str | None]]:
    for statement in body:
        yield from _statement(statement, names, class_names, prefix)


def _statement(
    node: ast.AST, names: Mapping[str, Any], class_names: Mapping[str, Any] | None, prefix: str
) -> Iterator[tuple[Any, str, str | None]]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        for decorator in node.decorator_list:
            yield from _expressions(decorator, names, class_names, f"{prefix}{node.name}")
        if isinstance(node, ast.ClassDef):
            # (A class body's names are its own, and the module's; not those
            # of a class around it.)
            cls = _name(node.name, names, class_names)
            if issubclass(type(cls), type):
                yield from _statements(node.body, names, vars(cls), f"{prefix}{node.name}.")
        return
    if isinstance(node, ast.expr):
        yield from _expressions(node, names, class_names, None)
    else:  # (the statements of an if, a try, a with; an except clause's)
        for child in ast.iter_child_nodes(node):
            yield from _statement(child, names, class_names, prefix)


def _expressions(
    node: ast.AST, names: Mapping[str, Any], class_names: Mapping[str, Any] | None, test: str | None
) -> Iterator[tuple[Any, str, str | None]]:
    """The mistakes among the calls in ``node``; ``test`` is what ``node``
    decorates, if it is a decorator."""
    pending: list[tuple[ast.AST, str | None]] = [(node, test)]
    while pending:
        current, decorated = pending.pop()
        if isinstance(current, _OWN_SCOPE):
            continue
        if isinstance(current, ast.Call):
            target = _swallowed(current, names, class_names)
            if target is not _UNKNOWN:
                yield target, ast.unparse(current.args[0]), decorated
        pending.extend((child, None) for child in reversed(list(ast.iter_child_nodes(current))))


def _swallowed(
    call: ast.Call, names: Mapping[str, Any], class_names: Mapping[str, Any] | None
) -> Any:
    """What pytest marked instead of calling the marker with ``call``'s argument
    (``_UNKNOWN`` when it did not, or when the source cannot tell)."""
    if len(call.args) != 1 or call.keywords or isinstance(call.args[0], ast.Starred):
        return _UNKNOWN
    marker = _resolve(call.func, names, class_names)
    if not (type(marker) is pytest.MarkDecorator and marker.name == _MARKER):
        return _UNKNOWN
    argument = _resolve(call.args[0], names, class_names)
    # As pytest's MarkDecorator.__call__: a class, or a callable with a name
    # (not a lambda); the mark goes on the function of a static or class method.
    func = argument.__func__ if isinstance(argument, staticmethod | classmethod) else argument
    try:
        if inspect.isclass(argument) or (
            callable(func) and getattr(func, "__name__", "<lambda>") != "<lambda>"
        ):
            return func
    except Exception:  # (an object that fails to say)
        return _UNKNOWN
    return _UNKNOWN


def _resolve(
    node: ast.expr, names: Mapping[str, Any], class_names: Mapping[str, Any] | None
) -> Any:
    """The object a name or a dotted name stands for, read without running code:
    ``_UNKNOWN`` for any other expression, or a property on the way."""
    if isinstance(node, ast.Name):
        return _name(node.id, names, class_names)
    if not isinstance(node, ast.Attribute):
        return _UNKNOWN
    owner = _resolve(node.value, names, class_names)
    if owner is _UNKNOWN:
        return _UNKNOWN
    # (Types only, here and above: isinstance() would evaluate a lazy object,
    # such as django.conf.settings; the argument itself pytest tested already.)
    if type(owner) is pytest.MarkGenerator:
        # pytest.mark.mute_signals, made on access (not another name: pytest
        # may warn about it, or fail with --strict-markers).
        return getattr(owner, node.attr) if node.attr == _MARKER else _UNKNOWN
    try:
        found = inspect.getattr_static(owner, node.attr)
    except AttributeError:
        return _UNKNOWN
    kind = type(found)
    if kind is staticmethod:
        return found.__func__
    if kind is FunctionType or issubclass(kind, type) or not hasattr(kind, "__get__"):
        return found
    return _UNKNOWN  # a property, a class method: what they give is made by code


def _name(name: str, names: Mapping[str, Any], class_names: Mapping[str, Any] | None) -> Any:
    if class_names is not None and name in class_names:
        # The module may have its own under that name, which the body read if
        # it ran before the class's was defined: the source cannot tell.
        if name in names and names[name] is not class_names[name]:
            return _UNKNOWN
        return class_names[name]
    return names.get(name, _UNKNOWN)


def _left_behind(module: pytest.Module, explained: set[str]) -> dict[Any, list[str]]:
    """The targets a mistake the source does not show left behind: a class whose
    instance stands where a test was, or a marked function, when a test is lost."""
    found: dict[Any, list[str]] = {}
    receivers = []
    lost = False
    names = [(name, value, module.obj.__dict__) for name, value in module.obj.__dict__.items()]
    for name, value, owner in names:
        # (Types only: isinstance() would evaluate a lazy object, such as
        # django.conf.settings.)
        kind = type(value)
        short = name.rpartition(".")[2]  # (a class's member is matched by its own name)
        if issubclass(kind, type):
            if owner is module.obj.__dict__ and value.__module__ == module.obj.__name__:
                names.extend(
                    (f"{name}.{key}", member, vars(value)) for key, member in vars(value).items()
                )
        elif kind is FunctionType:
            if _bare_marks(value) and not module.istestfunction(value, short):
                receivers.append(value)
        elif not callable(value) and name not in explained:
            if module.funcnamefilter(short) or module.classnamefilter(short):
                lost = True
            if _bare_marks(kind):
                found.setdefault(kind, []).append(name)
    if lost:
        # (Whatever imports the module or the receiver has it marked too.)
        found.update((receiver, []) for receiver in receivers)
    return found


def _bare_marks(target: Any) -> int:
    # Stored on the object itself (on a class, not inherited), as pytest does.
    marks = getattr(target, "__dict__", {}).get("pytestmark", ())
    return sum(
        isinstance(mark, pytest.Mark) and mark.name == _MARKER and not mark.args and not mark.kwargs
        for mark in (marks if isinstance(marks, list) else [marks])
    )


def _note_reported(reported: dict[Any, int], target: Any) -> None:
    # (Unhashable, it is no class or function: nothing finds it left behind.)
    with suppress(TypeError):
        reported[target] = _bare_marks(target)


def _misapplied_message(target: Any, written: str, lost: list[str]) -> str:
    name = getattr(target, "__qualname__", None) or getattr(target, "__name__", written)
    if isinstance(target, type):
        what, fix = "class", f"sender={written}"
    else:
        what = "function" if inspect.isroutine(target) else "callable"
        fix = f"receivers={written}"
    tests = f" ({', '.join(lost)})" if lost else ""
    module = getattr(target, "__module__", None)
    path = f"{module}.{name}" if module else name
    return (
        f"@pytest.mark.mute_signals({written}) marked the {what} {path} "
        f"instead of the test it decorates{tests}: pytest applies a marker called with a "
        "single class or function to that class or function, and the test was not "
        f"collected. Pass it by keyword: @pytest.mark.mute_signals({fix}), with any "
        f"signals to mute before it, as in @pytest.mark.mute_signals(post_save, {fix})."
    )
