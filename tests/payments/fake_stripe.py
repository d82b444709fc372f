"""A small local stand-in for the Stripe API calls the shop makes, for the real ``stripe`` library to talk to.

It answers, as Stripe does (form-encoded requests, JSON objects, Idempotency-Key
replays, 4xx error bodies):

- ``POST /v1/checkout/sessions``, ``GET /v1/checkout/sessions/{id}`` (``expand[]=line_items``),
  ``POST /v1/checkout/sessions/{id}/expire``, ``POST /v1/refunds``;
- ``GET /checkout/{id}``: a tiny payment page, whose "Pay" button marks the session paid and
  redirects to its ``success_url`` (and whose "Cancel" link goes to its ``cancel_url``).

Tests move sessions on themselves (:meth:`FakeStripe.pay`, :meth:`expire`, ...) and sign webhook
events with :func:`signed_event` as Stripe signs them (HMAC-SHA256 over ``"{t}.{body}"``).
"""

import hashlib
import hmac
import html
import itertools
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

WEBHOOK_SECRET = "whsec_test_cellshop_fake_secret"
_ids = itertools.count(1)


def _new_id(prefix: str) -> str:
    return f"{prefix}_test_{next(_ids):06d}{int(time.time() * 1000) % 100000:05d}"


def _nested(pairs: list[tuple[str, str]]) -> dict:
    """Stripe's form encoding (``a[b][0][c]=v``) back into dicts and lists."""
    root: dict = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part, following in zip(parts, parts[1:] + [None], strict=True):
            if following is None:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _lists(root)


def _lists(node):
    if isinstance(node, dict):
        if node and all(k.isdigit() for k in node):
            return [_lists(node[k]) for k in sorted(node, key=int)]
        return {k: _lists(v) for k, v in node.items()}
    return node


class FakeStripe:
    """The server's state: sessions, refunds, requests seen; and the test's controls."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def reset(self) -> None:
        """Forget every session, refund and request (between tests)."""
        with getattr(self, "lock", threading.Lock()):
            self.sessions: dict[str, dict] = {}
            self.refunds: list[dict] = []
            self.requests: list[tuple[str, str, str | None]] = []  # method, path, Idempotency-Key
            self.idempotent: dict[str, tuple[int, dict]] = {}
            self.amount_override: dict[str, int] = {}
            self.retrieve_delay = 0.0  # seconds a session retrieve takes, to widen a race

    def start(self) -> "FakeStripe":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # What the shop's calls do

    def create_session(self, params: dict) -> dict:
        session_id = _new_id("cs")
        items = [
            {
                "id": _new_id("li"),
                "object": "item",
                "description": item["price_data"]["product_data"]["name"],
                "quantity": int(item["quantity"]),
                "currency": item["price_data"]["currency"],
                "amount_total": int(item["quantity"]) * int(item["price_data"]["unit_amount"]),
            }
            for item in params.get("line_items", [])
        ]
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": params.get("mode"),
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": sum(i["amount_total"] for i in items),
            "currency": items[0]["currency"] if items else "usd",
            "client_reference_id": params.get("client_reference_id"),
            "customer_email": params.get("customer_email"),
            "metadata": params.get("metadata", {}),
            "success_url": params.get("success_url"),
            "cancel_url": params.get("cancel_url"),
            "expires_at": int(params.get("expires_at") or time.time() + 86400),
            "payment_intent": None,
            "url": f"{self.base}/checkout/{session_id}",
            "_line_items": items,
        }
        self.sessions[session_id] = session
        return self.public(session)

    def public(self, session: dict, expand: bool = False) -> dict:
        data = {k: v for k, v in session.items() if not k.startswith("_")}
        if session["id"] in self.amount_override:
            data["amount_total"] = self.amount_override[session["id"]]
        if expand:
            data["line_items"] = {"object": "list", "data": session["_line_items"], "has_more": False}
        return data

    # The test's controls

    def pay(self, session_id: str, payment_status: str = "paid") -> dict:
        """The buyer pays (or, with ``"unpaid"``, starts a delayed bank payment)."""
        with self.lock:
            session = self.sessions[session_id]
            session["status"] = "complete"
            session["payment_status"] = payment_status
            session["payment_intent"] = session["payment_intent"] or _new_id("pi")
            return self.public(session)

    def expire(self, session_id: str) -> dict:
        """The session's time runs out unpaid."""
        with self.lock:
            session = self.sessions[session_id]
            session["status"] = "expired"
            return self.public(session)

    def only_session(self) -> dict:
        """The one session the test opened."""
        assert len(self.sessions) == 1, self.sessions.keys()
        return self.public(next(iter(self.sessions.values())))

    def calls(self, path_start: str) -> list[tuple[str, str, str | None]]:
        """Requests whose path starts with ``path_start``."""
        return [r for r in self.requests if r[1].startswith(path_start)]


def _error(status: int, message: str, kind: str = "invalid_request_error") -> tuple[int, dict]:
    return status, {"error": {"type": kind, "message": message}}


def _handler_for(fake: FakeStripe):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def _send(self, status: int, body, content_type: str = "application/json", headers=()) -> None:
            raw = (json.dumps(body) if content_type == "application/json" else body).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(raw)))
            self.send_header("Request-Id", _new_id("req"))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)

        def _form(self) -> dict:
            length = int(self.headers.get("Content-Length") or 0)
            return _nested(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))

        def do_GET(self):
            parts = urlsplit(self.path)
            fake.requests.append(("GET", parts.path, None))
            query = _nested(parse_qsl(parts.query))
            match = re.fullmatch(r"/v1/checkout/sessions/([\w]+)", parts.path)
            if match:
                time.sleep(fake.retrieve_delay)
                session = fake.sessions.get(match[1])
                if session is None:
                    return self._send(*_error(404, f"No such checkout.session: '{match[1]}'"))
                return self._send(200, fake.public(session, expand="line_items" in (query.get("expand") or [])))
            match = re.fullmatch(r"/checkout/([\w]+)", parts.path)
            if match and match[1] in fake.sessions:
                return self._send(200, _payment_page(fake.sessions[match[1]]), "text/html; charset=utf-8")
            return self._send(*_error(404, "Unrecognized request URL"))

        def do_POST(self):
            parts = urlsplit(self.path)
            key = self.headers.get("Idempotency-Key")
            fake.requests.append(("POST", parts.path, key))
            params = self._form()
            match = re.fullmatch(r"/checkout/([\w]+)/pay", parts.path)
            if match and match[1] in fake.sessions:
                session = fake.pay(match[1])
                target = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])
                return self._send(303, "", "text/plain", headers=[("Location", target)])
            with fake.lock:
                if key and (parts.path, key) in fake.idempotent:
                    return self._send(*fake.idempotent[(parts.path, key)])
                status, body = self._answer(parts.path, params)
                if key and status < 500:
                    fake.idempotent[(parts.path, key)] = (status, body)
            return self._send(status, body)

        def _answer(self, path: str, params: dict) -> tuple[int, dict]:
            if path == "/v1/checkout/sessions":
                return 200, fake.create_session(params)
            match = re.fullmatch(r"/v1/checkout/sessions/([\w]+)/expire", path)
            if match:
                session = fake.sessions.get(match[1])
                if session is None:
                    return _error(404, f"No such checkout.session: '{match[1]}'")
                if session["status"] != "open":
                    return _error(
                        400, f"Only Checkout Sessions with a status of open can be expired ({session['status']})."
                    )
                session["status"] = "expired"
                return 200, fake.public(session)
            if path == "/v1/refunds":
                refund = {
                    "id": _new_id("re"),
                    "object": "refund",
                    "amount": int(params["amount"]),
                    "payment_intent": params["payment_intent"],
                    "status": "succeeded",
                }
                fake.refunds.append(refund)
                return 200, refund
            return _error(404, "Unrecognized request URL")

    return Handler


def _payment_page(session: dict) -> str:
    """Stripe's hosted page, reduced to a total, a Pay button and a Cancel link."""
    total = f"{session['amount_total'] / 100:,.2f} {session['currency'].upper()}"
    return (
        "<!doctype html><html lang='en'><head><title>Fake Stripe Checkout</title></head><body>"
        f"<h1>Pay {html.escape(total)}</h1>"
        f"<form method='post' action='/checkout/{session['id']}/pay'><button type='submit'>Pay</button></form>"
        f"<a href='{html.escape(session['cancel_url'])}'>Cancel</a></body></html>"
    )


def signed_event(event_type: str, obj: dict, *, secret: str = WEBHOOK_SECRET, event_id: str | None = None,
                 timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:  # fmt: skip
    """A webhook delivery as Stripe sends it: the JSON body and its Stripe-Signature header."""
    body = json.dumps(
        {
            "id": event_id or _new_id("evt"),
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "livemode": False,
            "data": {"object": obj},
        }
    ).encode()
    t = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return body, {"Stripe-Signature": f"t={t},v1={signature}", "Content-Type": "application/json"}
