"""When each area of the public site last changed: one clock per area, so a save makes stale only what shows it.

The *areas* are the catalog, the blog and the pages (About, Terms ...). Each feature tells this module which
of its models belong to which area (:func:`track`) and any rule that moves an
area's clock without a save (:func:`add_rule`: the blog's scheduled posts
going live when their time comes), so this module imports no feature. A
commit that changed a tracked row moves its area's clock in the same
transaction, just before it commits; bulk writes that skip the ORM call
:func:`mark_content_changed`.

A clock counts changes per *kind*. Every change is of kind ``"content"``
unless its feature names a smaller kind for saves that touch only some columns
(:func:`track_kind`): the catalog calls units, a lot's status and a product
being hidden ``"stock"``, so its index can tell a stock change from a larger
one. Pages depend on every kind of the areas they show.

A reading (:class:`Clock`) is compared by recency (:meth:`Clock.newer_than`),
never by equality: a process may hold a reading older than one it already
built on, and that is no change. Clocks count saves rather than keep the time
of the last one, so two hosts whose clocks disagree still move them forward.

Each process keeps its reading of every clock (one query) for
``CONTENT_STAMP_TTL`` seconds, so a cached page sends no SQL; a commit in this
process that moves a clock forgets it, so staff see their own change at once,
and other processes see it within the TTL.
"""

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, g, has_app_context, has_request_context
from sqlalchemy import Integer, String, event, insert, inspect, literal, null, select, type_coerce, union_all, update
from sqlalchemy.orm import Mapped, mapped_column

from shop.extensions import db
from shop.models import UTCDateTime, utcnow

AREAS = ("catalog", "blog", "pages")
CONTENT = "content"  # the kind of every change no feature calls smaller
_READINGS = "cellshop.content_clocks"  # where an app keeps its reading and when it expires

_area_of: dict[type, str] = {}
_item_kinds: set[tuple[str, str]] = set()  # (area, kind) no page keys on: see follow_per_item
_settling: dict[tuple[str, str], str] = {}  # (area, kind) -> the setting of its seconds: see settle
_SETTLED = "cellshop.settled_marks"  # where an app keeps each settling kind's mark, and when it took it
_smaller_kind: dict[type, tuple[str, frozenset[str]]] = {}
# (area, rule) -> None: a dict, so an app built twice (as tests do) registers each rule once, in order.
_rules: dict[tuple[str, Callable], None] = {}


class ContentClock(db.Model):
    """How many changes of one kind an area of the public content has had, and when the last one was."""

    __tablename__ = "content_clock"

    area: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    changes: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@dataclass(frozen=True)
class Clock:
    """One area's reading: per kind of change, (changes counted, when a rule last moved it in epoch seconds)."""

    area: str
    kinds: dict[str, tuple[int, float]]

    def newer_than(self, other: "Clock", kinds: Iterable[str] | None = None) -> bool:
        """Whether a change (of ``kinds``; any kind by default) happened after ``other`` was read."""
        names = self.kinds.keys() if kinds is None else kinds
        return any(self.kinds.get(kind, (0, 0.0)) > other.kinds.get(kind, (0, 0.0)) for kind in names)

    def only(self, kinds: Iterable[str]) -> "Clock":
        """The reading of these kinds of change alone."""
        wanted = set(kinds)
        return Clock(self.area, {kind: mark for kind, mark in self.kinds.items() if kind in wanted})

    @property
    def key(self) -> str:
        """The reading as text, for cache keys."""
        marks = ",".join(f"{kind}={changes}+{moment:.6f}" for kind, (changes, moment) in sorted(self.kinds.items()))
        return f"{self.area}:{marks}"


def checked_area(area: str) -> str:
    """The area's name, or a ValueError naming the areas there are."""
    if area not in AREAS:
        raise ValueError(f"unknown content area {area!r}; the areas are {', '.join(AREAS)}")
    return area


def checked_page_area(spec: str) -> str:
    """What a page shows of an area: ``"catalog"`` (every kind of change pages key on) or ``"catalog:content"``
    (that kind alone: for a page that follows the area's other kinds item by item)."""
    checked_area(spec.partition(":")[0])
    return spec


def page_clock(clock: Clock, spec: str) -> Clock:
    """The part of an area's reading a page keys on (``spec`` as :func:`checked_page_area` takes it)."""
    _, _, kind = spec.partition(":")
    if kind:
        return clock.only((kind,))
    return clock.only(k for k in clock.kinds if (clock.area, k) not in _item_kinds)


def page_reading(spec: str) -> Clock:
    """The reading a page keys on for this request (see :func:`page_clock` and :func:`settle`)."""
    return _settled(page_clock(reading(spec.partition(":")[0]), spec))


def _settled(clock: Clock) -> Clock:
    """The reading with each settling kind's mark as this process last took it, unless that is older than
    its setting's seconds (then the newer mark is taken, and pages drawn anew)."""
    kinds = dict(clock.kinds)
    marks = current_app.extensions.setdefault(_SETTLED, {})
    for (area, kind), setting in _settling.items():
        seconds = current_app.config[setting]
        if area != clock.area or kind not in kinds or seconds <= 0:
            continue
        now, held = time.monotonic(), marks.get((area, kind))
        if held is None or (kinds[kind] > held[0] and now - held[1] >= seconds):
            marks[area, kind] = (kinds[kind], now)
        else:  # never a mark newer than the reading: what is drawn under it shows at least that much
            kinds[kind] = min(kinds[kind], held[0])
    return Clock(clock.area, kinds)


# Registering (each feature, from the app factory's register step)


def track(area: str, *models: type) -> None:
    """Saving rows of these models moves the area's clock (and makes the pages showing it stale)."""
    for model in models:
        _area_of[model] = checked_area(area)


def track_kind(area: str, kind: str, model: type, columns: Iterable[str]) -> None:
    """An update of ``model`` that changes only ``columns`` counts as a change of ``kind``, not of all content."""
    track(area, model)
    _smaller_kind[model] = (kind, frozenset(columns))


def follow_per_item(area: str, kind: str) -> None:
    """No page keys on this kind of change: the pages that show it check their own items instead
    (``shop.page_cache.page_shows_item``: a product page, its product's units), so such a change makes
    only those pages stale."""
    _item_kinds.add((checked_area(area), kind))


def settle(area: str, kind: str, setting: str) -> None:
    """Pages key on this kind's changes at most once per ``config[setting]`` seconds in each process.

    While such changes come often (stock sold every second), the pages keyed on the kind stay cached and
    show them within that time, drawn from what is current then; the first change after a quiet spell
    shows within CONTENT_STAMP_TTL, as any other. For a kind whose pages may lag a little (lists saying
    "in stock") and that some other page shows exactly (the product's own page, per item).
    """
    _settling[checked_area(area), kind] = setting


def add_rule(area: str, rule: Callable) -> None:
    """``rule(now)`` is a query for the latest moment the area changed without a save (NULL: none); it moves
    the area's content clock as a save would."""
    _rules[checked_area(area), rule] = None


# Moving the clocks


@event.listens_for(db.session, "before_flush")
def _note_changes(session, flush_context, instances) -> None:
    """Note which clocks this flush moves, while each row's changes are still known."""
    noted = _noted(session)
    for obj in (*session.new, *session.deleted):
        if type(obj) in _area_of:
            noted.add((_area_of[type(obj)], CONTENT))
    for obj in session.dirty:
        area = _area_of.get(type(obj))
        # Once an area's content moved, its other rows need no look (an import may update thousands).
        if area is not None and (area, CONTENT) not in noted and (kind := _kind_of_update(obj)):
            noted.add((area, kind))


def _noted(session) -> set[tuple[str, str]]:
    """The (area, kind) clocks the session's transaction moves when it commits."""
    return session.info.setdefault("clocks_to_move", set())


def _kind_of_update(obj) -> str | None:
    """The kind of change an update makes; None when nothing really changed (``dirty`` is optimistic)."""
    changed = {attr.key for attr in inspect(obj).attrs if attr.history.has_changes()}
    if not changed:
        return None
    kind, columns = _smaller_kind.get(type(obj), (CONTENT, frozenset()))
    return kind if changed <= columns else CONTENT


def mark_content_changed(area: str, kind: str = CONTENT) -> None:
    """Move an area's clock on when the current transaction commits (for bulk writes that skip the ORM)."""
    _noted(db.session).add((checked_area(area), kind))


@event.listens_for(db.session, "before_commit")
def _move_noted_clocks(session) -> None:
    """Move the noted clocks last thing before the commit, so their rows stay locked for an instant, not for
    a whole import; in one order, so two transactions moving the same clocks never wait on each other."""
    session.flush()  # the commit's own flush comes after this hook; its changes count too
    for area, kind in sorted(session.info.pop("clocks_to_move", ())):
        _move(session, area, kind)


@event.listens_for(db.session, "after_transaction_end")
def _drop_noted_clocks(session, transaction) -> None:
    """A transaction rolled back or closed moves nothing."""
    if transaction.parent is None:
        session.info.pop("clocks_to_move", None)


@event.listens_for(db.session, "after_commit")
def _forget_moved_clocks(session) -> None:
    """A commit that moved a clock: this process reads the clocks again on its next request."""
    if session.info.pop("clock_moved", False) and has_app_context():
        forget_readings()


def _move(session, area: str, kind: str) -> None:
    session.info["clock_moved"] = True
    connection = session.connection()
    now = utcnow()
    moved = (
        update(ContentClock)
        .where(ContentClock.area == area, ContentClock.kind == kind)
        .values(changes=ContentClock.changes + 1, changed_at=now)
    )
    if connection.execute(moved).rowcount == 0:  # the rows only go missing when a test empties tables
        connection.execute(insert(ContentClock).values(area=area, kind=kind, changes=1, changed_at=now))


# Reading the clocks


def reading(area: str) -> Clock:
    """The area's clock as this request sees it: read once per request, and at most once per TTL per process."""
    if has_request_context() and _READINGS not in g:
        setattr(g, _READINGS, _process_readings())
    held = g.get(_READINGS) if has_app_context() else None  # outside a request: none, unless hold_readings
    return (held or _read_clocks())[checked_area(area)]


def hold_readings(readings: dict[str, Clock]) -> None:
    """Use these readings for the rest of the current app context (the page cache's shortcut, which has no
    request context, holds the process's readings so that what it asks reads no clock again)."""
    setattr(g, _READINGS, readings)


def read_now(area: str) -> Clock:
    """The area's clock as the database has it this instant (past the TTL and the request's reading)."""
    return _read_clocks()[checked_area(area)]


def forget_readings() -> None:
    """This process, and this request, read the clocks again (after its own commit moved one)."""
    current_app.extensions.pop(_READINGS, None)
    g.pop(_READINGS, None)


def kept_readings() -> dict[str, Clock] | None:
    """The clocks this process read less than CONTENT_STAMP_TTL seconds ago, or None (for a path that sends
    no query: the page cache's shortcut)."""
    kept = current_app.extensions.get(_READINGS)
    return kept[0] if kept is not None and time.monotonic() < kept[1] else None


def _process_readings() -> dict[str, Clock]:
    """The clocks this process read less than CONTENT_STAMP_TTL seconds ago, or a fresh reading."""
    ttl = current_app.config["CONTENT_STAMP_TTL"]
    kept = current_app.extensions.get(_READINGS)
    now = time.monotonic()
    if kept is not None and now < kept[1]:
        return kept[0]
    clocks = _read_clocks()
    if ttl > 0:
        current_app.extensions[_READINGS] = (clocks, now + ttl)
    return clocks


def _read_clocks() -> dict[str, Clock]:
    """Every area's clock, with its rules, in one statement."""
    now = utcnow()
    parts = [
        select(
            ContentClock.area, ContentClock.kind, ContentClock.changes, type_coerce(null(), UTCDateTime).label("moment")
        )
    ]
    for area, rule in _rules:
        moment = rule(now).scalar_subquery()
        parts.append(select(literal(area, String), literal(CONTENT, String), literal(0, Integer), moment))
    rows = union_all(*parts) if len(parts) > 1 else parts[0]
    kinds: dict[str, dict[str, tuple[int, float]]] = {area: {} for area in AREAS}
    for area, kind, changes, moment in db.session.execute(rows):
        if area in kinds:
            counted, latest = kinds[area].get(kind, (0, 0.0))
            kinds[area][kind] = (counted + changes, max(latest, moment.timestamp() if moment else 0.0))
    return {area: Clock(area, marks) for area, marks in kinds.items()}
