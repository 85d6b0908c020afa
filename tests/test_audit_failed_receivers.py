"""A save whose ``post_save`` fails before the audit's receiver runs: a receiver
connected before the audit's raised. The row is written, so its event is too."""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models.signals import post_save
from django.test import TestCase, TransactionTestCase

import signalkit.audit as audit
from signalkit.audit import receivers
from signalkit.testing import mute_signals
from tests.audit_utils import audited, events
from tests.auditapp.models import Account, Cupboard, VipAccount
from tests.profilesapp.models import RichProfile

if TYPE_CHECKING:
    from collections.abc import Iterator


class Refused(Exception):
    pass


def refuse(sender: Any, **kwargs: Any) -> None:
    raise Refused


@contextlib.contextmanager
def refused_before_the_audit(sender: Any) -> Iterator[None]:
    """A receiver that raises, connected before the audit's receivers are."""
    post_save.connect(refuse, sender=sender, dispatch_uid="test-refuse")
    try:
        with audited(MODELS=["auditapp.Account", "auditapp.Cupboard"]):
            yield
    finally:
        post_save.disconnect(sender=sender, dispatch_uid="test-refuse")


class FailedReceiverAutocommitTests(TransactionTestCase):
    def test_an_update_the_caller_goes_on_from_is_recorded(self) -> None:
        with audited():
            account = Account.objects.create(name="a")
        with refused_before_the_audit(Account):
            account.name = "b"
            with pytest.raises(Refused):
                account.save()
            account.name = "c"
            with pytest.raises(Refused):
                account.save(update_fields=["name"])
        assert Account.objects.get().name == "c"
        assert [e.changes for e in events(action="update")] == [
            {"name": ["a", "b"]},
            {"name": ["b", "c"]},
        ]

    def test_a_create_is_recorded_as_one(self) -> None:
        with refused_before_the_audit(VipAccount), pytest.raises(Refused):
            VipAccount.objects.create(name="v")
        with refused_before_the_audit(Cupboard), pytest.raises(Refused):
            Cupboard.objects.create(name="c")  # (its parent's table is written first)
        assert [(e.action, e.model_label) for e in events()] == [
            ("create", "auditapp.Account"),
            ("create", "auditapp.Cupboard"),
        ]

    def test_a_change_that_rolls_back_leaves_no_event(self) -> None:
        with audited():
            account = Account.objects.create(name="a")
        with refused_before_the_audit(Account), pytest.raises(Refused), transaction.atomic():
            account.name = "b"
            account.save()
        assert Account.objects.get().name == "a"
        assert events(action="update") == []

    def test_a_failed_write_records_nothing(self) -> None:
        account = Account.objects.create(name="a")
        with audited(), pytest.raises(IntegrityError), transaction.atomic():
            Account(pk=account.pk, name="twin").save(force_insert=True)
        assert [e.action for e in events()] == []

    def test_the_receivers_error_goes_on_when_recording_fails(self) -> None:
        with audited():
            account = Account.objects.create(name="a")

        def fail(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("the log is down")

        with refused_before_the_audit(Account), mock.patch.object(receivers, "emit", fail):
            account.name = "b"
            with self.assertLogs("signalkit.audit", logging.ERROR), pytest.raises(Refused):
                account.save()

    def test_a_receiver_after_the_audits_leaves_one_event(self) -> None:
        with audited():
            account = Account.objects.create(name="a")
            post_save.connect(refuse, sender=Account, dispatch_uid="test-refuse-late")
            try:
                account.name = "b"
                with pytest.raises(Refused):
                    account.save()
            finally:
                post_save.disconnect(sender=Account, dispatch_uid="test-refuse-late")
        assert [e.changes for e in events(action="update")] == [{"name": ["a", "b"]}]

    def test_a_muted_audit_records_nothing(self) -> None:
        with audited():
            account = Account.objects.create(name="a")
        for names in (("check_snapshot", "record_save"), ("record_save",)):
            keys = [f"signalkit.audit.receivers.{name}" for name in names]
            with refused_before_the_audit(Account), mute_signals(receivers=keys):
                account.name += "b"
                with pytest.raises(Refused):
                    account.save()
        assert events(action="update") == []

    def test_a_switched_off_audit_records_nothing(self) -> None:
        with audited():
            account = Account.objects.create(name="a")
        off = {"signalkit.audit.receivers.record_save": False}
        with (
            refused_before_the_audit(Account),
            self.settings(SIGNALKIT={"AUDIT": {"MODELS": ["auditapp.Account"]}, "RECEIVERS": off}),
        ):
            account.name = "b"
            with pytest.raises(Refused):
                account.save()
        assert events(action="update") == []

    def test_in_a_batch_too(self) -> None:
        with audited():
            account = Account.objects.create(name="a")
        with refused_before_the_audit(Account), audit.batch():
            account.name = "b"
            with pytest.raises(Refused):
                account.save()
        assert [e.changes for e in events(action="update")] == [{"name": ["a", "b"]}]


class FailedReceiverTests(FailedReceiverAutocommitTests, TestCase):
    """The same in a transaction (the test's)."""


@audited(MODELS=["profilesapp.RichProfile"])
class FailedCommitTests(TransactionTestCase):
    """A multi-table save in autocommit commits its own transaction, after it
    wrote: a deferred constraint fails there, and nothing is changed."""

    def test_an_update_whose_commit_fails_records_nothing(self) -> None:
        user = User.objects.create(username="u")
        profile = RichProfile.objects.create(user=user, theme="light")
        profile.theme = "dark"
        profile.user_id = 987654  # no such user: the deferred check fails at COMMIT
        with pytest.raises(IntegrityError):
            profile.save()
        assert RichProfile.objects.values_list("theme", flat=True).get() == "light"
        assert events(action="update") == []
        profile.user_id = user.pk
        profile.save()  # the change really commits now, and is diffed from "light"
        assert [e.changes for e in events(action="update")] == [{"theme": ["light", "dark"]}]

    def test_a_create_whose_commit_fails_records_nothing(self) -> None:
        with self.assertNoLogs("signalkit.audit", "ERROR"), pytest.raises(IntegrityError):
            RichProfile.objects.create(user_id=987654, theme="dark")
        assert events() == []
