from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)

    def __str__(self) -> str:
        return self.name


class Post(models.Model):
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    tags = models.ManyToManyField(Tag, blank=True)
    published = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)
    #: Filled by the ``fill_slug`` receiver in blog/signals.py.
    slug = models.SlugField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("post_detail", args=[self.pk])

    def publish(self) -> None:
        """Make the post visible and tell everyone who cares, once it is committed."""
        import signalkit
        from blog.signals import post_published

        self.published = True
        self.save(update_fields=["published"])
        signalkit.send_on_commit(post_published, sender=Post, post=self)


class Comment(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    name = models.CharField(max_length=100)
    body = models.TextField()
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} on {self.post}"


class Subscriber(models.Model):
    """Someone who wants an e-mail for every published post."""

    email = models.EmailField(unique=True)

    def __str__(self) -> str:
        return self.email
