"""``python -m bench.writer``: staff at work while the benchmark loads the shop, through its back office over HTTP.

A salesperson changes a lot's units every ``--lot-every`` seconds (default 1)
as sales would: one unit fewer, and now and then a lot sold out (0 units)
that is restocked at its next change; an editor saves a post every
``--post-every`` seconds (default 30), its summary changed each time. Each
change is what a browser sends: the edit form is fetched, read as a browser
would submit it (its CSRF token and row version included), changed and posted.
A staff account (``bench-writer@staff.test``) is made in the database for the
run with a new password.

``--preview N`` instead sends N distinct bodies to the post editor's live
preview (``/admin/posts/render``) and exits: the benchmark measures the
workers' memory afterwards.

The writer runs until ``--duration`` seconds have passed or it is stopped
(SIGTERM), then prints one JSON line: changes made, failures, the times.
"""

import argparse
import http.cookiejar
import json
import random
import re
import secrets
import signal
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from bench.appctx import make_app

STAFF_EMAIL = "bench-writer@staff.test"
LOTS = 200  # the lots the salesperson sells from, drawn from the lots in stock
SOLD_OUT_EVERY = 5  # one change in this many sells a lot out


class Staff:
    """A browser signed in to the back office: cookies kept, forms read and posted as they are."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.read().decode()

    def post(self, path: str, fields: dict) -> int:
        """Post the fields; the status of the answer (a redirect is not followed: 303/302 means saved)."""
        data = urllib.parse.urlencode(fields, doseq=True).encode()
        request = urllib.request.Request(self.base + path, data=data, headers={"Origin": self.base})
        try:
            with _no_redirects(self.opener).open(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def sign_in(self, email: str, password: str) -> None:
        page = self.get("/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        status = self.post("/login", {"email": email, "password": password, "csrf_token": token})
        if status not in (302, 303):
            raise SystemExit(f"bench.writer: signing in failed ({status})")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _no_redirects(opener):
    handlers = [h for h in opener.handlers if not isinstance(h, urllib.request.HTTPRedirectHandler)]
    return urllib.request.build_opener(*handlers, _NoRedirect())


def staff_account(database_url: str) -> tuple[str, list[int], int]:
    """An administrator made for the run (its password), lots in stock to sell from, and a post to edit."""
    from sqlalchemy import func, select

    from shop.accounts.models import User
    from shop.blog.models import Post
    from shop.catalog.models import Lot
    from shop.extensions import db

    app = make_app(database_url)
    password = secrets.token_urlsafe(16)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == STAFF_EMAIL))
        if user is None:
            user = User(email=STAFF_EMAIL, name="Bench writer", role="admin", active=True)
            db.session.add(user)
        user.set_password(password)
        db.session.commit()
        stocked = select(Lot.id).where(Lot.status == "available", Lot.units_available > 2)
        lots = db.session.scalars(stocked.order_by(func.random()).limit(LOTS)).all()
        post = db.session.scalar(select(Post.id).where(Post.status == "published").order_by(Post.id).limit(1))
        db.session.remove()
    return password, list(lots), post


def form_of(page: str) -> dict:
    """The page's edit form as a browser would submit it."""
    from tests.admin.forms import form_fields

    return form_fields(page)


def change_units(staff: Staff, lot_id: int, rng: random.Random) -> int:
    """A sale: one unit fewer (or the lot sold out; a sold-out lot is restocked). The answer's status."""
    path = f"/admin/lot/edit/?id={lot_id}"
    fields = form_of(staff.get(path))
    units = int(fields.get("units_available") or 0)
    if units == 0:
        units = rng.randint(3, 9)
    elif rng.randrange(SOLD_OUT_EVERY) == 0:
        units = 0
    else:
        units -= 1
    fields["units_available"] = str(units)
    return staff.post(path, fields)


def save_post(staff: Staff, post_id: int, count: int) -> int:
    """An editor saves a published post with a changed summary."""
    path = f"/admin/posts/{post_id}/edit"
    fields = form_of(staff.get(path))
    fields["summary"] = f"Updated notes on our lots, revision {count} of the benchmark's editor."
    fields["action"] = "save"
    return staff.post(path, fields)


def preview(staff: Staff, post_id: int, count: int) -> int:
    """``count`` distinct bodies rendered by the live preview; how many answered 200."""
    page = staff.get(f"/admin/posts/{post_id}/edit")
    token = form_of(page).get("csrf_token", "")
    words = ("CD8+ T cells", "**viability**", "`HLA-A*02:01`", "| lot | units |\n| --- | --- |\n| 1 | 2 |")
    ok = 0
    for n in range(count):
        body = f"# Draft {n}\n\n" + "\n\n".join(f"Paragraph {n}.{i}: {words[(n + i) % 4]}" for i in range(40))
        ok += staff.post("/admin/posts/render", {"body": body, "csrf_token": token}) == 200
    return ok


def main(argv: list[str] | None = None) -> None:
    """Sign in and keep changing stock and posts until the time is up or SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m bench.writer", description=__doc__)
    parser.add_argument("--base", required=True, help="the server, e.g. http://127.0.0.1:8000")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--duration", type=float, default=3600)
    parser.add_argument("--lot-every", type=float, default=1.0)
    parser.add_argument("--post-every", type=float, default=30.0)
    parser.add_argument("--preview", type=int, default=0, help="render N distinct bodies in the live preview, exit")
    args = parser.parse_args(argv)
    password, lots, post_id = staff_account(args.database_url)
    staff = Staff(args.base)
    staff.sign_in(STAFF_EMAIL, password)
    if args.preview:
        print(json.dumps({"previews": args.preview, "ok": preview(staff, post_id, args.preview)}), flush=True)
        return
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    rng = random.Random(5)
    tally = {"lot_changes": 0, "post_saves": 0, "failed": {}, "lot_ms": [], "post_ms": []}
    started = time.monotonic()
    next_lot, next_post = started, started + args.post_every
    while not stopping and time.monotonic() - started < args.duration:
        now = time.monotonic()
        if now >= next_post:
            kind, status = "post", _timed(tally, "post_ms", save_post, staff, post_id, tally["post_saves"])
            next_post += args.post_every
        elif now >= next_lot:
            kind, status = "lot", _timed(tally, "lot_ms", change_units, staff, rng.choice(lots), rng)
            next_lot += args.lot_every
        else:
            time.sleep(min(next_lot, next_post) - now)
            continue
        if status in (302, 303):
            tally["lot_changes" if kind == "lot" else "post_saves"] += 1
        else:
            tally["failed"][f"{kind} {status}"] = tally["failed"].get(f"{kind} {status}", 0) + 1
    for key in ("lot_ms", "post_ms"):
        times = sorted(tally[key])
        tally[key] = {"median": times[len(times) // 2] if times else None, "max": times[-1] if times else None}
    tally["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(tally), flush=True)


def _timed(tally: dict, key: str, change, *args) -> int:
    began = time.perf_counter()
    try:
        status = change(*args)
    except (OSError, urllib.error.URLError) as error:
        print(f"bench.writer: {error}", file=sys.stderr)
        status = 0
    tally[key].append(round((time.perf_counter() - began) * 1000, 1))
    return status


if __name__ == "__main__":
    main()
