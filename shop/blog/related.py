"""Related posts: the visible posts of each topic, kept in memory in each process until the blog's clock moves.

Ranking them in SQL counted shared topics over every post of the page's topics (about 1,100 rows for a
post on the benchmark's 2,000): 6.5 ms of a post page's 9 ms when the page cache misses. The map of
visible posts by topic is read in one query per reading of the blog's clock, and a page ranks in memory.
Readings are compared by recency (a request holding an older reading keeps the newer map).
"""

import heapq
import weakref
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from flask import Flask, current_app
from sqlalchemy import select

from shop.blog.models import Post, post_topic
from shop.content_clock import Clock, reading
from shop.extensions import db
from shop.models import utcnow


@dataclass(frozen=True)
class TopicMap:
    """Each topic's visible posts, and each visible post's place among equals (newest first)."""

    clock: Clock  # the blog's clock, read before the rows
    posts_of: dict[int, tuple[int, ...]]  # topic id -> visible post ids
    order_of: dict[int, tuple[datetime, int]]  # post id -> (published_at, id)

    def related(self, post_id: int, topic_ids: list[int], limit: int) -> list[int]:
        """Ids of other visible posts sharing the most topics with the post, newest first among equals."""
        shared = Counter(other for topic in topic_ids for other in self.posts_of.get(topic, ()))
        shared.pop(post_id, None)
        return heapq.nlargest(limit, shared, key=lambda other: (shared[other], self.order_of[other]))


_maps: "weakref.WeakKeyDictionary[Flask, TopicMap]" = weakref.WeakKeyDictionary()


def topic_map() -> TopicMap:
    """This process's map for the current app, read again once the blog's clock is newer than its own."""
    clock = reading("blog")
    app = current_app._get_current_object()
    held = _maps.get(app)
    if held is None or clock.newer_than(held.clock):
        held = _maps[app] = _read(clock)
    return held


def _read(clock: Clock) -> TopicMap:
    rows = db.session.execute(
        select(post_topic.c.topic_id, Post.id, Post.published_at)
        .join(Post, Post.id == post_topic.c.post_id)
        .where(Post.visible(utcnow()))
    ).all()
    posts_of: dict[int, list[int]] = {}
    for row in rows:
        posts_of.setdefault(row.topic_id, []).append(row.id)
    order = {row.id: (row.published_at, row.id) for row in rows}
    return TopicMap(clock, {topic: tuple(ids) for topic, ids in posts_of.items()}, order)


def forget_topic_maps() -> None:
    """Drop every app's map (for tests, whose rolled-back database sets the blog's clock back)."""
    _maps.clear()
