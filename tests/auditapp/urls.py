from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from tests.auditapp.models import Account


def create(request: HttpRequest) -> HttpResponse:
    Account.objects.create(name="sync view")
    return HttpResponse("ok")


async def acreate(request: HttpRequest) -> HttpResponse:
    await Account.objects.acreate(name="async view")
    return HttpResponse("ok")


urlpatterns = [path("create/", create), path("acreate/", acreate)]
