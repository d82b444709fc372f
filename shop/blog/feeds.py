"""The Atom feeds: rendered from the template, then cleaned of what XML cannot hold."""

from flask import render_template

from shop.blog.models import Post, Topic
from shop.text import strip_control_characters


def atom_feed(posts: list[Post], topic: Topic | None) -> str:
    """The Atom document for these posts (of one topic, or of the whole blog).

    Every text in it (titles, summaries, authors, topic names and descriptions,
    content) is staff-written, and one control character anywhere makes the whole
    feed invalid XML for every reader. Saving strips them, but rows written before
    that, or by a path that forgot, must not break the feed: so the finished
    document is cleaned here, once, which covers every field at once. Removing
    characters XML forbids cannot create markup, and the visible text stays.
    """
    return strip_control_characters(render_template("blog/feed.xml", posts=posts, topic=topic))
