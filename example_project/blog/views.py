from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.cache import cache
from django.shortcuts import get_object_or_404, render

from blog.models import Post
from blog.signals import POST_LIST_CACHE_KEY

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse


def post_list(request: HttpRequest) -> HttpResponse:
    posts = cache.get(POST_LIST_CACHE_KEY)
    if posts is None:
        posts = list(Post.objects.filter(published=True).prefetch_related("tags"))
        cache.set(POST_LIST_CACHE_KEY, posts)
    return render(request, "blog/post_list.html", {"posts": posts})


def post_detail(request: HttpRequest, pk: int) -> HttpResponse:
    post = get_object_or_404(Post, pk=pk, published=True)
    return render(request, "blog/post_detail.html", {"post": post})
