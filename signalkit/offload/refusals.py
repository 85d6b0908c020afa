"""The signals a receiver cannot be offloaded for: a worker could not re-fetch
their instance, or would see it only after the change it was sent about."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import signals as model_signals

from signalkit import keys

if TYPE_CHECKING:
    from django.dispatch import Signal

__all__ = ["check_offloadable"]

# Signals whose instance a worker cannot re-fetch, with the reason.
_REFUSED: dict[int, tuple[str, str]] = {
    id(model_signals.pre_init): ("pre_init", "the instance does not exist yet"),
    id(model_signals.post_init): ("post_init", "it fires for every instance loaded, not a change"),
    id(model_signals.class_prepared): ("class_prepared", "it fires while models load"),
    id(model_signals.pre_save): (
        "pre_save",
        "a worker runs after the save has committed, so it can only see the row as saved, "
        "never as it was before the save (and a new row did not exist then); use post_save",
    ),
    id(model_signals.pre_delete): (
        "pre_delete",
        "the row is gone by the time a worker runs; use post_delete, whose receivers get the "
        "deleted instance rebuilt from its field values",
    ),
}


def check_offloadable(signal: Signal, func: Any) -> None:
    """Raise :class:`ImproperlyConfigured` if ``func`` cannot run on a worker for
    ``signal``."""
    refused = _REFUSED.get(id(signal))
    if refused is not None:
        name, why = refused
        raise ImproperlyConfigured(
            f"Receiver {keys.receiver_key(func)!r} cannot be offloaded for {name}: {why}. "
            f"Connect it without offload=True."
        )
