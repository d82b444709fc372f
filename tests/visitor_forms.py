"""Requests the forms on cached pages (no CSRF token: shop/same_origin.py) take or refuse, for every feature's tests:
what a browser sends from one of our pages, what it sends from elsewhere, and addresses refused beside the field
(shop/email_address.py), with the words each gets."""

# What a browser sends with a form posted from one of our pages (the test client's host is localhost).
SAME_ORIGIN = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}
CROSS_ORIGIN = [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Origin": "http://localhost.evil.example"},
    {"Origin": "http://localhost:8080"},
    {"Origin": "https://localhost"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Sec-Fetch-Site": "none"},
    {"Sec-Fetch-Site": "same-origin", "Origin": "https://evil.example"},
    {"Sec-Fetch-Site": "cross-site", "Origin": "http://localhost"},
    {},
]

BAD_EMAILS = [
    ("", "Enter your e-mail address"),
    ("   ", "Enter your e-mail address"),
    ("nope", "doesn't look like an e-mail address"),
    ("a@b", "doesn't look like an e-mail address"),
    ("two@lab.example, three@lab.example", "doesn't look like an e-mail address"),
    ("a@lab.example\r\nBcc: victim@elsewhere.example", "doesn't look like an e-mail address"),
    ("a@lab.example\nSubject: forged", "doesn't look like an e-mail address"),
    ("<script>alert(1)</script>@lab.example", "doesn't look like an e-mail address"),
    ("ann@lab.example\u202e", "doesn't look like an e-mail address"),
    ("x" * 10_000 + "@lab.example", "at most 254 characters"),
]
