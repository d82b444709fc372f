"""Online payment with Stripe Checkout: the cart, orders, the webhook and the one fulfilment function."""

from flask import Flask

from shop.mail import worker


def init_app(app: Flask) -> None:
    """Give the outbox worker the job that ends checkouts whose time ran out (their held units go back); give the
    quote e-mails and pages their payment link."""
    from shop.payments import quotes, services

    worker.register_job(services.release_stale_checkouts)
    app.jinja_env.globals["quote_payment_url"] = quotes.payment_url
