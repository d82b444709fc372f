"""The machine's ceiling: a minimal Flask app returning a fixed ~2 KB HTML page (``gunicorn bench.ceiling_app:app``)."""

from flask import Flask

ITEMS = "\n".join(
    f'      <li><a href="/products/item-{n}">Product {n}</a> <span class="price">$1,{n:03d}.00</span></li>'
    for n in range(19)
)
PAGE = f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Ceiling</title>
  </head>
  <body>
    <h1>A fixed page</h1>
    <ul>
{ITEMS}
    </ul>
  </body>
</html>
"""

app = Flask(__name__)


@app.get("/")
def page():
    """The fixed page."""
    return PAGE


@app.get("/healthz")
def healthz():
    """Always healthy (the bench waits for this)."""
    return {"status": "ok"}
