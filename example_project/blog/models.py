from __future__ import annotations

from django.db import models


class Post(models.Model):
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    #: Filled by the receiver in blog/signals.py, proving it is connected.
    slug = models.SlugField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return self.title
