"""``ProfileInline``: the profile on the user admin's add and change pages."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, transaction
from django.forms import BaseInlineFormSet, ModelForm
from django.forms.models import construct_instance

from signalkit.profiles.config import ProfileConfig, current
from signalkit.profiles.parents import adopt, existing_parents, parents

if TYPE_CHECKING:
    from collections.abc import Iterator

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


class ProfileForm(ModelForm):  # type: ignore[type-arg]
    """The form of ``ProfileInline``; a custom ``form`` of the inline should subclass it.

    ``on_parent_row`` is set by :class:`ProfileFormSet` on the form that creates
    a multi-table profile on the user's existing parent row: the uniqueness
    checks then leave that row out, as they leave out an edited instance's own
    row, instead of reporting that the user already has one.
    """

    on_parent_row = False

    def validate_unique(self) -> None:
        with _existing_rows(self.instance, self.on_parent_row):
            super().validate_unique()

    def validate_constraints(self) -> None:
        # Called by Django 6.0+, which validates constraints apart from
        # Model.full_clean(); on 5.2 they are validated there, where the
        # user link is left out.
        with _existing_rows(self.instance, self.on_parent_row):
            super().validate_constraints()


@contextmanager
def _existing_rows(instance: models.Model, on_parent_row: bool) -> Iterator[None]:
    # Django leaves an instance's own rows out of its uniqueness checks only
    # when it is not being added (``_state.adding``).
    if not on_parent_row:
        yield
        return
    instance._state.adding = False
    try:
        yield
    finally:
        instance._state.adding = True


class ProfileFormSet(BaseInlineFormSet):  # type: ignore[type-arg]
    """Saves an "added" profile onto the one that already exists.

    When the admin creates a user, the inline's form is a new one, but saving the
    user has just created its profile (``post_save``): inserting a second one
    would break the one-to-one. The form's values go onto the existing profile,
    and fields the form does not show keep what ``DEFAULTS`` gave them.

    A multi-table profile model whose user already has a row of its parent
    (see :mod:`signalkit.profiles.parents`) but no profile: the form shows that
    row's values, and saving it creates the missing rows on it, with the
    values submitted (the parent's fields the form shows included).
    """

    def _construct_form(self, i: int, **kwargs: Any) -> Any:
        profile = None
        if i == self.initial_form_count() and "instance" not in kwargs:
            profile = self._on_parent_row(lock=False)
        if profile is not None:
            kwargs["instance"] = profile
        form = super()._construct_form(i, **kwargs)  # type: ignore[misc]
        if profile is not None and isinstance(form, ProfileForm):
            form.on_parent_row = True
        return form

    def _on_parent_row(self, *, lock: bool) -> models.Model | None:
        """A new profile on the user's existing parent row, or ``None``."""
        user = self.instance
        model: type[models.Model] | None = self.model
        if model is None or user.pk is None or user._state.adding or self.get_queryset():
            return None  # a new user, or one that has a profile
        config = ProfileConfig(model=model, field=self.fk, defaults=None)
        if not parents(config):
            return None
        key = getattr(user, self.fk.target_field.attname)
        using = user._state.db or DEFAULT_DB_ALIAS
        parent = existing_parents(config, [key], using, lock=lock).get(key)
        if parent is None:
            return None
        profile = model()
        adopt(profile, parent)
        return profile

    def save_new(self, form: ModelForm, commit: bool = True) -> Any:  # type: ignore[type-arg]
        # The inline's model (the form's), not the foreign key's: declared on a
        # multi-table parent, the key's model is the parent, whose instance
        # would take none of the child's values.
        db = self.instance._state.db
        with transaction.atomic(using=db):
            profiles = type(form.instance)._base_manager.using(db)
            existing = profiles.filter(**{self.fk.name: self.instance}).first()
            if existing is None:
                # Read again, locked: what the parent row holds now, for the
                # fields the form does not show.
                existing = self._on_parent_row(lock=True)
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
    form = ProfileForm
    formset = ProfileFormSet
    can_delete = False
    max_num = 1
    min_num = 0
