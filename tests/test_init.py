from __future__ import annotations

import subprocess
import sys

import pytest

import signalkit
from signalkit.commit import send_on_commit
from signalkit.dispatch import Signal, define_signal
from signalkit.receivers import receiver
from signalkit.registry import Registry, registry


class TopLevelTests:
    def test_public_names(self) -> None:
        assert signalkit.receiver is receiver
        assert signalkit.Signal is Signal
        assert signalkit.define_signal is define_signal
        assert signalkit.send_on_commit is send_on_commit

    def test_registry_is_the_instance_even_after_importing_the_module(self) -> None:
        import signalkit.registry

        assert isinstance(signalkit.registry, Registry)
        assert signalkit.registry is registry
        assert sys.modules["signalkit.registry"].registry is registry

    def test_unknown_attribute(self) -> None:
        with pytest.raises(
            AttributeError, match=r"^module 'signalkit' has no attribute 'nothing'$"
        ):
            signalkit.nothing  # noqa: B018

    def test_import_touches_no_django_settings_or_models(self) -> None:
        code = (
            "import sys, signalkit; "
            "assert 'django.db.models' not in sys.modules; "
            "assert 'django.conf' not in sys.modules or not __import__('django.conf').conf.settings.configured"
        )
        subprocess.run([sys.executable, "-c", code], check=True, env={"PATH": ""})
