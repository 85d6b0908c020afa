"""``SIGNALKIT['PROFILE']`` resolved into the objects it names.

One function finds every problem of the setting; the system checks report them
(``signalkit.E010``-``E013``) and the runtime refuses to guess when there is one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import models
from django.db.models.fields import NOT_PROVIDED
from django.utils.module_loading import import_string

from signalkit.conf import get_settings
from signalkit.profiles.values import check_values
from signalkit.validators import CHECK_IDS

if TYPE_CHECKING:
    from signalkit.conf import ProfileSettings

Defaults = Callable[[Any], dict[str, Any]]
_WHERE = "SIGNALKIT['PROFILE']"


@dataclass(frozen=True)
class ProfileConfig:
    """The profile model, its link to the user model and the ``DEFAULTS`` callable."""

    model: type[models.Model]
    field: models.ForeignKey[Any, Any]
    defaults: Defaults | None

    def values_for(self, user: Any) -> dict[str, Any]:
        """The field values of a new profile of ``user`` (``DEFAULTS(user)`` or ``{}``).

        Raises :class:`~django.core.exceptions.ImproperlyConfigured` when
        ``DEFAULTS`` returns something other than a dict, or a key that a new
        profile cannot be given (not a field, a many-to-many field, a reverse
        relation, a read-only property, the user field's ``attname``).
        """
        if self.defaults is None:
            return {}
        values = self.defaults(user)
        if not isinstance(values, dict):
            # The setting names a callable that does not do its job: a configuration
            # error, which createprofiles turns into a CommandError.
            raise ImproperlyConfigured(
                f"{_WHERE}['DEFAULTS'] returned {values!r}, which is not a dict. Return a dict "
                "of field values for the new profile, such as {'display_name': ...}."
            )
        check_values(self.model, values, user_field=self.field, where=f"{_WHERE}['DEFAULTS']")
        return values


@dataclass(frozen=True)
class Problem:
    id: str
    message: str
    hint: str


def user_model() -> type[models.Model]:
    return get_user_model()


def resolve(settings: ProfileSettings) -> tuple[ProfileConfig | None, list[Problem]]:
    """The configuration named by ``settings``, or ``None`` and what is wrong with it."""
    try:
        model = apps.get_model(settings.model)
    except (LookupError, ValueError):
        return None, [
            Problem(
                "signalkit.E010",
                f"{_WHERE}['MODEL'] is {settings.model!r}, which is not an installed model.",
                "Use 'app_label.ModelName' of an installed model with a OneToOneField "
                "to the user model.",
            )
        ]
    problems: list[Problem] = []
    field = _user_field(model, settings.user_field, problems)
    defaults = _defaults(settings.defaults, problems)
    if field is not None and settings.defaults is None:
        required = required_fields(model, field)
        if required:
            problems.append(
                Problem(
                    "signalkit.E012",
                    f"{_WHERE}: {model._meta.label} has required fields without a default "
                    f"({', '.join(required)}) and 'DEFAULTS' is None.",
                    "Give those fields a default, or set 'DEFAULTS' to the dotted path of a "
                    "callable that takes the user and returns a dict with their values.",
                )
            )
    if problems or field is None:
        return None, problems
    return ProfileConfig(model=model, field=field, defaults=defaults), []


def _user_field(
    model: type[models.Model], name: str, problems: list[Problem]
) -> models.ForeignKey[Any, Any] | None:
    label = model._meta.label
    hint = (
        "Set 'USER_FIELD' to the name of a OneToOneField (or a unique ForeignKey) to the user "
        "model on the profile model."
    )
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        problems.append(
            Problem(
                "signalkit.E011",
                f"{_WHERE}['USER_FIELD'] is {name!r}: {label} has no such field.",
                hint,
            )
        )
        return None
    try:
        user = user_model()
    except ImproperlyConfigured as error:  # AUTH_USER_MODEL is not installed
        problems.append(
            Problem("signalkit.E011", f"{_WHERE}['USER_FIELD'] is {name!r}: {error}.", hint)
        )
        return None
    target = user._meta.concrete_model or user
    remote = field.related_model if isinstance(field, models.ForeignKey) else None
    if (
        not isinstance(field, models.ForeignKey)
        or not isinstance(remote, type)
        or remote._meta.concrete_model is not target
        or not is_unique(model, field)
    ):
        problems.append(
            Problem(
                "signalkit.E011",
                f"{_WHERE}['USER_FIELD'] is {name!r}: {label}.{name} is not a OneToOneField "
                f"or a unique ForeignKey to {target._meta.label}.",
                hint,
            )
        )
        return None
    if field.remote_field.parent_link:
        # A multi-table child of the user model: saving a "profile" for an
        # existing user would overwrite the user's row with the child's values.
        problems.append(
            Problem(
                "signalkit.E011",
                f"{_WHERE}['USER_FIELD'] is {name!r}: {label} is a multi-table child of "
                f"{target._meta.label} ({name} is its parent link), not a profile of it: "
                f"creating one for an existing user would overwrite the user's row.",
                "Use a separate profile model with a OneToOneField to the user model.",
            )
        )
        return None
    return field


def is_unique(model: type[models.Model], field: models.Field[Any, Any]) -> bool:
    """Whether ``field`` alone is unique: ``unique=True`` or an unconditional single-field constraint."""
    if field.unique:
        return True
    return any(
        isinstance(constraint, models.UniqueConstraint)
        and tuple(constraint.fields) == (field.name,)
        and constraint.condition is None
        for constraint in model._meta.total_unique_constraints
    )


def _defaults(path: str | None, problems: list[Problem]) -> Defaults | None:
    if path is None:
        return None
    try:
        func = import_string(path)
    except Exception as error:  # an error raised by its module too: reported, not crashed on
        problems.append(
            Problem(
                "signalkit.E013",
                f"{_WHERE}['DEFAULTS'] is {path!r}, which cannot be imported: "
                f"{type(error).__name__}: {error}",
                "Use the dotted path of a callable that takes the user and returns a dict.",
            )
        )
        return None
    if not callable(func):
        problems.append(
            Problem(
                "signalkit.E013",
                f"{_WHERE}['DEFAULTS'] is {path!r}, which is not callable.",
                "Use the dotted path of a callable that takes the user and returns a dict.",
            )
        )
        return None
    return func  # type: ignore[no-any-return]


def required_fields(model: type[models.Model], user_field: models.Field[Any, Any]) -> list[str]:
    """Fields a new profile cannot be saved (or validated) without."""
    names = []
    for field in model._meta.concrete_fields:
        if (
            field is user_field
            or field.primary_key
            or field.null
            or field.has_default()
            or field.db_default is not NOT_PROVIDED
            or getattr(field, "generated", False)
            or getattr(field, "auto_now", False)
            or getattr(field, "auto_now_add", False)
            or (field.blank and field.empty_strings_allowed)
        ):
            continue
        names.append(field.name)
    return names


def current() -> ProfileConfig | None:
    """The configuration in effect now; ``None`` when ``PROFILE`` is not set.

    Raises :class:`~django.core.exceptions.ImproperlyConfigured` with the first
    problem, and the ID of the check that reports it, when the setting is
    invalid or names something that does not work.
    """
    every = get_settings()
    if every.profile_problems:
        # Not "not set": a typo in a key must not look like a missing setting.
        problem = every.profile_problems[0]
        raise _improperly_configured(problem.message, CHECK_IDS[problem.kind], problem.hint)
    settings = every.profile
    if settings is None:
        return None
    config, problems = resolve(settings)
    if config is None:
        raise _improperly_configured(problems[0].message, problems[0].id, problems[0].hint)
    return config


def _improperly_configured(message: str, check_id: str, hint: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"{message} ({check_id}) {hint}")


def require() -> ProfileConfig:
    """Like :func:`current`, but ``PROFILE`` must be set."""
    config = current()
    if config is None:
        raise ImproperlyConfigured(
            f"{_WHERE} is not set. Set it to a dict such as "
            "{'MODEL': 'accounts.Profile', 'USER_FIELD': 'user'}."
        )
    return config
