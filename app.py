"""Entry point: ``flask run`` and ``gunicorn app:app`` both use this."""

from shop import create_app

app = create_app()
