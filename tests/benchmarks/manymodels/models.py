"""200 unmanaged models, created in a loop (no migrations needed)."""

from __future__ import annotations

from django.db import models

MODEL_COUNT = 200


def _model(n: int) -> type[models.Model]:
    meta = type("Meta", (), {"managed": False, "app_label": "manymodels"})
    attrs = {"__module__": __name__, "Meta": meta, "name": models.CharField(max_length=10)}
    return type(f"Model{n:03d}", (models.Model,), attrs)


for _n in range(MODEL_COUNT):
    globals()[f"Model{_n:03d}"] = _model(_n)
