"""Many-to-many events record the links really added or removed, on the right objects."""

from __future__ import annotations

from typing import Any

import django
import pytest
from django.core import serializers
from django.test import TestCase

from signalkit.audit.serialize import MASKED
from tests.audit_utils import audited, events
from tests.auditapp.models import (
    Account,
    Club,
    Cupboard,
    Doc,
    Label,
    Member,
    Person,
    Pupil,
    Shelf,
    Tag,
    VipAccount,
)


def m2m_events() -> list[tuple[str, str, str, Any]]:
    return [
        (e.action, e.model_label, e.object_pk, e.changes) for e in events(action__startswith="m2m")
    ]


@audited()
class RemoveTests(TestCase):
    def setUp(self) -> None:
        self.account = Account.objects.create(name="a")
        self.other = Account.objects.create(name="b")
        self.one, self.two = Label.objects.create(name="1"), Label.objects.create(name="2")
        self.account.labels.add(self.one)
        self.start = len(m2m_events())

    def test_removing_what_is_not_linked_records_nothing(self) -> None:
        self.account.labels.remove(self.two)  # never linked
        self.account.labels.remove(999_999)  # no such label
        self.two.accounts.remove(self.other)  # the reverse side
        assert m2m_events()[self.start :] == []

    def test_a_removal_records_the_key_as_stored(self) -> None:
        self.account.labels.remove(str(self.one.pk), self.two)  # type: ignore[arg-type]
        assert m2m_events()[self.start :] == [
            (
                "m2m_remove",
                "auditapp.Account",
                str(self.account.pk),
                {"labels": {"remove": [self.one.pk]}},
            )
        ]

    def test_a_reverse_removal_records_only_the_objects_unlinked(self) -> None:
        self.one.accounts.remove(self.account, self.other)
        assert m2m_events()[self.start :] == [
            (
                "m2m_remove",
                "auditapp.Account",
                str(self.account.pk),
                {"labels": {"remove": [self.one.pk]}},
            )
        ]


@audited(MODELS=["auditapp.Doc"])
class HiddenRowsTests(TestCase):
    def test_clear_and_remove_record_what_the_default_manager_lets_them_remove(self) -> None:
        # Django's remove() and clear() leave links to rows the related
        # model's default manager hides.
        doc = Doc.objects.create(name="d")
        shown, hidden = Tag.objects.create(name="s"), Tag.objects.create(name="h", active=False)
        doc.tags.add(shown, hidden)
        doc.tags.remove(hidden.pk)
        doc.tags.clear()
        assert list(doc.tags.through.objects.values_list("tag_id", flat=True)) == [hidden.pk]
        assert m2m_events()[1:] == [
            ("m2m_clear", "auditapp.Doc", str(doc.pk), {"tags": {"remove": [shown.pk]}})
        ]


class InheritanceTests(TestCase):
    def setUp(self) -> None:
        self.label = Label.objects.create(name="l")

    def test_only_the_audited_child(self) -> None:
        with audited(MODELS=["auditapp.Cupboard"]):
            shelf, cupboard = Shelf.objects.create(name="s"), Cupboard.objects.create(name="c")
            shelf.labels.add(self.label)  # a plain Shelf: not audited
            cupboard.labels.add(self.label)
        assert m2m_events() == [
            ("m2m_add", "auditapp.Cupboard", str(cupboard.pk), {"labels": {"add": [self.label.pk]}})
        ]

    def test_parent_and_child_each_under_their_own_label(self) -> None:
        with audited(MODELS=["auditapp.Shelf", "auditapp.Cupboard"]):
            shelf, cupboard = Shelf.objects.create(name="s"), Cupboard.objects.create(name="c")
            cupboard.labels.add(self.label)
            shelf.labels.add(self.label)
        assert [(action, label, pk) for action, label, pk, _ in m2m_events()] == [
            ("m2m_add", "auditapp.Cupboard", str(cupboard.pk)),
            ("m2m_add", "auditapp.Shelf", str(shelf.pk)),
        ]

    def test_listing_only_a_proxy(self) -> None:
        # The concrete model's instances are not audited, and must not fail.
        with audited(MODELS=["auditapp.VipAccount"]):
            plain = Account.objects.create(name="plain")
            plain.labels.add(self.label)
            vip = VipAccount.objects.create(name="vip")
            vip.labels.add(self.label)
        assert m2m_events() == [
            ("m2m_add", "auditapp.Account", str(vip.pk), {"labels": {"add": [self.label.pk]}})
        ]


@audited(MODELS=["auditapp.Person"])
class SymmetricalTests(TestCase):
    def test_both_ends_of_a_symmetrical_relation_have_their_event(self) -> None:
        ann, bob, cid = (Person.objects.create(name=name) for name in ("ann", "bob", "cid"))
        ann.friends.add(bob, cid)
        assert list(bob.friends.all()) == [ann]
        bob.friends.remove(ann)
        ann.friends.clear()
        changed = [(action, pk, changes["friends"]) for action, _, pk, changes in m2m_events()]
        # Several keys are listed, and their events made, in the order of their text.
        first, second = sorted((bob, cid), key=lambda person: str(person.pk))
        assert changed == [
            ("m2m_add", str(ann.pk), {"add": [first.pk, second.pk]}),
            ("m2m_add", str(first.pk), {"add": [ann.pk]}),
            ("m2m_add", str(second.pk), {"add": [ann.pk]}),
            ("m2m_remove", str(bob.pk), {"remove": [ann.pk]}),
            ("m2m_remove", str(ann.pk), {"remove": [bob.pk]}),
            ("m2m_clear", str(ann.pk), {"remove": [cid.pk]}),
            ("m2m_clear", str(cid.pk), {"remove": [ann.pk]}),
        ]


@audited(MODELS=["auditapp.Club"])
class OtherKeysTests(TestCase):
    def test_a_through_model_keyed_on_other_fields(self) -> None:
        # The events list the keys as the relation stores them (``to_field``
        # values); reverse-side events name the audited object by its pk.
        club = Club.objects.create(slug="chess")
        ann, bob = Member.objects.create(code="ann"), Member.objects.create(code="bob")
        club.members.add(ann, bob)
        club.members.remove(ann)
        club.members.clear()
        other = Club.objects.create(slug="go")
        ann.clubs.add(other)
        ann.clubs.remove(other)
        assert m2m_events() == [
            ("m2m_add", "auditapp.Club", str(club.pk), {"members": {"add": ["ann", "bob"]}}),
            ("m2m_remove", "auditapp.Club", str(club.pk), {"members": {"remove": ["ann"]}}),
            ("m2m_clear", "auditapp.Club", str(club.pk), {"members": {"remove": ["bob"]}}),
            ("m2m_add", "auditapp.Club", str(other.pk), {"members": {"add": ["ann"]}}),
            ("m2m_remove", "auditapp.Club", str(other.pk), {"members": {"remove": ["ann"]}}),
        ]


class SymmetricalInheritanceTests(TestCase):
    def test_the_mirror_goes_under_the_declaring_model(self) -> None:
        # The other end is a plain Person, not a Pupil.
        pupil, person = Pupil.objects.create(name="p"), Person.objects.create(name="q")
        with audited(MODELS=["auditapp.Pupil"]):
            pupil.friends.add(person)
        assert [(label, pk) for _, label, pk, _ in m2m_events()] == [
            ("auditapp.Pupil", str(pupil.pk))
        ]
        with audited(MODELS=["auditapp.Pupil", "auditapp.Person"]):
            pupil.friends.remove(person)
        assert [(label, pk) for _, label, pk, _ in m2m_events()][1:] == [
            ("auditapp.Pupil", str(pupil.pk)),
            ("auditapp.Person", str(person.pk)),
        ]

    def test_the_mirror_follows_the_declaring_models_options(self) -> None:
        # A child's unmask or include never reaches its parent's history.
        pupil, person = Pupil.objects.create(name="p"), Person.objects.create(name="q")
        unmasked = {"auditapp.Person": {}, "auditapp.Pupil": {"unmask": ["friends"]}}
        with audited(MODELS=unmasked, MASK_FIELDS=["friends"]):
            pupil.friends.add(person)
        assert [(label, changes) for _, label, _, changes in m2m_events()] == [
            ("auditapp.Pupil", {"friends": {"add": [person.pk]}}),
            ("auditapp.Person", {"friends": {"add": MASKED}}),
        ]
        left_out = {"auditapp.Person": {"include": ["name"]}, "auditapp.Pupil": {}}
        with audited(MODELS=left_out):
            pupil.friends.remove(person)
        assert [label for _, label, _, _ in m2m_events()][2:] == ["auditapp.Pupil"]


@audited()
class FixtureTests(TestCase):
    def test_the_links_of_a_fixture_are_not_recorded(self) -> None:
        # What loaddata does: a raw save, then the links. Django sends
        # m2m_changed with raw=True only from 6.1.
        label = Label.objects.create(name="1")
        data = [
            {"model": "auditapp.account", "pk": 4242, "fields": {"name": "f", "labels": [label.pk]}}
        ]
        for obj in serializers.deserialize("python", data):
            obj.save()
        assert Account.objects.get(pk=4242).labels.get() == label
        assert m2m_events() == []
        account = Account.objects.get(pk=4242)
        account.labels.clear()  # a later change is recorded again
        assert [e[0] for e in m2m_events()] == ["m2m_clear"]

    @pytest.mark.skipif(django.VERSION < (6, 1), reason="m2m_changed has raw from Django 6.1")
    def test_a_later_link_of_a_loaded_object_is_recorded(self) -> None:
        # Django marks the fixture's links itself: the program's later change of
        # that instance's links is a change like any other.
        one, two = Label.objects.create(name="1"), Label.objects.create(name="2")
        data = [
            {"model": "auditapp.account", "pk": 4243, "fields": {"name": "f", "labels": [one.pk]}}
        ]
        (loaded,) = serializers.deserialize("python", data)
        loaded.save()
        account: Any = loaded.object
        account.labels.add(two)
        assert [e[0] for e in m2m_events()] == ["m2m_add"]
