from __future__ import annotations

from typing import Any

from django.test import SimpleTestCase, TestCase, override_settings

from signalkit.conf import get_settings
from signalkit.fallbacks import usable
from signalkit.models import AuditEvent
from tests.auditapp.models import Account

CHECK = "; run 'manage.py check' for details."


def logged(test: SimpleTestCase, value: Any) -> list[str]:
    """The warnings that setting ``SIGNALKIT`` to ``value`` logs, without their prefix."""
    with test.assertLogs("signalkit", "WARNING") as logs, override_settings(SIGNALKIT=value):
        pass
    return [line.removeprefix("WARNING:signalkit:").removesuffix(CHECK) for line in logs.output]


class LoggedFallbackTests(SimpleTestCase):
    def test_an_invalid_delivery_is_logged_and_on_commit_applies(self) -> None:
        value = {"OFFLOAD": {"DELIVERY": "outbx"}}
        # Once, though override_settings makes the toggles and the audit read
        # the settings afresh.
        assert logged(self, value) == [
            "SIGNALKIT['OFFLOAD']['DELIVERY'] is 'outbx', which is invalid: the default "
            "'on_commit' applies"
        ]
        with override_settings(SIGNALKIT=value):
            assert get_settings().offload.delivery == "on_commit"

    def test_an_autodiscover_that_is_not_a_bool_is_logged_and_true_applies(self) -> None:
        assert logged(self, {"AUTODISCOVER": 0}) == [
            "SIGNALKIT['AUTODISCOVER'] is 0, which is invalid: the default True applies"
        ]
        with override_settings(SIGNALKIT={"AUTODISCOVER": 0}):
            assert get_settings().autodiscover is True

    def test_every_value_that_falls_back_is_logged_once_by_its_key(self) -> None:
        cases: list[tuple[Any, str]] = [
            (["signals"], "SIGNALKIT is ['signals'], which is not a dict: the defaults apply"),
            ({"AUDIT_MODELS": ["a.B"]}, "SIGNALKIT has an unknown key 'AUDIT_MODELS'"),
            ({"RECEIVERS": ["a.b"]}, "SIGNALKIT['RECEIVERS'] is ['a.b'], which is invalid"),
            ({"AUTODISCOVER_MODULES": "x-y"}, "the default ['signals'] applies"),
            ({"AUTODISCOVER_EXCLUDE": ("blog")}, "the names ['blog'] in it apply"),
            ({"AUDIT": ["a.B"]}, "SIGNALKIT['AUDIT'] is ['a.B'], which is invalid: the defaults"),
            ({"AUDIT": {"MODEL": ["a.B"]}}, "SIGNALKIT['AUDIT'] has an unknown key 'MODEL'"),
            ({"AUDIT": {"MODELS": 5}}, "SIGNALKIT['AUDIT']['MODELS'] is 5, which is invalid"),
            ({"AUDIT": {"MASK_FIELDS": "pin"}}, "the names ['pin'] in it apply"),
            ({"AUDIT": {"EXCLUDE_FIELDS": [1]}}, "the default ['last_login'] applies"),
            ({"AUDIT": {"AUTH_EVENTS": "no"}}, "SIGNALKIT['AUDIT']['AUTH_EVENTS'] is 'no'"),
            ({"AUDIT": {"TRUSTED_PROXIES": "10.0.0.1"}}, "the default [] applies"),
            ({"AUDIT": {"ON_ERROR": "ignore"}}, "the default 'raise' applies"),
            ({"OFFLOAD": {"BACKEND": 1}}, "SIGNALKIT['OFFLOAD']['BACKEND'] is 1, which is"),
            ({"OFFLOAD": {"QUEUE_NAME": None}}, "the default 'default' applies"),
            ({"OFFLOAD": {"MISSING": "drop"}}, "the default 'skip' applies"),
            ({"OFFLOAD": {"DELAY": 5}}, "SIGNALKIT['OFFLOAD'] has an unknown key 'DELAY'"),
        ]
        for value, expected in cases:
            with self.subTest(value=value):
                (line,) = logged(self, value)
                assert expected in line

    def test_each_change_of_the_setting_logs_again(self) -> None:
        value = {"AUDIT": {"ON_ERROR": "ignore"}}
        for _ in range(2):
            assert len(logged(self, value)) == 1

    def test_a_valid_setting_logs_nothing(self) -> None:
        value = {
            "AUTODISCOVER": False,
            "RECEIVERS": {"a.b": False},
            "PROFILE": None,
            "AUDIT": {"MODELS": {"auditapp.Account": {"mask": ["name"]}}, "MASK_FIELDS": []},
            "OFFLOAD": {"DELIVERY": "outbox"},
        }
        with self.assertNoLogs("signalkit", "WARNING"), override_settings(SIGNALKIT=value):
            pass


class UsableModelOptionsTests(SimpleTestCase):
    def options(self, options: Any) -> Any:
        user, _ = usable({"AUDIT": {"MODELS": {"auditapp.Account": options}}})
        return user["AUDIT"]["MODELS"]["auditapp.Account"]

    def test_names_given_as_a_string_or_a_set_apply(self) -> None:
        assert self.options({"exclude": "born", "include": {"name", "born"}}) == {
            "exclude": ["born"],
            "include": ["born", "name"],
        }

    def test_what_cannot_be_read_masks_every_field(self) -> None:
        for options in (
            {"mask": 5},
            {"mask": True},
            {"exclude": ["born", 3]},
            {"include": {"name": True}},
            {"redact": ["name"]},
            ["name"],
        ):
            with self.subTest(options=options):
                assert self.options(options) == {"mask": ["*"]}

    def test_the_valid_options_beside_an_invalid_one_apply(self) -> None:
        assert self.options({"mask": ["name"], "exclude": 5, "unmask": ["token"]}) == {
            "mask": ["name", "*"],
            "unmask": ["token"],
        }

    def test_an_invalid_or_misspelt_unmask_is_never_applied(self) -> None:
        for options in (
            {"unmask": "token"},
            {"unmask": ["token", "*key*"]},
            {"unmask": ["token", 3]},
            {"Unmask": ["token"]},
            {"unmasks": ["token"]},
        ):
            with self.subTest(options=options):
                assert "unmask" not in self.options(options)

    def test_a_misspelt_option_applies_as_the_one_it_looks_like(self) -> None:
        assert self.options({"masks": ["name"], "Exclude": ["born"], "includes": "name"}) == {
            "mask": ["name"],
            "exclude": ["born"],
            "include": ["name"],
        }

    def test_an_option_in_another_case_applies_as_itself(self) -> None:
        # "MASK" is as close to "unmask" as a misspelling: taken for one, it was
        # ignored and the fields it names were recorded in clear.
        assert self.options({"MASK": ["name"], "Unmask": ["token"], "INCLUDE": "name"}) == {
            "mask": ["name"],
            "include": ["name"],
        }
        assert self.options({"Mask": "name"}) == {"mask": ["name"]}


class InvalidModelOptionTests(TestCase):
    def changes(self, options: Any, **values: Any) -> dict[str, Any]:
        models = {"auditapp.Account": options}
        with override_settings(SIGNALKIT={"AUDIT": {"MODELS": models}}):
            Account.objects.create(**values)
        changes: dict[str, Any] = AuditEvent.objects.get(model_label="auditapp.Account").changes
        return changes

    def test_a_model_with_an_invalid_option_stays_audited_and_is_logged(self) -> None:
        # A typo in a model's options left the model out of the log: it failed open.
        with self.assertLogs("signalkit", "WARNING") as logs:
            changes = self.changes({"exclude": "born"}, name="Jane Roe", born="2000-01-02")
        assert changes["name"] == [None, "Jane Roe"]
        assert "born" not in changes
        assert logs.output == [
            "WARNING:signalkit:SIGNALKIT['AUDIT']['MODELS']['auditapp.Account']['exclude'] is "
            "'born', which is invalid: the names ['born'] in it apply" + CHECK
        ]

    def test_a_mask_that_cannot_be_read_masks_every_field(self) -> None:
        with self.assertLogs("signalkit", "WARNING") as logs:
            changes = self.changes({"mask": 5}, name="Jane Roe", born="2000-01-02")
        assert changes["name"] == [None, "[masked]"]
        assert changes["born"] == [None, "[masked]"]
        assert "every field of auditapp.Account is masked" in logs.output[0]

    def test_an_unknown_option_masks_every_field(self) -> None:
        with self.assertLogs("signalkit", "WARNING") as logs:
            changes = self.changes({"redact": ["name"]}, name="Jane Roe")
        assert changes["name"] == [None, "[masked]"]
        assert logs.output == [
            "WARNING:signalkit:SIGNALKIT['AUDIT']['MODELS']['auditapp.Account'] has an unknown "
            "key 'redact': every field of auditapp.Account is masked" + CHECK
        ]

    def test_a_mask_in_capitals_masks_the_fields_it_names(self) -> None:
        with self.assertLogs("signalkit", "WARNING") as logs:
            changes = self.changes({"MASK": ["name"]}, name="Jane Roe")
        assert changes["name"] == [None, "[masked]"]
        assert logs.output == [
            "WARNING:signalkit:SIGNALKIT['AUDIT']['MODELS']['auditapp.Account'] has an unknown "
            "key 'MASK': the names ['name'] in it apply as 'mask'" + CHECK
        ]

    def test_an_invalid_unmask_keeps_the_field_masked(self) -> None:
        with self.assertLogs("signalkit", "WARNING") as logs:
            changes = self.changes({"unmask": ["token", "*key*"]}, name="a", token="t0k3n")
        assert changes["token"] == [None, "[masked]"]
        assert changes["name"] == [None, "a"]
        assert "it is ignored, so the masks apply to the fields it names" in logs.output[0]

    def test_labels_given_as_a_set_are_audited(self) -> None:
        with (
            self.assertLogs("signalkit", "WARNING") as logs,
            override_settings(SIGNALKIT={"AUDIT": {"MODELS": {"auditapp.Account", 3}}}),
        ):
            Account.objects.create(name="a")
        assert AuditEvent.objects.filter(model_label="auditapp.Account").count() == 1
        first, second = logs.output
        assert first.endswith("which is invalid: the labels in it are audited" + CHECK)
        assert second == (
            "WARNING:signalkit.audit:SIGNALKIT['AUDIT']['MODELS'] entry 3 is invalid and not "
            "audited" + CHECK
        )

    def test_a_set_of_invalid_labels_is_not_said_to_be_audited(self) -> None:
        with (
            self.assertLogs("signalkit", "WARNING") as logs,
            override_settings(SIGNALKIT={"AUDIT": {"MODELS": {"Account"}}}),
        ):
            Account.objects.create(name="a")
        assert not AuditEvent.objects.exists()
        assert all("the labels in it are audited" not in line for line in logs.output)
        assert logs.output[-1] == (
            "WARNING:signalkit.audit:SIGNALKIT['AUDIT']['MODELS'] entry 'Account' is invalid "
            "and not audited" + CHECK
        )


class MisplacedNamesTests(TestCase):
    def test_names_written_beside_audit_still_mask_and_exclude(self) -> None:
        # The check says which key was meant (E002: "Did you mean
        # SIGNALKIT['AUDIT']['MASK_FIELDS']?"); what they name is not recorded in clear.
        value = {
            "MASK_FIELDS": ["name"],
            "audit_exclude_fields": "born",
            "AUDIT": {"MODELS": ["auditapp.Account"]},
        }
        with self.assertLogs("signalkit", "WARNING") as logs, override_settings(SIGNALKIT=value):
            Account.objects.create(name="Jane Roe", born="2000-01-02")
        changes = AuditEvent.objects.get(model_label="auditapp.Account").changes
        assert changes["name"] == [None, "[masked]"]
        assert "born" not in changes
        assert logs.output == [
            "WARNING:signalkit:SIGNALKIT has an unknown key 'MASK_FIELDS': its names are "
            "applied as SIGNALKIT['AUDIT']['MASK_FIELDS']" + CHECK,
            "WARNING:signalkit:SIGNALKIT has an unknown key 'audit_exclude_fields': its names "
            "are applied as SIGNALKIT['AUDIT']['EXCLUDE_FIELDS']" + CHECK,
        ]

    def test_they_add_to_the_names_under_audit(self) -> None:
        for audit, expected in (
            ({"MASK_FIELDS": ["iban"]}, ["iban", "name"]),
            (None, ["name"]),
            (["a.B"], ["name"]),
        ):
            with self.subTest(audit=audit):
                user, _ = usable({"AUDIT": audit, "MASK_FIELDS": ("name",)})
                assert user["AUDIT"]["MASK_FIELDS"] == expected
