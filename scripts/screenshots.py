"""Take full-page screenshots of pages at phone and desktop widths.

Usage: python scripts/screenshots.py http://127.0.0.1:5000 OUTDIR /path [/path ...]
Writes OUTDIR/<name>-375.png and OUTDIR/<name>-1280.png for each path.
"""

import re
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright


def main(base: str, outdir: str, paths: list[str]) -> None:
    """Screenshot each path at 375 px and 1280 px wide."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        for width in (375, 1280):
            page = browser.new_page(viewport={"width": width, "height": 900})
            for path in paths:
                page.goto(base + path)
                name = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"
                page.screenshot(path=str(out / f"{name[:60]}-{width}.png"), full_page=True)
            page.close()
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
