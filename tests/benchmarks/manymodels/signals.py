"""1,000 receivers: five model signals for each of the 200 models (autodiscovered)."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models.signals import post_delete, post_init, post_save, pre_delete, pre_save

SIGNALS = (pre_save, post_save, pre_delete, post_delete, post_init)


def _handler(name: str) -> Any:
    def handler(sender: Any, **kwargs: Any) -> None:
        pass

    handler.__name__ = handler.__qualname__ = name
    return handler


for _model in apps.get_app_config("manymodels").get_models():
    for _signal in SIGNALS:
        _name = f"on_{_model.__name__.lower()}_{SIGNALS.index(_signal)}"
        globals()[_name] = _handler(_name)
        _signal.connect(globals()[_name], sender=_model, dispatch_uid=_name)
