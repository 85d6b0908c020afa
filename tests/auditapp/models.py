from __future__ import annotations

import uuid
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class Label(models.Model):
    name = models.CharField(max_length=50)

    def __str__(self) -> str:
        return self.name


class Owner(models.Model):
    name = models.CharField(max_length=50)

    def __str__(self) -> str:
        return self.name


class Account(models.Model):
    name = models.CharField(max_length=300)
    balance = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    born = models.DateField(null=True, blank=True)
    seen_at = models.DateTimeField(null=True, blank=True)
    uid = models.UUIDField(default=uuid.uuid4)
    blob = models.BinaryField(null=True, blank=True)
    doc = models.FileField(upload_to="docs/", blank=True)
    data = models.JSONField(default=dict, blank=True)
    owner = models.ForeignKey(Owner, on_delete=models.SET_NULL, null=True, blank=True)
    labels = models.ManyToManyField(Label, blank=True, related_name="accounts")
    password = models.CharField(max_length=128, blank=True)
    api_key = models.CharField(max_length=64, blank=True)
    token = models.CharField(max_length=64, blank=True)
    last_login = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class VipAccount(Account):
    class Meta:
        proxy = True


class GoldAccount(VipAccount):
    """A proxy of a proxy."""

    class Meta:
        proxy = True


class Note(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="notes")
    text = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.text


class Plain(models.Model):
    """Never audited: keeps Django's fast paths."""

    name = models.CharField(max_length=50)
    labels = models.ManyToManyField(Label, blank=True)

    def __str__(self) -> str:
        return self.name


class Ticket(models.Model):
    """A text primary key: URLs quote it, and a UUID one names the same object."""

    code = models.CharField(max_length=40, primary_key=True)
    title = models.CharField(max_length=50)

    def __str__(self) -> str:
        return self.title


class Token(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    label = models.CharField(max_length=50)

    def __str__(self) -> str:
        return self.label


class ApiToken(models.Model):
    """A secret that keys its rows, named as no mask matches (as
    django-rest-framework's ``authtoken.Token``)."""

    key = models.CharField(max_length=40, primary_key=True)
    name = models.CharField(max_length=50, blank=True)

    def __str__(self) -> str:
        return self.name


class Login(models.Model):
    """Fields whose names look secret but that the default masks do not match."""

    name = models.CharField(max_length=50)
    passwd = models.CharField(max_length=128, blank=True)
    private_key = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.name


class Signin(Login):
    """A proxy of a model with secret-looking fields."""

    class Meta:
        proxy = True


class Shelf(models.Model):
    """A parent in multi-table inheritance, declaring a many-to-many field."""

    name = models.CharField(max_length=50)
    labels = models.ManyToManyField(Label, blank=True, related_name="shelves")

    def __str__(self) -> str:
        return self.name


class Cupboard(Shelf):
    pass


class Drawer(models.Model):
    """A second multi-table parent (its key named apart from Shelf's)."""

    drawer_id = models.AutoField(primary_key=True)
    size = models.CharField(max_length=20)

    def __str__(self) -> str:
        return self.size


class Dresser(Shelf, Drawer):
    """A child of two concrete parents: its key is the first one's."""


class Person(models.Model):
    name = models.CharField(max_length=50)
    friends = models.ManyToManyField("self", blank=True)  # symmetrical

    def __str__(self) -> str:
        return self.name


class ActiveTags(models.Manager["Tag"]):
    def get_queryset(self) -> models.QuerySet[Tag]:
        return super().get_queryset().filter(active=True)


class Tag(models.Model):
    """Its default manager hides inactive tags: remove() and clear() leave their links."""

    name = models.CharField(max_length=50)
    active = models.BooleanField(default=True)

    objects = ActiveTags()

    def __str__(self) -> str:
        return self.name


class Doc(models.Model):
    name = models.CharField(max_length=50)
    tags = models.ManyToManyField(Tag, blank=True)

    def __str__(self) -> str:
        return self.name


class Pupil(Person):
    """A multi-table child of a model with a symmetrical relation."""


class Club(models.Model):
    """A many-to-many relation whose through model keys on other fields than pks."""

    slug = models.CharField(max_length=20, unique=True)
    members: models.ManyToManyField[Member, Membership] = models.ManyToManyField(
        "Member", through="Membership", related_name="clubs"
    )

    def __str__(self) -> str:
        return self.slug


class Member(models.Model):
    code = models.CharField(max_length=20, unique=True)

    def __str__(self) -> str:
        return self.code


class Membership(models.Model):
    club = models.ForeignKey(Club, on_delete=models.CASCADE, to_field="slug")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, to_field="code")

    def __str__(self) -> str:
        return f"{self.club_id} {self.member_id}"


class Hand:
    """A value stored by a custom field (after the example in Django's docs)."""

    def __init__(self, cards: str) -> None:
        self.cards = cards

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Hand) and other.cards == self.cards

    __hash__ = None  # type: ignore[assignment]


class HandField(models.CharField[Hand | str, Hand]):
    """A custom field: its values are ``Hand`` objects, stored as text."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs["max_length"] = 40
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        del kwargs["max_length"]
        return name, path, args, kwargs

    def from_db_value(
        self, value: str | None, expression: object, connection: object
    ) -> Hand | None:
        return None if value is None else Hand(value)

    def to_python(self, value: object) -> Hand | None:
        if value is None or isinstance(value, Hand):
            return value
        return Hand(str(value))

    def get_prep_value(self, value: object) -> str | None:
        return None if value is None else value.cards if isinstance(value, Hand) else str(value)

    def value_to_string(self, obj: models.Model) -> str:
        return str(self.get_prep_value(self.value_from_object(obj)))


class Deal(models.Model):
    hand = HandField()

    objects: models.Manager[Deal] = models.Manager()

    def __str__(self) -> str:
        return f"deal {self.pk}"


class Priced(models.Model):
    """A generated column: the database computes it on every write."""

    price = models.DecimalField(max_digits=8, decimal_places=2)
    quantity = models.IntegerField(default=1)
    total = models.GeneratedField(
        expression=models.F("price") * models.F("quantity"),
        output_field=models.DecimalField(max_digits=12, decimal_places=2),
        db_persist=True,
    )

    objects: models.Manager[Priced] = models.Manager()

    def __str__(self) -> str:
        return f"{self.quantity} x {self.price}"


class Visit(models.Model):
    """A blank address: its form field gives "", which the column stores as NULL."""

    address = models.GenericIPAddressField(null=True, blank=True)
    page = models.CharField(max_length=50, blank=True)

    objects: models.Manager[Visit] = models.Manager()

    def __str__(self) -> str:
        return self.page


class Seat(models.Model):
    """A composite primary key (Django 5.2+)."""

    pk = models.CompositePrimaryKey("hall", "number")
    hall = models.CharField(max_length=20)
    number = models.IntegerField()
    holder = models.CharField(max_length=50, blank=True)

    def __str__(self) -> str:
        return f"{self.hall}{self.number}"


class ApiClient(models.Model):
    """Referred to by its API key (``to_field``), which the default masks match."""

    name = models.CharField(max_length=50)
    api_key = models.CharField(max_length=64, unique=True)

    def __str__(self) -> str:
        return self.name


class ApiCall(models.Model):
    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, to_field="api_key")
    path = models.CharField(max_length=50)

    objects: models.Manager[ApiCall] = models.Manager()

    def __str__(self) -> str:
        return self.path


class ApiLicense(models.Model):
    """Keyed by its client's API key: a one-to-one ``to_field``."""

    client = models.OneToOneField(ApiClient, on_delete=models.CASCADE, to_field="api_key")
    seats = models.IntegerField(default=1)

    def __str__(self) -> str:
        return f"license {self.pk}"


class ApiSeat(models.Model):
    """Refers to a license by its key, which is its client's API key."""

    license = models.ForeignKey(ApiLicense, on_delete=models.CASCADE, to_field="client")
    holder = models.CharField(max_length=50)

    def __str__(self) -> str:
        return self.holder


class Scope(models.Model):
    """A many-to-many relation whose through model keys on an API key."""

    name = models.CharField(max_length=50)
    clients: models.ManyToManyField[ApiClient, ScopeGrant] = models.ManyToManyField(
        ApiClient, through="ScopeGrant", related_name="scopes"
    )

    def __str__(self) -> str:
        return self.name


class ScopeGrant(models.Model):
    scope = models.ForeignKey(Scope, on_delete=models.CASCADE)
    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, to_field="api_key")

    def __str__(self) -> str:
        return f"{self.scope_id} {self.client_id}"


class Stamped(models.Model):
    """A JSON field with an encoder: the column keeps what the encoder writes."""

    meta = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)

    objects: models.Manager[Stamped] = models.Manager()

    def __str__(self) -> str:
        return f"stamped {self.pk}"


class Dated(models.Model):
    """Values its insert computes: ``auto_now_add``, ``auto_now`` and a ``db_default``."""

    name = models.CharField(max_length=50)
    created = models.DateTimeField(auto_now_add=True)
    changed = models.DateTimeField(auto_now=True)
    rank = models.IntegerField(db_default=5)

    objects: models.Manager[Dated] = models.Manager()

    def __str__(self) -> str:
        return self.name
