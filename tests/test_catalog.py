from __future__ import annotations

import subprocess
import sys
import textwrap
from io import StringIO
from typing import Any

import django
import pytest
from django.core.management import call_command
from django.db.models.signals import post_migrate, post_save, pre_migrate

from signalkit.catalog import builtin_signals, loaded_signal
from signalkit.registry import registry

ON_6 = django.VERSION >= (6, 0)


class BuiltinSignalsTests:
    def test_every_django_signal_of_the_running_version(self) -> None:
        names = [entry.name for entry in builtin_signals()]
        assert len(names) == (24 if ON_6 else 21)
        assert len(set(names)) == len(names)
        assert ("task_enqueued" in names) is ON_6
        assert {"template_rendered", "user_login_failed", "file_changed"} <= set(names)

    def test_m2m_changed_has_raw_only_from_django_6_1(self) -> None:
        (m2m,) = [entry for entry in builtin_signals() if entry.name == "m2m_changed"]
        assert ("raw" in m2m.args) is (django.VERSION >= (6, 1))
        assert m2m.args[:6] == ("action", "instance", "reverse", "model", "pk_set", "using")

    @pytest.mark.django_db
    def test_migrate_signals_have_the_arguments_migrate_sends(self) -> None:
        sent: dict[str, set[str]] = {}

        def record(sender: Any, *, signal: Any, **kwargs: Any) -> None:
            sent.setdefault(registry.info(signal).name, set()).update(kwargs)

        pre_migrate.connect(record)
        post_migrate.connect(record)
        try:
            call_command("migrate", verbosity=0, interactive=False, stdout=StringIO())
        finally:
            pre_migrate.disconnect(record)
            post_migrate.disconnect(record)
        by_name = {entry.name: entry for entry in builtin_signals()}
        for name in ("pre_migrate", "post_migrate"):
            assert set(by_name[name].args) == sent[name]
            assert "stdout" in by_name[name].args

    def test_paths_name_the_real_signals(self) -> None:
        for entry in builtin_signals():
            signal = loaded_signal(entry)
            if signal is not None:
                assert getattr(sys.modules[entry.module], entry.name) is signal
        (save,) = [entry for entry in builtin_signals() if entry.name == "post_save"]
        assert save.path == "django.db.models.signals.post_save"
        assert loaded_signal(save) is post_save
        assert save.description
        assert save.sender == "the model class"

    def test_loaded_signal_never_imports(self) -> None:
        code = textwrap.dedent(
            """
            import sys
            import django
            from django.conf import settings
            settings.configure()
            django.setup()
            from django.core.signals import setting_changed
            before = len(setting_changed.receivers)
            from signalkit.catalog import builtin_signals, loaded_signal
            entries = builtin_signals()
            signals = [loaded_signal(entry) for entry in entries]
            assert "django.test.signals" not in sys.modules
            assert "django.tasks.signals" not in sys.modules
            assert len(setting_changed.receivers) == before
            by_name = {e.name: s for e, s in zip(entries, signals)}
            assert by_name["template_rendered"] is None
            assert by_name["post_save"] is not None
            print(len(entries))
            """
        )
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout == ("24\n" if ON_6 else "21\n")
