"""Fingerprinted static files: ``url_for('static', ...)`` adds ``?v=<content hash>``.

A file's URL changes whenever its content does, so browsers and proxies may
keep static files for a year.
"""

import hashlib
import os

from flask import Flask

ONE_YEAR = 365 * 24 * 3600


def init_app(app: Flask) -> None:
    """Add the fingerprint to static URLs and serve fingerprinted files with a year's Cache-Control."""
    hashes: dict[tuple[str, float], str] = {}

    def fingerprint(filename: str) -> str | None:
        path = os.path.join(app.static_folder, filename)
        try:
            mtime = os.path.getmtime(path)
        except OSError:
            return None
        key = (filename, mtime)
        if key not in hashes:
            with open(path, "rb") as handle:
                hashes[key] = hashlib.blake2b(handle.read(), digest_size=6).hexdigest()
        return hashes[key]

    @app.url_defaults
    def add_fingerprint(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values and "filename" in values:
            version = fingerprint(values["filename"])
            if version:
                values["v"] = version

    original = app.get_send_file_max_age

    def send_file_max_age(filename: str | None) -> int | None:
        from flask import request

        if request and request.endpoint == "static" and request.args.get("v"):
            return ONE_YEAR
        return original(filename)

    app.get_send_file_max_age = send_file_max_age
