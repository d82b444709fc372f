"""Python integers used as bitsets: made from positions, read back as positions, and from a byte per bit.

``int`` is the fastest set of small numbers Python has for AND, OR and
counting (``int.bit_count()``): the facet index (``shop.catalog.facet_index``)
keeps one per facet value.
"""

from collections.abc import Iterable

_DIGITS = bytes.maketrans(b"\x00\x01", b"01")


def bitset(size: int, positions: Iterable[int]) -> int:
    """An integer with the bits at ``positions`` set (each below ``size``)."""
    buffer = bytearray((size + 7) // 8)
    for i in positions:
        buffer[i >> 3] |= 1 << (i & 7)
    return int.from_bytes(buffer, "little")


def from_marks(marks: bytes | bytearray) -> int:
    """The bitset whose bit i is set when ``marks[i]`` is 1 (each byte 0 or 1).

    Read as text, last byte first, the marks are the number's binary digits:
    one C-level translate instead of a Python step per bit.
    """
    if not marks:
        return 0
    return int(marks.translate(_DIGITS)[::-1], 2)


def positions(bits: int) -> list[int]:
    """The positions of the set bits (highest first), found by ``str.find`` on the binary digits."""
    digits = bin(bits)
    last = len(digits) - 1  # the digit of bit 0
    found = []
    i = digits.find("1", 2)
    while i != -1:
        found.append(last - i)
        i = digits.find("1", i + 1)
    return found


def bits_at(positions_: Iterable[int]) -> int:
    """A bitset of a few positions, by shifts: cheaper than :func:`bitset` when they are a handful."""
    bits = 0
    for i in positions_:
        bits |= 1 << i
    return bits
