"""``ProfileInline``: the profile on the user admin's add and change pages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured
from django.forms import BaseInlineFormSet, ModelForm
from django.forms.models import construct_instance

from signalkit.profiles.config import current

if TYPE_CHECKING:
    from django.db import models


class _FromProfileSetting:
    """A class attribute read from ``SIGNALKIT['PROFILE']`` whenever it is accessed."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        try:
            config = current()
        except ImproperlyConfigured:
            return None  # reported by the signalkit.E01x checks
        if config is None:
            return None
        return config.model if self.what == "model" else config.field.name


class ProfileFormSet(BaseInlineFormSet):  # type: ignore[type-arg]
    """Saves an "added" profile onto the one that already exists.

    When the admin creates a user, the inline's form is a new one, but saving the
    user has just created its profile (``post_save``): inserting a second one
    would break the one-to-one. The form's values go onto the existing profile,
    and fields the form does not show keep what ``DEFAULTS`` gave them.
    """

    def save_new(self, form: ModelForm, commit: bool = True) -> Any:  # type: ignore[type-arg]
        # The inline's model (the form's), not the foreign key's: declared on a
        # multi-table parent, the key's model is the parent, whose instance
        # would take none of the child's values.
        profiles = type(form.instance)._base_manager.using(self.instance._state.db)
        existing = profiles.filter(**{self.fk.name: self.instance}).first()
        if existing is not None:
            form.instance = construct_instance(
                form, existing, form._meta.fields, form._meta.exclude
            )
        return super().save_new(form, commit=commit)


class ProfileInline(admin.StackedInline):  # type: ignore[type-arg]
    """A stacked inline of the configured profile model, for the user model's admin.

    ``model`` and ``fk_name`` follow ``SIGNALKIT['PROFILE']``; set them in a
    subclass to pin them.
    """

    model: type[models.Model] = _FromProfileSetting("model")  # type: ignore[assignment]
    fk_name: str | None = _FromProfileSetting("fk_name")  # type: ignore[assignment]
    formset = ProfileFormSet
    can_delete = False
    max_num = 1
    min_num = 0
