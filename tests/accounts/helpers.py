"""Helpers for the staff-account tests: signing in, reading responses, sending forms at once."""

import html
import re
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode


def login(client, email: str, password: str, next_url: str | None = None, **kwargs):
    """POST the sign-in form."""
    data = {"email": email, "password": password}
    if next_url is not None:
        data["next"] = next_url
    return client.post("/login", data=data, **kwargs)


def signed_in_user_id(client) -> str | None:
    """The user id Flask-Login keeps in the client's session cookie ("<id>:<session version>"), if any."""
    with client.session_transaction() as session:
        user_id = session.get("_user_id")
    return user_id.split(":")[0] if user_id else None


def text_of(response) -> str:
    """The response body with HTML entities decoded (``don&#39;t`` -> ``don't``)."""
    return html.unescape(response.text)


def session_cookie(response) -> str:
    """The Set-Cookie header that sets the session cookie."""
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert len(cookies) == 1, response.headers.getlist("Set-Cookie")
    return cookies[0]


def post_all_at_once(url: str, forms: list[dict]) -> list[int]:
    """POST each form from a thread of its own, all released together; their status codes."""
    start = threading.Barrier(len(forms))

    def post(form: dict) -> int:
        request = urllib.request.Request(url, data=urlencode(form).encode(), method="POST")
        start.wait()
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status
        except urllib.error.HTTPError as error:
            error.close()
            return error.code

    with ThreadPoolExecutor(max_workers=len(forms)) as pool:
        return list(pool.map(post, forms))


def csrf_token_of(html: str) -> str:
    """The CSRF token a page's form carries."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)
