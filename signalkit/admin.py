"""Admin: a read-only audit log, and ``AuditHistoryMixin`` (see
:mod:`signalkit.history_admin`) for any ModelAdmin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeGuard

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import EmptyPage, Paginator
from django.db import connections
from django.db.models import Q, QuerySet
from django.db.models.query import ModelIterable
from django.utils.functional import cached_property
from django.utils.html import format_html

from signalkit.history_admin import AuditHistoryMixin, audit_history_url, history_url
from signalkit.models import AuditEvent

__all__ = ["AuditEventAdmin", "AuditHistoryMixin", "audit_history_url"]

if TYPE_CHECKING:
    from collections.abc import Iterator

    from django.http import HttpRequest


# The actions signalkit records; custom ones (record()) still filter by URL.
ACTIONS = (
    "create",
    "update",
    "delete",
    "m2m_add",
    "m2m_remove",
    "m2m_clear",
    "login",
    "logout",
    "login_failed",
)


class _ExactFilter(admin.SimpleListFilter):
    """An exact match on ``parameter_name``. The choices never come from the
    table: a ``SELECT DISTINCT`` on every page view reads the whole log."""

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value and "\x00" in value:
            # No event holds a NUL (the writer replaces it), and PostgreSQL
            # refuses one in a query: nothing matches, without asking.
            return queryset.none()
        return queryset.filter(**{str(self.parameter_name): value}) if value else queryset


class ActionFilter(_ExactFilter):
    title = "action"
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(action, action) for action in ACTIONS]


class ModelFilter(_ExactFilter):
    title = "model"
    parameter_name = "model_label"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        # The audited models (from the settings) and the user model (auth events).
        from signalkit.audit.audited import audited_labels

        return [(label, label) for label in audited_labels()]


class ActorFilter(_ExactFilter):
    """A text box: an actor list would have to read every actor in the log."""

    title = "actor id"
    parameter_name = "actor_id"
    template = "signalkit/admin/input_filter.html"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return []

    def has_output(self) -> bool:
        return True

    def choices(self, changelist: Any) -> Iterator[dict[str, Any]]:  # type: ignore[override]
        # One entry, for input_filter.html: what the form submits besides the actor id.
        yield {
            "value": self.value() or "",
            "preserved": [
                (name, value)
                for name, values in changelist.filter_params.items()
                if name != self.parameter_name
                for value in values  # a parameter may repeat
            ],
        }


class EstimatedCountPaginator(Paginator):  # type: ignore[type-arg]
    """Django's paginator, except that the whole log on PostgreSQL is counted from
    the planner's statistics once they say it holds ``exact_below`` rows or more:
    ``COUNT(*)`` reads every row of the table, on every page view. The count
    shown is then an estimate (refreshed by ``ANALYZE``, which autovacuum runs),
    and pages past it stay reachable; a filtered list is always counted exactly,
    through its index.

    A page of model instances is read in two steps: its primary keys, then its
    rows. A filter's index that ends with the sort columns and the key answers
    the first step alone (an index-only scan on PostgreSQL, cheap while
    autovacuum keeps the pages all-visible), so the planner no longer walks the
    time index back instead, reading and skipping every newer row, to find the
    events of a filter that are all old."""

    #: Rows (by PostgreSQL's estimate) below which the whole log is counted exactly.
    exact_below = 100_000

    @cached_property
    def estimate(self) -> int | None:
        """PostgreSQL's estimate of the rows, when :attr:`count` is that estimate."""
        estimate = _estimated_rows(self.object_list)
        return estimate if estimate is not None and estimate >= self.exact_below else None

    @cached_property
    def count(self) -> int:
        return int(super().count) if self.estimate is None else self.estimate

    def validate_number(self, number: Any) -> int:
        try:
            return int(super().validate_number(number))
        except EmptyPage:
            # Past an estimate, which may fall short of the table: rows may be
            # there (but no database skips 2**62 rows: no page starts there).
            page = int(number)
            if self.estimate is not None and page > 1 and (page - 1) * self.per_page < 2**62:
                return page
            raise

    def page(self, number: Any) -> Any:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if self.estimate is None and top + self.orphans >= self.count:
            top = self.count  # (as Django's; past an estimate it is not cut)
        return self._get_page(self._rows(bottom, top), number, self)  # type: ignore[attr-defined]

    def _rows(self, bottom: int, top: int) -> Any:
        rows = self.object_list
        if not _keys_first(rows):
            return rows[bottom:top]
        keys = list(rows.values_list("pk", flat=True)[bottom:top])
        # Found by their keys alone: with the filters repeated, a planner may
        # walk the filter's index through all its rows to spare sorting these
        # few (SQLite without ANALYZE does).
        found = rows.model._base_manager.using(rows.db).filter(pk__in=keys)
        return found.order_by(*rows.query.order_by)


def _row_per_row(query: Any) -> bool:
    """Whether ``query`` gives one result per row of its model's table."""
    return not (
        query.is_sliced
        or query.distinct
        or query.combinator
        or query.group_by is not None  # one row per group
        or query.extra_tables  # extra(tables=...): a cross join
        or len(query.alias_map) > 1  # a join that can multiply rows
    )


def _keys_first(queryset: Any) -> TypeGuard[QuerySet[Any]]:
    """Whether a page of ``queryset`` can be read as its keys, then as the rows
    of those keys: whole model instances, one per row (else a key could stand
    for two results), in an explicit order of the model's own columns (one
    across a relation can repeat rows), nothing the rows' query would lose
    (``select_related()``, annotations, ``only()``)."""
    if not isinstance(queryset, QuerySet) or queryset._iterable_class is not ModelIterable:
        return False
    query = queryset.query
    ordering = query.order_by
    return (
        bool(ordering)
        and all(isinstance(name, str) and "__" not in name and name != "?" for name in ordering)
        and _row_per_row(query)
        and not (query.select_related or query.annotations or query.extra)
        and query.deferred_loading == (frozenset(), True)
    )


def _estimated_rows(queryset: Any) -> int | None:
    """The planner's estimate of the rows of ``queryset``'s table, when the
    queryset is that whole table, one row per row, on PostgreSQL (else ``None``)."""
    if not isinstance(queryset, QuerySet):
        return None
    query = queryset.query
    if query.where or not _row_per_row(query):
        return None
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    table = connection.ops.quote_name(str(queryset.model._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)", [table])
        row = cursor.fetchone()
    # -1: never analyzed (PostgreSQL 14 and later); 0: empty, or not analyzed yet.
    return int(row[0]) if row is not None and row[0] > 0 else None


class _IndexedOrderingChangeList(ChangeList):
    """Sorts by ``occurred_at`` only: ``sortable_by`` hides the other headers,
    but Django still honours their ``?o=`` (a sort of the whole log)."""

    def get_ordering_field(self, field_name: Any) -> Any:
        return "occurred_at" if field_name == "occurred_at" else None


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Audit events, read-only: nobody can add, change or delete them here.

    Filters and search use indexed columns only (``action``, ``model_label``,
    ``actor_id``, ``occurred_at``; exact ``actor_id`` and ``correlation_id``), and
    no filter reads the table to list its choices.
    """

    list_display = (
        "occurred_at",
        "action",
        "model_label",
        "object_pk",
        "object",
        "actor_repr",
        "remote_addr",
    )
    list_filter = (ActionFilter, ModelFilter, ActorFilter, "occurred_at")
    search_fields = ("=actor_id", "=correlation_id")
    search_help_text = "Exact actor id or correlation id."
    ordering = ("-occurred_at", "-pk")
    # Any other column header would sort the whole log (no index serves it).
    sortable_by = ("occurred_at",)
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    show_facets = admin.ShowFacets.NEVER
    actions = None

    @admin.display(description="object")
    def object(self, event: AuditEvent) -> str:
        """``object_repr``, linked to the object's audit history when the model's
        ``ModelAdmin`` on this site has :class:`AuditHistoryMixin` (also once the
        object is deleted)."""
        url = history_url(self.admin_site, event.model_label, event.object_pk)
        if url is None:
            return event.object_repr
        return format_html('<a href="{}">{}</a>', url, event.object_repr or event.object_pk)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[AuditEvent], search_term: str
    ) -> tuple[QuerySet[AuditEvent], bool]:
        # Exact matches only: the admin's "=" prefix means iexact, which no
        # plain index serves.
        term = search_term.strip()
        if not term:
            return queryset, False
        # A term names an actor or a request, seldom both. Filtering by the one
        # column that holds it lets that column's index find the page; an OR of
        # two columns leaves the planner the time index, walked back from now.
        logged = AuditEvent.objects.using(queryset.db)
        if not logged.filter(correlation_id=term).exists():
            return queryset.filter(actor_id=term), False
        if not logged.filter(actor_id=term).exists():
            return queryset.filter(correlation_id=term), False
        return queryset.filter(Q(actor_id=term) | Q(correlation_id=term)), False

    #: The URL lookups an index serves: the filters' parameters.
    allowed_lookups = frozenset(
        {"action", "model_label", "actor_id", "occurred_at__gte", "occurred_at__lt"}
    )

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return _IndexedOrderingChangeList

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # Django allows any lookup on a local field by URL (``?changes__x=``,
        # ``?object_repr__regex=``): each would scan the whole log.
        return lookup in self.allowed_lookups

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
