"""Two threads create the same user's profile at once: one insert wins, the other
returns the winner's row.

The threads are ordered so that the loser looks the profile up (and misses it),
then waits until the winner's profile is committed before inserting its own: the
inserts never overlap, so SQLite (which lets one connection write at a time) runs
the race too, and the loser's transaction, when it has one, started before the
winner's row existed, as in two requests of one user under ``ATOMIC_REQUESTS``.
"""

from __future__ import annotations

import threading
import unittest
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import pre_save
from django.test import TransactionTestCase, override_settings

from signalkit.profiles.ensure import ensure_profile
from signalkit.profiles.receivers import KEY
from tests.audit_utils import close_thread_connections
from tests.factories import UserFactory
from tests.profilesapp import defaults
from tests.profilesapp.config import signalkit
from tests.profilesapp.models import Profile, SharedParent, TeamProfile

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

NO_RECEIVER = {**signalkit(), "RECEIVERS": {KEY: False}}
TIMEOUT = 20


def repeatable_read() -> Any:
    """The ``isolation_level`` option of REPEATABLE READ for this backend."""
    if connection.vendor == "postgresql":
        from django.db.backends.postgresql.psycopg_any import IsolationLevel

        return IsolationLevel.REPEATABLE_READ
    return "repeatable read"  # MySQL and MariaDB (their servers' own default)


class Race:
    """The winner inserts after the loser's lookup; the loser after the winner's commit."""

    def __init__(self, *, atomic: bool, isolation_level: Any = None) -> None:
        self.atomic = atomic
        self.isolation_level = isolation_level
        self.loser_looked_up = threading.Event()
        self.winner_committed = threading.Event()
        self.results: dict[str, Any] = {}

    def hold(self, sender: Any, **kwargs: Any) -> None:
        # pre_save of the profile: its lookup has missed, its insert comes next.
        if threading.current_thread().name == "winner":
            assert self.loser_looked_up.wait(TIMEOUT)
        else:
            self.loser_looked_up.set()
            assert self.winner_committed.wait(TIMEOUT)

    def work(self, user_pk: int) -> None:
        name = threading.current_thread().name
        if self.isolation_level is not None:
            # This thread's connection, configured as a project would (not yet connected).
            options = {**connection.settings_dict["OPTIONS"]}
            options["isolation_level"] = self.isolation_level
            connection.settings_dict = {**connection.settings_dict, "OPTIONS": options}
        block: AbstractContextManager[Any] = transaction.atomic() if self.atomic else nullcontext()
        try:
            with block:
                # Read first: the transaction's snapshot predates the winner's row.
                user = User.objects.get(pk=user_pk)
                self.results[name] = ensure_profile(user)
        except Exception as error:
            self.results[name] = error
        finally:
            if name == "winner":
                self.winner_committed.set()
            else:
                self.loser_looked_up.set()
            close_thread_connections()

    def run(self, user_pk: int) -> dict[str, Any]:
        pre_save.connect(self.hold, sender=Profile, weak=False)
        try:
            threads = [
                threading.Thread(target=self.work, args=(user_pk,), name=name)
                for name in ("loser", "winner")
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            pre_save.disconnect(self.hold, sender=Profile)
        return self.results


IN_A_TRANSACTION = (
    "SQLite lets no other connection write a table that an open transaction has read: "
    "the winner cannot commit during the loser's transaction"
)
AT_ONCE = "SQLite lets one connection write at a time: two inserts cannot overlap"


def skip_on_sqlite(why: str) -> None:
    if connection.vendor == "sqlite":
        raise unittest.SkipTest(why)


@override_settings(SIGNALKIT=NO_RECEIVER)
class ConcurrentGetProfileTests(TransactionTestCase):
    def assert_one_profile(self, results: dict[str, Any]) -> None:
        winner, loser = results["winner"], results["loser"]
        assert not isinstance(winner, Exception), winner
        assert not isinstance(loser, Exception), loser
        assert (winner[1], loser[1]) == (True, False)
        assert winner[0].pk == loser[0].pk == Profile.objects.get().pk

    def test_in_autocommit(self) -> None:
        user = UserFactory.create()
        self.assert_one_profile(Race(atomic=False).run(user.pk))

    def test_in_a_transaction_that_started_before_the_winners_insert(self) -> None:
        skip_on_sqlite(IN_A_TRANSACTION)
        user = UserFactory.create()
        self.assert_one_profile(Race(atomic=True).run(user.pk))

    def test_in_autocommit_at_repeatable_read(self) -> None:
        skip_on_sqlite("SQLite has no isolation level to set")
        user = UserFactory.create()
        self.assert_one_profile(Race(atomic=False, isolation_level=repeatable_read()).run(user.pk))

    def test_in_a_repeatable_read_transaction_on_mysql(self) -> None:
        # The loser's snapshot, taken at its first read, does not show the
        # winner's row to a plain SELECT: a locking read finds it.
        if connection.vendor != "mysql":
            raise unittest.SkipTest("MySQL and MariaDB only; PostgreSQL: the next test")
        user = UserFactory.create()
        self.assert_one_profile(Race(atomic=True, isolation_level=repeatable_read()).run(user.pk))

    def test_in_a_repeatable_read_transaction_on_postgresql(self) -> None:
        # No read of this transaction can see the winner's row: the loser's
        # transaction fails, as every REPEATABLE READ transaction that meets a
        # concurrent change does, and is for the caller to run again.
        if connection.vendor != "postgresql":
            raise unittest.SkipTest("PostgreSQL only; MySQL and MariaDB: the previous test")
        user = UserFactory.create()
        results = Race(atomic=True, isolation_level=repeatable_read()).run(user.pk)
        assert results["winner"][1] is True
        assert isinstance(results["loser"], IntegrityError), results["loser"]
        assert Profile.objects.get().pk == results["winner"][0].pk

    def test_two_inserts_at_once(self) -> None:
        # Both threads insert after both missed the profile: the loser's insert
        # waits for the winner's transaction, then fails.
        skip_on_sqlite(AT_ONCE)
        user = UserFactory.create()
        both_looked_up = threading.Barrier(2, timeout=TIMEOUT)
        results: list[Any] = []

        def hold(sender: Any, **kwargs: Any) -> None:
            both_looked_up.wait()

        def work() -> None:
            try:
                results.append(ensure_profile(User.objects.get(pk=user.pk)))
            except Exception as error:
                results.append(error)
            finally:
                close_thread_connections()

        pre_save.connect(hold, sender=Profile, weak=False)
        try:
            threads = [threading.Thread(target=work) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            pre_save.disconnect(hold, sender=Profile)
        assert sorted(created for _, created in results) == [False, True]
        assert len({profile.pk for profile, _ in results}) == 1
        assert Profile.objects.count() == 1


@override_settings(
    SIGNALKIT={
        **signalkit(
            MODEL="profilesapp.TeamProfile",
            DEFAULTS="tests.profilesapp.defaults.waiting_team_defaults",
        ),
        "RECEIVERS": {KEY: False},
    }
)
class ConcurrentChildOfAnExistingParentTests(TransactionTestCase):
    def test_two_threads_create_one_child_row(self) -> None:
        # Both missed the profile; the first to lock the parent row inserts the
        # child row, the other waits for it, then returns it.
        skip_on_sqlite(AT_ONCE)
        user = UserFactory.create()
        parent = SharedParent.objects.create(user=user, name="kept")
        defaults.barrier[:] = [threading.Barrier(2, timeout=TIMEOUT)]
        results: list[Any] = []

        def work() -> None:
            try:
                with transaction.atomic():
                    results.append(ensure_profile(User.objects.get(pk=user.pk)))
            except Exception as error:
                results.append(error)
            finally:
                close_thread_connections()

        threads = [threading.Thread(target=work) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        defaults.barrier.clear()
        assert sorted(created for _, created in results) == [False, True], results
        assert {profile.pk for profile, _ in results} == {parent.pk}
        assert list(TeamProfile.objects.values_list("pk", "name", "role")) == [
            (parent.pk, "kept", "member")
        ]
        assert SharedParent.objects.count() == 1
