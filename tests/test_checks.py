from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.apps import AppConfig
from django.test import SimpleTestCase, override_settings

from signalkit.checks import check_autodiscover_exclude, check_settings
from signalkit.labels import app_names

if TYPE_CHECKING:
    from django.core.checks import CheckMessage


def ids_and_messages(messages: list[CheckMessage]) -> list[tuple[str | None, str]]:
    return [(message.id, message.msg) for message in messages]


def run(value: Any) -> list[tuple[str | None, str]]:
    with override_settings(SIGNALKIT=value):
        return ids_and_messages(check_settings())


class CheckSettingsTests(SimpleTestCase):
    def test_valid_full_setting_passes(self) -> None:
        assert (
            run(
                {
                    "AUTODISCOVER": True,
                    "AUTODISCOVER_MODULES": ["signals", "receivers"],
                    "AUTODISCOVER_EXCLUDE": ["admin"],
                    "RECEIVERS": {"blog.signals.notify_followers": False},
                    "PROFILE": {
                        "MODEL": "accounts.Profile",
                        "USER_FIELD": "user",
                        "DEFAULTS": None,
                    },
                    "AUDIT": {
                        "MODELS": {"blog.Post": {"exclude": ["body"], "mask": ["secret"]}},
                        "EXCLUDE_FIELDS": ["last_login"],
                        "MASK_FIELDS": ["*password*"],
                        "AUTH_EVENTS": True,
                        "TRUSTED_PROXIES": ["10.0.0.1"],
                        "ON_ERROR": "log",
                    },
                    "OFFLOAD": {
                        "BACKEND": "default",
                        "QUEUE_NAME": "default",
                        "DELIVERY": "outbox",
                    },
                }
            )
            == []
        )

    def test_unset_setting_passes(self) -> None:
        assert run({}) == []

    def test_non_dict_is_e001(self) -> None:
        assert run(["signals"]) == [
            ("signalkit.E001", "SIGNALKIT is ['signals'], which is not a dict.")
        ]

    def test_unknown_top_level_key_is_e002_with_suggestion(self) -> None:
        with override_settings(SIGNALKIT={"AUTODISCOVERY": False}):
            (message,) = check_settings()
        assert message.id == "signalkit.E002"
        assert message.msg == "SIGNALKIT has an unknown key 'AUTODISCOVERY'."
        assert message.hint == "Did you mean 'AUTODISCOVER'?"

    def test_a_key_in_the_wrong_case_is_e002_with_suggestion(self) -> None:
        for value, hint in (
            ({"audit": {}}, "Did you mean 'AUDIT'?"),
            ({"AUDIT": {"MODELS": {"auditapp.Account": {"MASK": []}}}}, "Did you mean 'mask'?"),
        ):
            with override_settings(SIGNALKIT=value):
                (message,) = check_settings()
            assert (message.id, message.hint) == ("signalkit.E002", hint)

    def test_a_sections_key_given_at_the_top_level_points_to_it(self) -> None:
        for key in ("AUDIT_MODELS", "MODELS", "ON_ERROR"):
            with override_settings(SIGNALKIT={key: []}):
                (message,) = check_settings()
            inner = key.removeprefix("AUDIT_")
            assert message.hint == f"Did you mean SIGNALKIT['AUDIT'][{inner!r}]?", key

    def test_unknown_nested_key_names_the_path(self) -> None:
        assert run({"AUDIT": {"MODLES": []}}) == [
            ("signalkit.E002", "SIGNALKIT['AUDIT'] has an unknown key 'MODLES'.")
        ]

    def test_wrong_type_is_e003(self) -> None:
        assert run({"AUTODISCOVER": "yes"}) == [
            ("signalkit.E003", "SIGNALKIT['AUTODISCOVER'] is 'yes', which is not True or False.")
        ]

    def test_module_name_not_a_string_names_the_index(self) -> None:
        assert run({"AUTODISCOVER_MODULES": ["signals", 3]}) == [
            (
                "signalkit.E003",
                "SIGNALKIT['AUTODISCOVER_MODULES'][1] is 3, which is not a string.",
            )
        ]

    def test_module_name_that_is_no_module_is_e004(self) -> None:
        assert run({"AUTODISCOVER_MODULES": ["my-signals"]}) == [
            (
                "signalkit.E004",
                "SIGNALKIT['AUTODISCOVER_MODULES'][0] is 'my-signals', which is not "
                "a module name such as 'signals'.",
            )
        ]

    def test_module_name_with_a_final_newline_is_e004(self) -> None:
        # ("$" matched before the newline: the name passed, then imported nothing.)
        assert run({"AUTODISCOVER_MODULES": ["signals\n"]}) == [
            (
                "signalkit.E004",
                "SIGNALKIT['AUTODISCOVER_MODULES'][0] is 'signals\\n', which is not "
                "a module name such as 'signals'.",
            )
        ]

    def test_a_file_name_for_a_module_is_e004(self) -> None:
        # ("signals.py" names a module "py" in "signals": none was ever found,
        # and only the side effect of looking imported "signals".)
        assert run({"AUTODISCOVER_MODULES": ["receivers", "signals.py"]}) == [
            (
                "signalkit.E004",
                "SIGNALKIT['AUTODISCOVER_MODULES'][1] is 'signals.py', which is not "
                "a module name such as 'signals'.",
            )
        ]
        assert run({"AUTODISCOVER_MODULES": ["handlers.pyre", "py", "signals.pyc_helpers"]}) == []

    def test_model_label_with_a_final_newline_is_e004(self) -> None:
        assert [id_ for id_, _ in run({"PROFILE": {"MODEL": "auth.User\n"}})] == ["signalkit.E004"]

    def test_modules_given_as_a_string_is_e003(self) -> None:
        assert run({"AUTODISCOVER_MODULES": "signals"}) == [
            (
                "signalkit.E003",
                "SIGNALKIT['AUTODISCOVER_MODULES'] is 'signals', which is not a list of strings.",
            )
        ]

    def test_receiver_toggle_not_bool(self) -> None:
        assert run({"RECEIVERS": {"blog.signals.x": "off"}}) == [
            (
                "signalkit.E003",
                "SIGNALKIT['RECEIVERS']['blog.signals.x'] is 'off', which is not True or False.",
            )
        ]

    def test_receiver_key_not_a_string(self) -> None:
        assert run({"RECEIVERS": {1: False}}) == [
            ("signalkit.E003", "SIGNALKIT['RECEIVERS'] has the key 1, which is not a string.")
        ]

    def test_receivers_not_a_dict(self) -> None:
        assert run({"RECEIVERS": ["a.b"]}) == [
            (
                "signalkit.E003",
                "SIGNALKIT['RECEIVERS'] is ['a.b'], which is not a dict of receiver key -> bool.",
            )
        ]

    def test_bad_choice_is_e004(self) -> None:
        assert run({"AUDIT": {"ON_ERROR": "ignore"}}) == [
            (
                "signalkit.E004",
                "SIGNALKIT['AUDIT']['ON_ERROR'] is 'ignore', which is not one of 'raise', 'log'.",
            )
        ]

    def test_offload_delivery_choice(self) -> None:
        assert run({"OFFLOAD": {"DELIVERY": "now"}}) == [
            (
                "signalkit.E004",
                "SIGNALKIT['OFFLOAD']['DELIVERY'] is 'now', which is not one of "
                "'on_commit', 'outbox'.",
            )
        ]

    def test_offload_missing_choice(self) -> None:
        assert run({"OFFLOAD": {"MISSING": "ignore"}}) == [
            (
                "signalkit.E004",
                "SIGNALKIT['OFFLOAD']['MISSING'] is 'ignore', which is not one of "
                "'skip', 'none', 'fail'.",
            )
        ]

    def test_profile_without_model(self) -> None:
        assert run({"PROFILE": {"USER_FIELD": "user"}}) == [
            ("signalkit.E004", "SIGNALKIT['PROFILE'] has no 'MODEL' key.")
        ]

    def test_profile_model_not_a_label(self) -> None:
        assert run({"PROFILE": {"MODEL": "Profile"}}) == [
            (
                "signalkit.E004",
                "SIGNALKIT['PROFILE']['MODEL'] is 'Profile', which is not a model label.",
            )
        ]

    def test_profile_defaults_not_a_path(self) -> None:
        assert run({"PROFILE": {"MODEL": "a.B", "DEFAULTS": 3}}) == [
            (
                "signalkit.E003",
                "SIGNALKIT['PROFILE']['DEFAULTS'] is 3, which is not None or a dotted path.",
            )
        ]

    def test_section_not_a_dict(self) -> None:
        assert run({"AUDIT": ["blog.Post"]}) == [
            ("signalkit.E003", "SIGNALKIT['AUDIT'] is ['blog.Post'], which is not a dict.")
        ]

    def test_audit_model_labels_are_checked(self) -> None:
        assert run({"AUDIT": {"MODELS": ["Post"]}}) == [
            (
                "signalkit.E004",
                "SIGNALKIT['AUDIT']['MODELS'][0] is 'Post', which is not a model label "
                "'app_label.ModelName'.",
            )
        ]

    def test_audit_model_options_unknown_key(self) -> None:
        assert run({"AUDIT": {"MODELS": {"blog.Post": {"masks": ["x"]}}}}) == [
            (
                "signalkit.E002",
                "SIGNALKIT['AUDIT']['MODELS']['blog.Post'] has an unknown key 'masks'.",
            )
        ]

    def test_audit_unmask_takes_names_never_patterns(self) -> None:
        assert run({"AUDIT": {"MODELS": {"blog.Post": {"unmask": ["token\n"]}}}})[0][0] == (
            "signalkit.E004"
        )
        assert run({"AUDIT": {"MODELS": {"blog.Post": {"unmask": ["api_key", "*token*"]}}}}) == [
            (
                "signalkit.E004",
                "SIGNALKIT['AUDIT']['MODELS']['blog.Post']['unmask'][1] is '*token*', "
                "which is not a field name (not a pattern).",
            )
        ]

    def test_values_that_fall_back_at_run_time_are_still_reported(self) -> None:
        value = {
            "AUTODISCOVER": 0,
            "AUDIT": {"MODELS": {"blog.Post": {"exclude": "body"}}},
            "OFFLOAD": {"DELIVERY": "outbx"},
        }
        assert run(value) == [
            ("signalkit.E003", "SIGNALKIT['AUTODISCOVER'] is 0, which is not True or False."),
            (
                "signalkit.E003",
                "SIGNALKIT['AUDIT']['MODELS']['blog.Post']['exclude'] is 'body', which is not "
                "a list of strings.",
            ),
            (
                "signalkit.E004",
                "SIGNALKIT['OFFLOAD']['DELIVERY'] is 'outbx', which is not one of 'on_commit', "
                "'outbox'.",
            ),
        ]

    def test_every_problem_is_reported(self) -> None:
        result = run({"AUTODISCOVER": 1, "NOPE": 2, "OFFLOAD": {"DELIVERY": "x"}})
        assert [message_id for message_id, _ in result] == [
            "signalkit.E003",
            "signalkit.E002",
            "signalkit.E004",
        ]


class CheckAutodiscoverExcludeTests(SimpleTestCase):
    @override_settings(SIGNALKIT={"AUTODISCOVER_EXCLUDE": ["testapp", "nosuchapp"]})
    def test_unknown_label_warns(self) -> None:
        (message,) = check_autodiscover_exclude()
        assert message.id == "signalkit.W001"
        assert message.msg == (
            "SIGNALKIT['AUTODISCOVER_EXCLUDE'] names 'nosuchapp', which is not an installed app label."
        )

    @override_settings(SIGNALKIT={"AUTODISCOVER_EXCLUDE": ["testapp"]})
    def test_installed_label_passes(self) -> None:
        assert check_autodiscover_exclude() == []

    @override_settings(SIGNALKIT={"AUTODISCOVER_EXCLUDE": ["tests.testapp", "django.contrib.auth"]})
    def test_an_apps_module_path_names_its_label(self) -> None:
        assert [message.hint for message in check_autodiscover_exclude()] == [
            "It is the module of the app labelled 'auth': use that.",
            "It is the module of the app labelled 'testapp': use that.",
        ]

    @override_settings(SIGNALKIT={"AUTODISCOVER_EXCLUDE": ["tests.testapp.apps.TestAppConfig"]})
    def test_an_app_config_path_names_its_label(self) -> None:
        (message,) = check_autodiscover_exclude()
        assert message.hint == "It is the app config of the app labelled 'testapp': use that."

    def test_the_names_an_app_is_known_by(self) -> None:
        # The W001 hint and the autodiscovery error both name the label for these.
        config = AppConfig.create("tests.discovery.brokenapp.apps.BrokenConfig")
        assert app_names(config) == {
            "brokenapp": "package",
            "tests.discovery.brokenapp": "module",
            "tests.discovery.brokenapp.apps.BrokenConfig": "app config",
        }

    @override_settings(SIGNALKIT={"AUTODISCOVER_EXCLUDE": ["testap"]})
    def test_a_misspelt_label_gets_the_closest_labels(self) -> None:
        (message,) = check_autodiscover_exclude()
        assert message.hint == "Did you mean 'testapp', 'testingapp'?"

    @override_settings(SIGNALKIT={"AUTODISCOVER_EXCLUDE": ["zzz"]})
    def test_a_label_like_none_lists_the_installed_labels(self) -> None:
        (message,) = check_autodiscover_exclude()
        assert message.hint is not None
        assert message.hint.startswith("Installed labels: admin, auditapp, auth, ")
