from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core import checks
from django.test import SimpleTestCase, override_settings

from signalkit.audit.checks import (
    check_audit_model_table,
    check_audit_models,
    check_global_field_names,
    check_secret_looking_fields,
    check_trusted_proxies,
)
from signalkit.audit.middleware_checks import (
    check_atomic_middleware_order,
    check_audit_middleware,
    check_audit_middleware_after_cache,
)


def run(check: Any, audit: dict[str, Any]) -> list[tuple[str | None, str]]:
    with override_settings(SIGNALKIT={"AUDIT": audit}):
        return [(message.id, message.msg) for message in check()]


class AuditChecksTests(SimpleTestCase):
    def test_valid_audit_setting_passes(self) -> None:
        audit = {
            "MODELS": {"auditapp.Account": {"exclude": ["name"], "mask": ["*key*"]}},
            "TRUSTED_PROXIES": ["10.0.0.1", "192.168.0.0/16", "::1"],
        }
        assert run(check_audit_models, audit) == []
        assert run(check_trusted_proxies, audit) == []
        assert run(check_audit_model_table, audit) == []

    def test_unknown_model_is_e020(self) -> None:
        assert run(check_audit_models, {"MODELS": ["auditapp.Nope"]}) == [
            (
                "signalkit.E020",
                "SIGNALKIT['AUDIT']['MODELS'] names 'auditapp.Nope', which is not an installed model.",
            )
        ]

    def test_e020_suggests_the_closest_installed_model(self) -> None:
        with override_settings(SIGNALKIT={"AUDIT": {"MODELS": ["auditapp.Acount"]}}):
            [message] = check_audit_models()
        assert (message.id, message.hint) == ("signalkit.E020", "Did you mean 'auditapp.Account'?")

    def test_a_global_name_that_is_no_audited_field_is_w022(self) -> None:
        audit = {
            "MODELS": ["auditapp.Account"],
            "MASK_FIELDS": ["*iban*", "nmae", "API_KEY"],
            "EXCLUDE_FIELDS": ["born", "borne"],
        }
        assert run(check_global_field_names, audit) == [
            (
                "signalkit.W022",
                "SIGNALKIT['AUDIT']['MASK_FIELDS'] names 'nmae', which is not a field of "
                "any audited model.",
            ),
            (
                "signalkit.W022",
                "SIGNALKIT['AUDIT']['EXCLUDE_FIELDS'] names 'borne', which is not a field of "
                "any audited model.",
            ),
        ]
        assert run(check_global_field_names, {"MASK_FIELDS": ["nmae"]}) == []

    def test_a_default_name_written_out_is_no_w022(self) -> None:
        # The documented way to add to the defaults, for models without that field.
        audit = {
            "MODELS": ["auditapp.Seat"],  # no last_login
            "EXCLUDE_FIELDS": ["last_login", "LAST_LOGIN", "holder"],
            "MASK_FIELDS": ["*password*", "*token*", "*secret*", "*api_key*"],
        }
        assert run(check_global_field_names, audit) == []

    def test_audited_models_without_the_middleware_is_w021(self) -> None:
        audit = {"MODELS": ["auditapp.Account"]}
        [(check_id, _)] = run(check_audit_middleware, audit)
        assert check_id == "signalkit.W021"
        for middleware in (
            "signalkit.middleware.AuditMiddleware",
            "signalkit.middleware.AtomicAuditMiddleware",
        ):
            with override_settings(MIDDLEWARE=[middleware]):
                assert run(check_audit_middleware, audit) == []
        assert run(check_audit_middleware, {"MODELS": []}) == []
        # What cannot be judged is not reported: a factory function, or an
        # entry that fails to import (Django reports that one).
        for middleware in ("tests.test_audit_checks.middleware_factory", "tests.nope.Missing"):
            with override_settings(MIDDLEWARE=[middleware]):
                assert run(check_audit_middleware, audit) == []

    def test_middleware_acting_after_the_atomic_one_is_w027(self) -> None:
        atomic = "signalkit.middleware.AtomicAuditMiddleware"
        locale = "django.middleware.locale.LocaleMiddleware"
        handler = "tests.test_audit_checks.ErrorPageMiddleware"
        with override_settings(MIDDLEWARE=[atomic, locale, handler]):
            messages = run(check_atomic_middleware_order, {})
        assert [check_id for check_id, _ in messages] == ["signalkit.W027"] * 2
        assert locale in messages[0][1]
        assert "process_exception" in messages[1][1]
        for order in ([locale, handler, atomic], [handler, "tests.nope.Missing", atomic], []):
            with override_settings(MIDDLEWARE=order):
                assert run(check_atomic_middleware_order, {}) == []

    def test_the_audit_middleware_after_the_one_answering_from_the_cache_is_w029(self) -> None:
        update = "django.middleware.cache.UpdateCacheMiddleware"
        fetch = "django.middleware.cache.FetchFromCacheMiddleware"
        both = "django.middleware.cache.CacheMiddleware"
        audit = "signalkit.middleware.AuditMiddleware"
        atomic = "signalkit.middleware.AtomicAuditMiddleware"
        with override_settings(MIDDLEWARE=[update, fetch, audit]):
            assert run(check_audit_middleware_after_cache, {}) == [
                (
                    "signalkit.W029",
                    f"{audit} comes after {fetch} in MIDDLEWARE: a page served from the "
                    "cache never reaches it, and carries the X-Request-ID of the request "
                    "that filled the cache.",
                )
            ]
        with override_settings(MIDDLEWARE=[both, audit, atomic]):
            messages = run(check_audit_middleware_after_cache, {})
        assert [(check_id, both in msg) for check_id, msg in messages] == [
            ("signalkit.W029", True),
            ("signalkit.W029", True),
        ]
        for order in (
            [update, audit, fetch],  # as documented: hits reach the audit's middleware
            [audit, both],
            [audit],
            [fetch, "tests.nope.Missing", "tests.test_audit_checks.middleware_factory"],
        ):
            with override_settings(MIDDLEWARE=order):
                assert run(check_audit_middleware_after_cache, {}) == [], order

    def test_unknown_field_in_options_is_w020(self) -> None:
        messages = run(check_audit_models, {"MODELS": {"auditapp.Account": {"mask": ["secrt"]}}})
        assert messages == [
            (
                "signalkit.W020",
                "SIGNALKIT['AUDIT']['MODELS']['auditapp.Account']['mask'] names 'secrt', "
                "which is not a field of auditapp.Account.",
            )
        ]

    def test_a_foreign_keys_attname_is_no_w020_or_w022(self) -> None:
        # The audit accepts "owner_id" for the key "owner", as update_fields does.
        for option in ("include", "exclude", "mask", "unmask"):
            models = {"auditapp.Account": {option: ["owner_id", "OWNER"]}}
            assert run(check_audit_models, {"MODELS": models}) == []
        audit: dict[str, Any] = {"MODELS": ["auditapp.Account"], "MASK_FIELDS": ["owner_id"]}
        assert run(check_global_field_names, audit) == []
        models = {"auditapp.Account": {"mask": ["name_id"]}}
        assert [message_id for message_id, _ in run(check_audit_models, {"MODELS": models})] == [
            "signalkit.W020"
        ]

    def test_an_unmask_name_that_is_no_field_is_w020(self) -> None:
        messages = run(check_audit_models, {"MODELS": {"auditapp.Account": {"unmask": ["tokn"]}}})
        assert [message_id for message_id, _ in messages] == ["signalkit.W020"]
        assert "['unmask'] names 'tokn'" in messages[0][1]

    def test_the_options_of_a_model_with_an_invalid_one_are_still_w020(self) -> None:
        # The model stays audited with the names its invalid option gives.
        messages = run(check_audit_models, {"MODELS": {"auditapp.Account": {"exclude": "nmae"}}})
        assert messages == [
            (
                "signalkit.W020",
                "SIGNALKIT['AUDIT']['MODELS']['auditapp.Account']['exclude'] names 'nmae', "
                "which is not a field of auditapp.Account.",
            )
        ]

    def test_w020_matches_as_the_audit_does(self) -> None:
        # Case-insensitively; and a reverse relation ("notes") records nothing.
        options = {"auditapp.Account": {"mask": ["PASSWORD"], "include": ["notes"]}}
        assert [message for _, message in run(check_audit_models, {"MODELS": options})] == [
            "SIGNALKIT['AUDIT']['MODELS']['auditapp.Account']['include'] names 'notes', "
            "which is not a field of auditapp.Account."
        ]

    def test_a_swapped_model_is_e023(self) -> None:
        with override_settings(AUTH_USER_MODEL="auditapp.Owner"):
            messages = run(check_audit_models, {"MODELS": ["auth.User"]})
        assert messages == [
            (
                "signalkit.E023",
                "SIGNALKIT['AUDIT']['MODELS'] names 'auth.User', which is swapped for "
                "'auditapp.Owner': nothing would be recorded.",
            )
        ]

    def test_a_model_named_by_two_labels_is_w025(self) -> None:
        models = {"auditapp.Account": {"mask": ["name"]}, "auditapp.account": {}}
        assert run(check_audit_models, {"MODELS": models}) == [
            (
                "signalkit.W025",
                "SIGNALKIT['AUDIT']['MODELS'] names auditapp.Account twice, as "
                "'auditapp.Account' and 'auditapp.account': the options of both apply.",
            )
        ]

    def test_a_swapped_model_named_twice_is_e023_only(self) -> None:
        with override_settings(AUTH_USER_MODEL="auditapp.Owner"):
            found = run(check_audit_models, {"MODELS": ["auth.User", "auth.user"]})
        assert [check_id for check_id, _ in found] == ["signalkit.E023"] * 2

    def test_auditing_the_audit_table_is_e021(self) -> None:
        [(check_id, _message)] = run(check_audit_model_table, {"MODELS": ["signalkit.AuditEvent"]})
        assert check_id == "signalkit.E021"

    def test_bad_trusted_proxy_is_e022(self) -> None:
        assert run(check_trusted_proxies, {"TRUSTED_PROXIES": ["10.0.0.1", "proxy.local"]}) == [
            (
                "signalkit.E022",
                "SIGNALKIT['AUDIT']['TRUSTED_PROXIES'][1] is 'proxy.local', "
                "which is not an IP address or network.",
            )
        ]

    def test_a_bad_proxy_is_e022_beside_an_entry_of_another_type(self) -> None:
        # That entry (E003) drops the list at run time; the others are still checked.
        audit = {"TRUSTED_PROXIES": [5, "proxy.local", "10.0.0.1"]}
        assert run(check_trusted_proxies, audit) == [
            (
                "signalkit.E022",
                "SIGNALKIT['AUDIT']['TRUSTED_PROXIES'][1] is 'proxy.local', "
                "which is not an IP address or network.",
            )
        ]

    def test_a_proxy_entry_that_trusts_every_address_is_w023(self) -> None:
        audit = {"TRUSTED_PROXIES": ["10.0.0.1", "0.0.0.0/0", "::/0", "::ffff:0:0/96"]}
        found = run(check_trusted_proxies, audit)
        assert [check_id for check_id, _ in found] == ["signalkit.W023"] * 3
        assert found[0][1] == (
            "SIGNALKIT['AUDIT']['TRUSTED_PROXIES'][1] is '0.0.0.0/0', which trusts every "
            "IPv4 address: any such client can choose the address recorded for it with "
            "X-Forwarded-For."
        )
        assert "is '::/0', which trusts every IPv6 address" in found[1][1]
        assert "is '::ffff:0:0/96', which trusts every IPv4 address" in found[2][1]

    def test_an_address_with_a_prefix_is_w024(self) -> None:
        audit = {"TRUSTED_PROXIES": ["10.0.0.1/8", "10.0.0.0/8", "10.0.0.1/32", "fd00::1/64"]}
        assert run(check_trusted_proxies, audit) == [
            (
                "signalkit.W024",
                "SIGNALKIT['AUDIT']['TRUSTED_PROXIES'][0] is '10.0.0.1/8', an address "
                "with a prefix: it trusts the whole network 10.0.0.0/8.",
            ),
            (
                "signalkit.W024",
                "SIGNALKIT['AUDIT']['TRUSTED_PROXIES'][3] is 'fd00::1/64', an address "
                "with a prefix: it trusts the whole network fd00::/64.",
            ),
        ]

    def test_checks_are_registered(self) -> None:
        registered = checks.registry.registry.get_checks()
        for check in (check_audit_models, check_trusted_proxies, check_audit_model_table):
            assert check in registered


def middleware_factory(get_response: Any) -> Any:
    from signalkit.middleware import AuditMiddleware

    return AuditMiddleware(get_response)


class SecretLookingFieldsTests(SimpleTestCase):
    def test_field_names_the_default_masks_miss_are_w026(self) -> None:
        assert run(check_secret_looking_fields, {"MODELS": ["auditapp.Login"]}) == [
            (
                "signalkit.W026",
                f"The audit log records auditapp.Login.{name} in clear: its name looks "
                "like a secret's, but no mask pattern matches it.",
            )
            for name in ("passwd", "private_key")
        ]

    def test_an_invalid_unmask_does_not_silence_it(self) -> None:
        # It is ignored, so the field is recorded in clear as if it were not given.
        audit = {"MODELS": {"auditapp.Login": {"unmask": "passwd"}}}
        assert [message_id for message_id, _ in run(check_secret_looking_fields, audit)] == [
            "signalkit.W026"
        ] * 2

    def test_only_the_models_of_the_apps_checked(self) -> None:
        # manage.py check LABEL: as Django's own model checks.
        with override_settings(SIGNALKIT={"AUDIT": {"MODELS": ["auditapp.Login"]}}):
            assert check_secret_looking_fields([apps.get_app_config("testapp")]) == []
            checked = check_secret_looking_fields([apps.get_app_config("auditapp")])
        assert [message.id for message in checked] == ["signalkit.W026"] * 2

    def test_masked_excluded_or_unmasked_fields_pass(self) -> None:
        for audit in (
            {"MODELS": ["auditapp.Login"], "MASK_FIELDS": ["passwd", "*key*"]},
            {"MODELS": {"auditapp.Login": {"mask": ["passwd", "private_key"]}}},
            {"MODELS": {"auditapp.Login": {"exclude": ["passwd", "private_key"]}}},
            {"MODELS": {"auditapp.Login": {"include": ["name"]}}},
            {"MODELS": {"auditapp.Login": {"unmask": ["passwd", "private_key"]}}},
        ):
            assert run(check_secret_looking_fields, audit) == [], audit

    def test_fields_the_default_masks_match_pass(self) -> None:
        # password, api_key and token are masked by default.
        assert run(check_secret_looking_fields, {"MODELS": ["auditapp.Account"]}) == []

    def test_another_models_unmask_does_not_silence_it(self) -> None:
        audit = {"MODELS": {"auditapp.Login": {}, "auditapp.Account": {"unmask": ["passwd"]}}}
        assert [msg for _, msg in run(check_secret_looking_fields, audit)] == [
            f"The audit log records auditapp.Login.{name} in clear: its name looks "
            "like a secret's, but no mask pattern matches it."
            for name in ("passwd", "private_key")
        ]

    def test_a_proxy_recording_what_its_model_leaves_out_is_checked(self) -> None:
        audit = {"MODELS": {"auditapp.Login": {"include": ["name"]}, "auditapp.Signin": {}}}
        assert [msg for _, msg in run(check_secret_looking_fields, audit)] == [
            f"The audit log records auditapp.Login.{name} in clear: its name looks "
            "like a secret's, but no mask pattern matches it."
            for name in ("passwd", "private_key")
        ]


class ErrorPageMiddleware:
    """Turns a view's exception into a response, as error-page middleware does."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        return self.get_response(request)

    def process_exception(self, request: Any, exception: Exception) -> Any:
        return None
