from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

from django.test import SimpleTestCase, TestCase, override_settings

from signalkit.conf import get_settings
from signalkit.models import AuditEvent
from signalkit.validation import DEFAULTS
from tests.auditapp.models import Account


class GetSettingsTests(SimpleTestCase):
    def test_defaults_when_unset(self) -> None:
        with override_settings(SIGNALKIT={}):
            conf = get_settings()
        assert conf.autodiscover is True
        assert conf.autodiscover_modules == ("signals",)
        assert conf.autodiscover_exclude == frozenset()
        assert conf.receivers == {}
        assert conf.profile is None
        assert conf.audit.models == {}
        assert conf.audit.exclude_fields == ("last_login",)
        assert "*password*" in conf.audit.mask_fields
        assert conf.audit.on_error == "raise"
        assert conf.offload.delivery == "on_commit"

    def test_the_settings_reference_shows_the_defaults(self) -> None:
        reference = Path(__file__).resolve().parent.parent / "docs" / "settings.rst"
        [block] = re.findall(
            r"\.\. code-block:: python\n\n((?:   .*\n|\n)+)", reference.read_text()
        )
        namespace: dict[str, Any] = {}
        exec(textwrap.dedent(block), namespace)
        assert namespace["SIGNALKIT"] == DEFAULTS
        with override_settings(SIGNALKIT=namespace["SIGNALKIT"]):
            documented = get_settings()
        with override_settings(SIGNALKIT={}):
            assert documented == get_settings()

    def test_override_settings_resets_the_cache(self) -> None:
        before = get_settings()
        with override_settings(SIGNALKIT={"RECEIVERS": {"a.b": False}}):
            assert get_settings().disabled_receivers == frozenset({"a.b"})
        assert get_settings() == before

    def test_result_is_cached_between_calls(self) -> None:
        assert get_settings() is get_settings()

    @override_settings(SIGNALKIT={"AUDIT": {"ON_ERROR": "log"}})
    def test_sections_merge_over_defaults(self) -> None:
        audit = get_settings().audit
        assert audit.on_error == "log"
        assert audit.exclude_fields == ("last_login",)

    @override_settings(SIGNALKIT={"AUDIT": {"MODELS": {"testapp.Article": {"mask": ["title"]}}}})
    def test_audit_models_dict_form_keeps_options(self) -> None:
        assert get_settings().audit.models == {"testapp.Article": {"mask": ["title"]}}

    @override_settings(SIGNALKIT={"AUDIT": {"MODELS": ["testapp.Article"]}})
    def test_audit_models_list_form_becomes_dict(self) -> None:
        assert get_settings().audit.models == {"testapp.Article": {}}

    @override_settings(SIGNALKIT={"PROFILE": {"MODEL": "testapp.Author", "USER_FIELD": "owner"}})
    def test_profile_section(self) -> None:
        profile = get_settings().profile
        assert profile is not None
        assert (profile.model, profile.user_field, profile.defaults) == (
            "testapp.Author",
            "owner",
            None,
        )

    @override_settings(SIGNALKIT={"PROFILE": {"MODEL": "testapp.Author", "USER_FIELD": 5}})
    def test_invalid_profile_is_not_used_and_its_problems_are_kept(self) -> None:
        conf = get_settings()
        assert conf.profile is None
        assert [problem.path for problem in conf.profile_problems] == [
            "SIGNALKIT['PROFILE']['USER_FIELD']"
        ]

    def test_valid_or_unset_profile_has_no_problems(self) -> None:
        with override_settings(SIGNALKIT={}):
            assert get_settings().profile_problems == ()
        with override_settings(SIGNALKIT={"PROFILE": None}):
            assert get_settings().profile_problems == ()

    @override_settings(SIGNALKIT=["not", "a", "dict"])
    def test_non_dict_falls_back_to_defaults(self) -> None:
        assert get_settings().autodiscover is True

    @override_settings(SIGNALKIT={"AUTODISCOVER": "yes", "AUTODISCOVER_MODULES": ["handlers"]})
    def test_invalid_values_fall_back_but_valid_ones_apply(self) -> None:
        conf = get_settings()
        assert conf.autodiscover is True
        assert conf.autodiscover_modules == ("handlers",)

    @override_settings(SIGNALKIT={"OFFLOAD": {"DELIVERY": "later", "QUEUE_NAME": "mail"}})
    def test_invalid_section_key_falls_back_alone(self) -> None:
        offload = get_settings().offload
        assert (offload.delivery, offload.queue_name) == ("on_commit", "mail")

    def test_an_invalid_audit_model_entry_falls_back_alone(self) -> None:
        # A typo in one label must not switch the whole log off.
        models = {"auditapp.Account": {}, "Note": {"mask": ["text"]}}
        with override_settings(SIGNALKIT={"AUDIT": {"MODELS": models}}):
            assert get_settings().audit.models == {"auditapp.Account": {}}
        with override_settings(SIGNALKIT={"AUDIT": {"MODELS": ["auditapp.Account", 3]}}):
            assert get_settings().audit.models == {"auditapp.Account": {}}

    def test_an_invalid_toggle_falls_back_alone_and_is_logged(self) -> None:
        # A typo in one toggle must not switch the receivers of the others back on.
        toggles = {"blog.signals.ping": "false", "blog.signals.notify": False, 3: False}
        with (
            self.assertLogs("signalkit", "WARNING") as logs,
            override_settings(SIGNALKIT={"RECEIVERS": toggles}),
        ):
            assert get_settings().disabled_receivers == frozenset({"blog.signals.notify"})
        # Once, though override_settings makes the toggles and the audit read
        # the settings afresh.
        assert logs.output == [
            "WARNING:signalkit:SIGNALKIT['RECEIVERS'] 'blog.signals.ping', 3 are invalid and "
            "ignored (not a receiver key mapped to True or False); run 'manage.py check' for "
            "details."
        ]

    def test_an_invalid_toggle_is_logged_again_when_set_again(self) -> None:
        for _ in range(2):
            with (
                self.assertLogs("signalkit", "WARNING") as logs,
                override_settings(SIGNALKIT={"RECEIVERS": {"blog.signals.ping": "no"}}),
            ):
                pass
            assert len(logs.output) == 1

    def test_the_same_invalid_toggles_set_again_are_logged_again(self) -> None:
        # (A module-level dict given to override_settings by several tests.)
        toggles = {"blog.signals.ping": "no"}
        for _ in range(2):
            with (
                self.assertLogs("signalkit", "WARNING") as logs,
                override_settings(SIGNALKIT={"RECEIVERS": toggles}),
            ):
                pass
            assert len(logs.output) == 1


class DroppedModelsTests(TestCase):
    def test_an_entry_of_another_type_is_logged_not_raised(self) -> None:
        models = ["auditapp.Account", {"auditapp.Label": {}}]
        with (
            self.assertLogs("signalkit.audit", "WARNING") as logs,
            override_settings(SIGNALKIT={"AUDIT": {"MODELS": models}}),
        ):
            Account.objects.create(name="a")
        assert "{'auditapp.Label': {}}" in logs.output[0]
        assert AuditEvent.objects.filter(model_label="auditapp.Account").count() == 1

    def test_are_logged_and_the_others_audited(self) -> None:
        models = {"auditapp.Account": {}, "Note": {"mask": ["text"]}}
        with (
            self.assertLogs("signalkit.audit", "WARNING") as logs,
            override_settings(SIGNALKIT={"AUDIT": {"MODELS": models}}),
        ):
            Account.objects.create(name="a")
        assert logs.output == [
            "WARNING:signalkit.audit:SIGNALKIT['AUDIT']['MODELS'] entry 'Note' is "
            "invalid and not audited; run 'manage.py check' for details."
        ]
        assert AuditEvent.objects.filter(model_label="auditapp.Account").count() == 1

    def test_a_label_given_as_a_string_is_logged_and_audited(self) -> None:
        # ("auditapp.Account") without its comma is a string, not a tuple: meant
        # as that label, which an audit log fails closed on.
        with (
            self.assertLogs("signalkit", "WARNING") as logs,
            override_settings(SIGNALKIT={"AUDIT": {"MODELS": ("auditapp.Account")}}),
        ):
            Account.objects.create(name="a")
        assert logs.output == [
            "WARNING:signalkit:SIGNALKIT['AUDIT']['MODELS'] is 'auditapp.Account', which is "
            "invalid: it is audited as one label; run 'manage.py check' for details."
        ]
        assert AuditEvent.objects.filter(model_label="auditapp.Account").count() == 1
        # Not a label: not audited, and not said to be.
        with (
            self.assertLogs("signalkit", "WARNING") as logs,
            override_settings(SIGNALKIT={"AUDIT": {"MODELS": "auditapp.Account, auditapp.Note"}}),
        ):
            Account.objects.create(name="b")
        assert all("audited as one label" not in line for line in logs.output)
        assert "is invalid and not audited" in logs.output[-1]
        assert AuditEvent.objects.filter(model_label="auditapp.Account").count() == 1


class InvalidMaskEntryTests(TestCase):
    def test_the_valid_names_beside_an_invalid_one_still_mask_and_exclude(self) -> None:
        # Checks report the bad entry, but not every server runs them: the names
        # given beside it must not be recorded in clear.
        audit = {
            "MODELS": ["auditapp.Account"],
            "MASK_FIELDS": ["name", 5],
            "EXCLUDE_FIELDS": [None, "born"],
        }
        with override_settings(SIGNALKIT={"AUDIT": audit}):
            Account.objects.create(name="Jane Roe", born="2000-01-02")
        changes = AuditEvent.objects.get(model_label="auditapp.Account").changes
        assert changes["name"] == [None, "[masked]"]
        assert "born" not in changes

    def test_a_single_name_given_as_a_string_still_masks(self) -> None:
        audit = {"MODELS": ["auditapp.Account"], "MASK_FIELDS": "name"}
        with override_settings(SIGNALKIT={"AUDIT": audit}):
            Account.objects.create(name="Jane Roe")
        changes = AuditEvent.objects.get(model_label="auditapp.Account").changes
        assert changes["name"] == [None, "[masked]"]

    def test_names_given_as_a_set_still_mask_and_exclude(self) -> None:
        audit = {
            "MODELS": ["auditapp.Account"],
            "MASK_FIELDS": {"name"},
            "EXCLUDE_FIELDS": frozenset({"born"}),
        }
        with override_settings(SIGNALKIT={"AUDIT": audit}):
            Account.objects.create(name="Jane Roe", born="2000-01-02")
        changes = AuditEvent.objects.get(model_label="auditapp.Account").changes
        assert changes["name"] == [None, "[masked]"]
        assert "born" not in changes

    def test_names_under_a_misspelt_key_still_mask_and_are_logged(self) -> None:
        # "MASK_FIELD": the check reports it (E002), but not every server runs checks.
        audit = {
            "MODELS": ["auditapp.Account"],
            "mask_field": ["name"],
            "EXCLUDED_FIELDS": ["born"],
        }
        with (
            self.assertLogs("signalkit", "WARNING") as logs,
            override_settings(SIGNALKIT={"AUDIT": audit}),
        ):
            Account.objects.create(name="Jane Roe", born="2000-01-02")
        changes = AuditEvent.objects.get(model_label="auditapp.Account").changes
        assert changes["name"] == [None, "[masked]"]
        assert "born" not in changes
        assert "unknown key 'mask_field': its names are applied as MASK_FIELDS" in logs.output[0]
