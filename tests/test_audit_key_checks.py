"""signalkit.W028: a primary key that a mask pattern matches is recorded in clear."""

from __future__ import annotations

from django.apps import apps
from django.core import checks
from django.test import SimpleTestCase, override_settings
from django.test.utils import isolate_apps

from signalkit.audit.checks import check_masked_keys
from signalkit.audit.options import key_masked
from signalkit.conf import get_settings
from tests.auditapp.models import Pupil
from tests.test_audit_checks import run

W028 = (
    "signalkit.W028",
    "The audit log records the primary key of auditapp.Ticket (code) in clear, in every "
    "event's object_pk and in the foreign keys to it: a mask pattern matches its name, but "
    "an event must name its object.",
)


class MaskedKeyTests(SimpleTestCase):
    def test_a_key_that_mask_fields_or_the_models_mask_matches(self) -> None:
        for audit in (
            {"MODELS": ["auditapp.Ticket"], "MASK_FIELDS": ["*code*"]},
            {"MODELS": {"auditapp.Ticket": {"mask": ["code"]}}},
        ):
            assert run(check_masked_keys, audit) == [W028], audit

    def test_unmasked_keys_and_other_fields_pass(self) -> None:
        for audit in (
            {"MODELS": ["auditapp.Ticket"]},  # the default masks match no "code"
            {"MODELS": ["auditapp.Ticket"], "MASK_FIELDS": ["title"]},
            {"MODELS": {"auditapp.Ticket": {"unmask": ["code"]}}, "MASK_FIELDS": ["code"]},
            {"MODELS": ["auditapp.Account"], "MASK_FIELDS": ["*code*"]},
        ):
            assert run(check_masked_keys, audit) == [], audit

    def test_a_parent_link_is_reported_by_the_key_it_holds_not_its_name(self) -> None:
        # Pupil's key is person_ptr, which holds Person's id: "person*" matches
        # the name of a key that is no secret.
        audit = {"MODELS": ["auditapp.Pupil"], "MASK_FIELDS": ["person*"]}
        assert run(check_masked_keys, audit) == []
        # A masked key of the parent is what the link holds.
        audit = {"MODELS": ["auditapp.Pupil"], "MASK_FIELDS": ["id"]}
        assert run(check_masked_keys, audit) == [
            (
                "signalkit.W028",
                "The audit log records the primary key of auditapp.Pupil (person_ptr) in "
                "clear, in every event's object_pk and in the foreign keys to it: it holds a "
                "key that a mask pattern matches, but an event must name its object.",
            )
        ]

    @isolate_apps("tests.auditapp")
    def test_a_grandchilds_parent_link_is_judged_by_the_key_it_holds(self) -> None:
        # Prefect's key pupil_ptr holds Pupil's person_ptr, which holds
        # Person's id: "person*" matches the name of a link, not of a secret.
        class Prefect(Pupil):
            class Meta:
                app_label = "auditapp"

        with override_settings(SIGNALKIT={"AUDIT": {"MASK_FIELDS": ["person*"]}}):
            audit = get_settings().audit
            assert not key_masked(Prefect._meta.pk, audit, {}, primary=True)
        with override_settings(SIGNALKIT={"AUDIT": {"MASK_FIELDS": ["id"]}}):
            audit = get_settings().audit
            assert key_masked(Prefect._meta.pk, audit, {}, primary=True)

    def test_a_model_and_its_proxy_are_reported_once(self) -> None:
        audit = {"MODELS": ["auditapp.Login", "auditapp.Signin"], "MASK_FIELDS": ["id"]}
        assert [message_id for message_id, _ in run(check_masked_keys, audit)] == ["signalkit.W028"]

    def test_only_the_models_of_the_apps_checked(self) -> None:
        audit = {"MODELS": ["auditapp.Ticket"], "MASK_FIELDS": ["code"]}
        with override_settings(SIGNALKIT={"AUDIT": audit}):
            assert check_masked_keys([apps.get_app_config("testapp")]) == []
            assert len(check_masked_keys([apps.get_app_config("auditapp")])) == 1

    def test_it_is_registered_with_the_security_checks(self) -> None:
        assert check_masked_keys in checks.registry.registry.get_checks()
        assert checks.Tags.security in check_masked_keys.tags


class SecretTextKeyTests(SimpleTestCase):
    """A model named like a secret whose key is text: the key is the secret,
    under a name no mask matches (django-rest-framework's ``authtoken.Token``)."""

    def test_a_token_model_keyed_by_its_text_is_reported(self) -> None:
        with override_settings(SIGNALKIT={"AUDIT": {"MODELS": ["auditapp.ApiToken"]}}):
            messages = check_masked_keys()
        assert [(m.id, m.msg, m.hint) for m in messages] == [
            (
                "signalkit.W028",
                "The audit log records the primary key of auditapp.ApiToken (key) in clear, "
                "in every event's object_pk and in the foreign keys to it: its model's name "
                "looks like a secret's and the key is text, likely the secret, but an event "
                "must name its object.",
                "Give the model another primary key and keep the secret in a field of its "
                "own, which the mask covers; or, if the key is no secret, name it in the "
                "model's 'unmask'.",
            )
        ]
        # Naming the key in the model's 'unmask' records it knowingly.
        audit = {"MODELS": {"auditapp.ApiToken": {"unmask": ["key"]}}}
        assert run(check_masked_keys, audit) == []

    def test_a_model_named_like_no_mask_or_keyed_otherwise_passes(self) -> None:
        # Ticket: a text key, but no secret's name; Token: a secret's name, but
        # a UUID key (an identifier, not the secret); Login: an integer key.
        audit = {"MODELS": ["auditapp.Ticket", "auditapp.Token", "auditapp.Login"]}
        assert run(check_masked_keys, audit) == []
        # A mask pattern the user adds is a secret's name too.
        audit = {"MODELS": ["auditapp.Ticket"], "MASK_FIELDS": ["ticket"]}
        assert [message_id for message_id, _ in run(check_masked_keys, audit)] == ["signalkit.W028"]
