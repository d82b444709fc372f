"""Signals the blog sends, so other features can react without the blog knowing them.

``post_published`` is sent once per post, when it becomes public (right away
on publish, or when a scheduled time has come and ``publish_due_posts`` runs).
Receivers run inside the publishing transaction: what they add is committed
with the post, or not at all.
"""

from blinker import Namespace

_signals = Namespace()

post_published = _signals.signal("post-published")
