"""What ``manage.py listsignals`` shows: the selection and its three formats."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from signalkit.keys import is_protected
from signalkit.registry import (
    ReceiverInfo,
    SignalInfo,
    check_sender,
    registry,
    resolve_app,
    resolve_model,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from django.apps import AppConfig

Listing = list[tuple[SignalInfo, list[ReceiverInfo]]]

#: Columns the text format aims to fit in.
WIDTH = 100

#: Version of the JSON document; fields are only ever added.
JSON_VERSION = 1


def listing(
    names: Sequence[str] = (),
    *,
    sender: type | AppConfig | str | None = None,
    app: str | None = None,
    include_all: bool = False,
    include_django: bool = False,
    sender_only: bool = False,
) -> Listing:
    """Signals with their receivers; ``LookupError`` for an unknown signal, model or
    app, ``TypeError`` for a value of the wrong type.

    Named signals are always listed; otherwise only signals with receivers,
    unless ``include_all``. Dead receivers, which never run again, are left out. Receivers Django itself connects (and signalkit's
    bookkeeping ones, such as the settings cache reset) are left out unless
    ``include_django``, or switched off in ``SIGNALKIT["RECEIVERS"]``.

    ``sender`` keeps the receivers that run for it: those connected for it and,
    unless ``sender_only``, those connected for any sender.
    """
    check_arguments(names, sender=sender, app=app, sender_only=sender_only)
    infos = _once([registry.get(name) for name in names]) if names else registry.signals()
    if sender is not None:
        resolve_model(sender)  # unknown models are an error even without receivers
    if app is not None:
        resolve_app(app)
    if names:
        found = [
            receiver
            for info in infos
            if info.signal is not None
            for receiver in registry.receivers(info.signal, sender=sender, app=app)
        ]
    else:
        found = registry.receivers(sender=sender, app=app)
    # Dead receivers (collected, or on Django 6.0+ their sender was) never run
    # again; Django drops them at its next connect(), disconnect() or send(),
    # so whether one is still listed depends on when the collector ran.
    found = [r for r in found if not r.dead and not (sender_only and r.sender is None)]
    if not include_django:
        # (One the project switched off is shown: it is the project's choice.)
        found = [r for r in found if r.enabled is False or not is_protected(r.key)]
    # By the signal object: two signals may share a path (or a name), and one
    # signal is described by a new SignalInfo on each registry call.
    grouped: dict[Any, list[ReceiverInfo]] = {_identity(info): [] for info in infos}
    for receiver in found:
        grouped[_identity(receiver.signal)].append(receiver)
    return [
        (info, grouped[_identity(info)])
        for info in infos
        if grouped[_identity(info)] or names or include_all
    ]


def check_arguments(
    names: object, *, sender: object = None, app: object = None, sender_only: object = False
) -> None:
    """``TypeError`` for arguments of :func:`listing` of the wrong type, such as
    one name given where a list of names goes, or ``sender_only`` without a sender."""
    if isinstance(names, str) or not isinstance(names, list | tuple):
        raise TypeError(f"Signals are given as a list of names or dotted paths, not {names!r}.")
    for name in names:
        if not isinstance(name, str):
            raise TypeError(
                f"A signal is given by its name or dotted path, a string, not {name!r}."
            )
    if sender is not None:
        check_sender(sender)
    if app is not None and not isinstance(app, str):
        raise TypeError(f"app must be an app label (a string), not {app!r}.")
    if sender_only and sender is None:
        raise TypeError(
            "--sender-only needs --sender app_label.Model: it leaves out the receivers "
            "connected for any sender, and keeps those connected for that sender."
        )


def _identity(info: SignalInfo) -> Any:
    # A catalog signal whose module is not imported has no object: its path.
    return info.path if info.signal is None else id(info.signal)


def _once(infos: list[SignalInfo]) -> list[SignalInfo]:
    """``infos`` without repeats of a signal (named by its name and by its path)."""
    seen = set()
    kept = []
    for info in infos:
        if _identity(info) not in seen:
            seen.add(_identity(info))
            kept.append(info)
    return kept


def flags(receiver: ReceiverInfo) -> list[str]:
    """The short flags the text format shows."""
    shown = ["async" if receiver.is_async else "", "weak" if receiver.weak else "strong"]
    if receiver.dispatch_uid is not None:
        shown.append(f"uid={receiver.dispatch_uid!r}")
    shown += [
        "disabled" if not receiver.enabled else "",
        "dead" if receiver.dead else "",
        "on_commit" if receiver.on_commit else "",
        "offload" if receiver.offload else "",
    ]
    return [flag for flag in shown if flag]


#: Escapes (as ``repr()`` writes them) of the characters that would end or break
#: a line of the text format: control characters and Unicode line separators.
_LINE_CODES = {
    code: repr(chr(code))[1:-1] for code in [*range(32), *range(127, 160), 0x2028, 0x2029]
}


def one_line(value: str) -> str:
    """``value`` on one line: its line breaks and control characters escaped."""
    return value.translate(_LINE_CODES)


def text(data: Listing, width: int = WIDTH) -> str:
    """Grouped by signal; one aligned line per receiver.

    When a line of a group would run past ``width`` columns, the locations of
    that group go on their own lines. Line breaks and other control characters
    in a name are written escaped (``\\n``), as ``repr()`` writes them.
    """
    if not data:
        return "No receivers.\n"
    blocks = []
    for info, receivers in data:
        lines = [one_line(f"{info.name} ({info.path})")]
        if info.signal is None:
            lines.append("  (its module is not imported)")
        elif not receivers:
            lines.append("  (no receivers)")
        rows = [
            (
                one_line(r.key),
                "any sender" if r.sender is None else one_line(r.sender),
                one_line(", ".join(flags(r))),
                one_line(r.location or ""),
            )
            for r in receivers
        ]
        widths = [max((len(row[n]) for row in rows), default=0) for n in range(3)]
        cells = [
            "  " + "  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True))
            for row in rows
        ]
        wide = any(
            len(f"{c}  {row[3]}".rstrip()) > width for c, row in zip(cells, rows, strict=True)
        )
        for cell, row in zip(cells, rows, strict=True):
            if not wide:
                lines.append(f"{cell}  {row[3]}".rstrip())
            else:  # the whole group, so that its columns stay aligned
                lines.append(cell.rstrip() + (f"\n      at {row[3]}" if row[3] else ""))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def as_json(data: Listing) -> str:
    """The documented JSON document (``docs/commands.rst``)."""
    document = {
        "version": JSON_VERSION,
        "signals": [
            {
                "name": info.name,
                "path": info.path,
                "builtin": info.builtin,
                "args": list(info.args),
                "doc": info.doc,
                "receivers": [_receiver_json(r) for r in receivers],
            }
            for info, receivers in data
        ],
    }
    return json.dumps(document, indent=2) + "\n"


def _receiver_json(receiver: ReceiverInfo) -> dict[str, Any]:
    uid = receiver.dispatch_uid
    if uid is not None and (
        not isinstance(uid, str | int | float | bool)
        or (isinstance(uid, float) and not math.isfinite(uid))  # NaN is not JSON
    ):
        uid = repr(uid)
    return {
        "key": receiver.key,
        "module": receiver.module,
        "qualname": receiver.qualname,
        "sender": receiver.sender,
        "dispatch_uid": uid,
        "weak": receiver.weak,
        "is_async": receiver.is_async,
        "dead": receiver.dead,
        "enabled": receiver.enabled,
        "location": receiver.location,
        "on_commit": receiver.on_commit,
        "offload": receiver.offload,
    }


#: Mermaid entity codes (named, or ``#<decimal>;``), so that no label can close its quotes,
#: inject markup or end its line; ``#`` itself, which starts a code, too.
_MERMAID_CODES = {
    **{code: f"#{code};" for code in [*range(32), 127]},
    **{ord(char): f"#{ord(char)};" for char in "#`"},
    ord("&"): "#amp;",
    ord('"'): "#quot;",
    ord("<"): "#lt;",
    ord(">"): "#gt;",
}


def _label(value: str) -> str:
    return f'"{value.translate(_MERMAID_CODES)}"'


def mermaid(data: Listing) -> str:
    """A ``flowchart LR`` of signal -> receiver, the sender on each edge."""
    lines = ["flowchart LR"]
    nodes: dict[str, str] = {}
    edges = []
    for n, (info, receivers) in enumerate(data):
        lines.append(f"    s{n}[{_label(info.name)}]")
        for receiver in receivers:
            node = nodes.get(receiver.key)
            if node is None:
                node = nodes[receiver.key] = f"r{len(nodes)}"
                lines.append(f"    {node}[{_label(receiver.key)}]")
            sender = "any sender" if receiver.sender is None else receiver.sender
            edges.append(f"    s{n} -->|{_label(sender)}| {node}")
    return "\n".join(lines + edges) + "\n"


FORMATS = {"text": text, "json": as_json, "mermaid": mermaid}
