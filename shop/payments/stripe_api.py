"""The shop's only door to Stripe: the few API calls it makes and the webhook's signature check.

Every other module speaks in plain values (dicts, ints, strings) and catches
:class:`StripeUnavailable` or :class:`BadSignature`, so the rest of the shop
never imports ``stripe`` and a change of library version stays in this file.

Calls made: ``POST /v1/checkout/sessions`` (with an Idempotency-Key),
``GET /v1/checkout/sessions/{id}?expand[]=line_items``,
``POST /v1/checkout/sessions/{id}/expire`` and ``POST /v1/refunds``.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from flask import current_app


class StripeUnavailable(RuntimeError):
    """Stripe could not be reached, timed out or refused the call: the message is for people."""


class BadSignature(ValueError):
    """A webhook body whose Stripe-Signature is missing, forged, for another secret, or too old."""


@dataclass(frozen=True)
class CheckoutSession:
    """What the shop reads of a Checkout Session."""

    id: str
    url: str | None
    status: str  # open, complete, expired
    payment_status: str  # paid, unpaid, no_payment_required
    amount_total: int | None
    currency: str | None
    client_reference_id: str | None
    order_reference: str | None
    payment_intent: str | None
    expires_at: datetime | None
    line_items: tuple[tuple[str, int, int], ...]  # (description, quantity, amount_total) each


@cache
def _library():
    """The stripe package, imported on first use: it is large (hundreds of modules; 5 s of a 50 s start on this
    loaded machine), and most processes (the outbox worker, a shop without a key) never call Stripe."""
    import stripe  # noqa: PLC0415

    return stripe


def is_configured() -> bool:
    """Whether the shop takes payments (a secret key is set); without it, quotes only."""
    return bool(current_app.config.get("STRIPE_SECRET_KEY"))


def _client():
    stripe = _library()
    config = current_app.config
    return stripe.StripeClient(
        config["STRIPE_SECRET_KEY"],
        base_addresses={"api": config["STRIPE_API_BASE"]},
        http_client=stripe.RequestsClient(timeout=config["STRIPE_TIMEOUT"]),
        max_network_retries=config.get("STRIPE_MAX_NETWORK_RETRIES", 2),
    )


def _calling(what: str):
    """A context that turns the library's errors into StripeUnavailable, naming the call."""
    return _StripeCall(what)


class _StripeCall:
    def __init__(self, what: str):
        self.what = what

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if isinstance(error, _library().StripeError):
            current_app.logger.warning("Stripe %s failed: %s", self.what, error)
            detail = getattr(error, "user_message", None) or error.__class__.__name__
            raise StripeUnavailable(f"The payment service could not {self.what} ({detail}).") from error
        return False


def _session(found) -> CheckoutSession:
    data = found.to_dict()
    metadata = data.get("metadata") or {}
    items = (data.get("line_items") or {}).get("data") or []
    expires = data.get("expires_at")
    intent = data.get("payment_intent")
    return CheckoutSession(
        id=data["id"],
        url=data.get("url"),
        status=data.get("status") or "",
        payment_status=data.get("payment_status") or "",
        amount_total=data.get("amount_total"),
        currency=(data.get("currency") or "").upper() or None,
        client_reference_id=data.get("client_reference_id"),
        order_reference=metadata.get("order_reference"),
        payment_intent=intent if isinstance(intent, str) or intent is None else intent.get("id"),
        expires_at=datetime.fromtimestamp(expires, UTC) if expires else None,
        line_items=tuple(
            (i.get("description") or "", i.get("quantity") or 0, i.get("amount_total") or 0) for i in items
        ),
    )


def create_checkout_session(
    *,
    order_id: int,
    order_reference: str,
    email: str,
    currency: str,
    lines: list[tuple[str, int, int]],
    success_url: str,
    cancel_url: str,
    expires_at: datetime,
) -> CheckoutSession:
    """Open a Checkout Session for an order's lines (name, units, unit price in cents); the same order twice
    (a retried request) gets the same session, by the order's Idempotency-Key."""
    params = {
        "mode": "payment",
        "client_reference_id": str(order_id),
        "metadata": {"order_id": str(order_id), "order_reference": order_reference},
        "payment_intent_data": {"metadata": {"order_id": str(order_id), "order_reference": order_reference}},
        "customer_email": email,
        "success_url": success_url,
        "cancel_url": cancel_url,
        "expires_at": int(expires_at.timestamp()),
        "line_items": [
            {
                "quantity": units,
                "price_data": {"currency": currency.lower(), "unit_amount": price, "product_data": {"name": name}},
            }
            for name, units, price in lines
        ],
    }
    with _calling("open the checkout"):
        created = _client().v1.checkout.sessions.create(
            params=params, options={"idempotency_key": f"checkout-{order_reference}"}
        )
    return _session(created)


def retrieve_checkout_session(session_id: str) -> CheckoutSession:
    """The session as Stripe has it now, with its line items."""
    with _calling("confirm the payment"):
        found = _client().v1.checkout.sessions.retrieve(session_id, params={"expand": ["line_items"]})
    return _session(found)


def expire_checkout_session(session_id: str) -> CheckoutSession:
    """Close an open session so it can no longer be paid."""
    with _calling("close the checkout"):
        return _session(_client().v1.checkout.sessions.expire(session_id))


def refund_payment(payment_intent: str, amount_cents: int, idempotency_key: str) -> dict:
    """Refund ``amount_cents`` of a payment; returns the refund's id, status and amount."""
    with _calling("refund the payment"):
        refund = _client().v1.refunds.create(
            params={"payment_intent": payment_intent, "amount": amount_cents},
            options={"idempotency_key": idempotency_key},
        )
    data = refund.to_dict()
    return {"id": data["id"], "status": data.get("status"), "amount": data.get("amount")}


def verified_event(payload: bytes, signature: str | None) -> dict:
    """The event a webhook body carries, once its Stripe-Signature is checked (BadSignature otherwise: a missing,
    forged or older than five minutes signature, or a body that is not a JSON object)."""
    secret = current_app.config["STRIPE_WEBHOOK_SECRET"]
    stripe = _library()
    try:
        text = payload.decode("utf-8")
        stripe.WebhookSignature.verify_header(text, signature or "", secret, tolerance=300)
        event = json.loads(text)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as error:
        raise BadSignature(str(error)) from error
    if not isinstance(event, dict):
        raise BadSignature("The body is not a Stripe event.")
    return event
