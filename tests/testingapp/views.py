from __future__ import annotations

from django.dispatch import Signal
from django.http import HttpRequest, HttpResponse
from django.urls import path

#: Sent by :func:`ping` for each request, in the server's thread.
pinged = Signal()


def ping(request: HttpRequest) -> HttpResponse:
    responses = pinged.send(ping)
    return HttpResponse(f"{len(responses)} receiver(s)")


urlpatterns = [path("ping/", ping)]
