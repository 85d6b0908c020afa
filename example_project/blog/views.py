from __future__ import annotations

from typing import TYPE_CHECKING

from django.shortcuts import render

from blog.models import Post

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse


def post_list(request: HttpRequest) -> HttpResponse:
    return render(request, "blog/post_list.html", {"posts": Post.objects.all()})
