"""Addresses the forms open to anyone (shop/email_address.py) refuse, with the words each gets beside the field."""

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
