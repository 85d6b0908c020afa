"""A URLconf with a path converter that counts its calls: one that looks its
value up in the database (a slug to an object) queries once per call."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path, register_converter

from tests.auditapp.models import Account

#: The values the converter was asked to convert, one per resolution.
converted: list[str] = []


class CountingConverter:
    regex = "[a-z]+"

    def to_python(self, value: str) -> str:
        converted.append(value)
        if value == "nobody":
            raise ValueError(value)  # no match: a 404
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(CountingConverter, "auditapp_counted")


def create(request: HttpRequest, name: str) -> HttpResponse:
    Account.objects.create(name=name)
    return HttpResponse("ok")


async def acreate(request: HttpRequest, name: str) -> HttpResponse:
    await Account.objects.acreate(name=name)
    return HttpResponse("ok")


urlpatterns = [
    path("create/<auditapp_counted:name>/", create),
    path("acreate/<auditapp_counted:name>/", acreate),
]
