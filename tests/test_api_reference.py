"""The API reference (``docs/api.rst``) documents every public name of the contract
under the path outside code imports it from."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest

import signalkit
from signalkit import audit, profiles, testing
from signalkit.admin import AuditHistoryMixin
from signalkit.middleware import AuditMiddleware
from signalkit.models import AuditEvent
from signalkit.profiles.admin import ProfileForm, ProfileInline
from signalkit.registry import ReceiverInfo, Registry, SignalInfo

API = Path(__file__).resolve().parent.parent / "docs" / "api.rst"
DIRECTIVE = re.compile(r"^\.\. auto(?:function|class|data|exception|method)::\s+(\S+)", re.M)

#: The public names, by the path they are imported from, and what each is.
PUBLIC: dict[str, Any] = {
    "signalkit.receiver": signalkit.receiver,
    "signalkit.Signal": signalkit.Signal,
    "signalkit.define_signal": signalkit.define_signal,
    "signalkit.send_on_commit": signalkit.send_on_commit,
    "signalkit.registry.registry": signalkit.registry,
    "signalkit.registry.Registry": Registry,
    "signalkit.registry.SignalInfo": SignalInfo,
    "signalkit.registry.ReceiverInfo": ReceiverInfo,
    "signalkit.testing.mute_signals": testing.mute_signals,
    "signalkit.testing.MuteSignalsMixin": testing.MuteSignalsMixin,
    "signalkit.testing.capture_signals": testing.capture_signals,
    "signalkit.testing.Capture": testing.Capture,
    "signalkit.audit.context": audit.context,
    "signalkit.audit.batch": audit.batch,
    "signalkit.audit.record": audit.record,
    "signalkit.audit.history": audit.history,
    "signalkit.middleware.AuditMiddleware": AuditMiddleware,
    "signalkit.admin.AuditHistoryMixin": AuditHistoryMixin,
    "signalkit.models.AuditEvent": AuditEvent,
    "signalkit.profiles.get_profile": profiles.get_profile,
    "signalkit.profiles.aget_profile": profiles.aget_profile,
    "signalkit.profiles.admin.ProfileInline": ProfileInline,
    "signalkit.profiles.admin.ProfileForm": ProfileForm,
}


def documented() -> list[str]:
    return DIRECTIVE.findall(API.read_text())


def resolve(path: str) -> Any:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def test_every_public_name_is_in_the_api_reference() -> None:
    missing = sorted(set(PUBLIC) - set(documented()))
    assert not missing, f"docs/api.rst does not document {missing}"


@pytest.mark.parametrize("path", sorted(PUBLIC))
def test_each_public_path_is_the_public_object(path: str) -> None:
    assert resolve(path) is PUBLIC[path]


def test_the_api_reference_names_only_importable_objects() -> None:
    for path in documented():
        resolve(path)  # (an AttributeError or ImportError fails the test)
