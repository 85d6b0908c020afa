"""signalkit: Django signals made discoverable, controllable, testable and scalable."""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Signal", "define_signal", "receiver", "registry", "send_on_commit"]

if TYPE_CHECKING:
    from signalkit.commit import send_on_commit
    from signalkit.dispatch import Signal, define_signal
    from signalkit.receivers import receiver
    from signalkit.registry import registry

# Imported lazily: ``import signalkit`` (e.g. by the pytest plugin) must not
# touch Django's settings or models.
_LAZY = {
    "Signal": "signalkit.dispatch",
    "define_signal": "signalkit.dispatch",
    "receiver": "signalkit.receivers",
    "send_on_commit": "signalkit.commit",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'signalkit' has no attribute {name!r}")


class _Package(types.ModuleType):
    # ``signalkit.registry`` is both a submodule and, by contract, the Registry
    # instance. Importing a submodule binds it on its package; this property keeps
    # the attribute the instance (the submodule stays in sys.modules).
    @property
    def registry(self) -> Any:
        from signalkit.registry import registry

        return registry

    @registry.setter
    def registry(self, value: Any) -> None:
        pass


sys.modules[__name__].__class__ = _Package
