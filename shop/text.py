"""What counts as a control character, in one place: the request guard, forms, feeds and stored text use it.

PostgreSQL refuses NUL in text, XML refuses most C0 characters, mail and HTTP headers refuse CR and LF,
and format characters (right-to-left overrides, zero-width spaces) make an address look like another.
"""

import re
import unicodedata

# C0 controls (but tab, LF and CR, which a textarea holds), DEL, lone surrogates and the two non-characters
# XML refuses: nothing a person types into a text box, and what breaks a feed or a PostgreSQL insert.
CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
# An address, a query parameter or a one-line field holds no control character at all.
CONTROL_IN_LINE = re.compile(r"[\x00-\x1f\x7f]")
# Control, format and surrogate characters: none belongs in an e-mail address or a path.
_INVISIBLE = {"Cc", "Cf", "Cs"}


def strip_control_characters(text: str) -> str:
    """Remove control characters that have no place in text (and break XML)."""
    return CONTROL_IN_TEXT.sub("", text)


def has_invisible_characters(text: str) -> bool:
    """True when ``text`` holds a character no e-mail address or path contains (NUL, CR, tab, RTL marks...)."""
    return any(unicodedata.category(char) in _INVISIBLE for char in text)
