from __future__ import annotations

from django.test import SimpleTestCase, override_settings

from signalkit.offload.checks import check_offload
from tests.test_offload_enqueue import DUMMY

DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


class CheckOffloadTests(SimpleTestCase):
    def ids(self) -> list[str]:
        return [message.id for message in check_offload() if message.id]

    @override_settings(TASKS=DUMMY)
    def test_valid_configuration_passes(self) -> None:
        assert check_offload() == []

    @override_settings(TASKS=DUMMY, SIGNALKIT={"OFFLOAD": {"BACKEND": "nope"}})
    def test_unknown_backend_alias_is_e031(self) -> None:
        (error,) = check_offload()
        assert error.id == "signalkit.E031"
        assert "SIGNALKIT['OFFLOAD']['BACKEND'] is 'nope'" in error.msg
        assert error.hint == "Use an alias of the TASKS setting: 'default'."

    @override_settings(
        TASKS={"default": {"BACKEND": "nope.Backend"}},
        SIGNALKIT={"OFFLOAD": {"BACKEND": "default"}},
    )
    def test_backend_class_that_does_not_import_is_e031_pointing_at_tasks(self) -> None:
        (error,) = check_offload()
        assert error.id == "signalkit.E031"
        assert "Could not find backend 'nope.Backend'" in error.msg
        # The alias is right: the hint must not tell the user to change it.
        assert error.hint == (
            "Fix TASKS['default']['BACKEND']: use the dotted path of an installed "
            "task backend class."
        )

    @override_settings(TASKS=DUMMY, SIGNALKIT={"OFFLOAD": {"QUEUE_NAME": "slow"}})
    def test_queue_the_backend_does_not_serve_is_e032(self) -> None:
        (error,) = check_offload()
        assert error.id == "signalkit.E032"
        assert "'slow'" in error.msg
        assert "['default']" in error.msg

    @override_settings(TASKS=DUMMY, SIGNALKIT={"OFFLOAD": {"DELIVERY": "outbox"}})
    def test_outbox_with_a_backend_outside_the_database_is_e033(self) -> None:
        (error,) = check_offload()
        assert error.id == "signalkit.E033"
        assert "DummyBackend" in error.msg

    @override_settings(TASKS=DATABASE, SIGNALKIT={"OFFLOAD": {"DELIVERY": "outbox"}})
    def test_outbox_with_the_database_backend_passes(self) -> None:
        assert check_offload() == []
