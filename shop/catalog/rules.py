"""Every value rule of the catalog, in one place: what a price, a catalog number, an HLA allele, a slug,
a percentage, a count or a date may be, and how each is written.

The back-office forms (through ``shop/admin/fields.py``), the CSV import, the seed loader and the
search all ask these functions, so a value one of them takes the others take too, and they say the
same thing about a value they refuse (``tests/catalog/test_rules.py`` runs one table of values through
each). A rule takes the text a person typed or a file holds, returns the value to store, and raises
:class:`RuleError`, whose message is written for that person, when the text breaks the rule.
"""

import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import String

from shop.catalog.models import (
    CONTAINERS,
    FORMATS,
    GRADES,
    LOT_STATUSES,
    SEROSTATUS,
    SEXES,
    SHIPPING_CONDITIONS,
    SMOKING,
    Product,
)
from shop.urls import SLUG_MESSAGE, is_slug

# PostgreSQL's INTEGER and BIGINT: a bigger value would fail the whole transaction when it is written.
MAX_INTEGER = 2**31 - 1
MAX_BIGINT = 2**63 - 1


class RuleError(ValueError):
    """A value that breaks a catalog rule; the message tells the person who wrote it what to write instead."""


Rule = Callable[[str], object]

# Prices ------------------------------------------------------------------------------------------

# Ten million in the currency for one unit: anything above is a typing mistake (and it fits INTEGER cents).
MAX_PRICE_CENTS = 10_000_000_00
# 1900, 1900.5, 1900.00 or 1,900.00 (thousands separated by commas, in groups of three).
_PRICE = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?")


def price_cents(text: str) -> int | None:
    """A price written in currency units ("1900", "1,900.00") as whole cents; empty is None (quote only)."""
    text = text.strip()
    if not text:
        return None
    if text.startswith("-"):
        raise RuleError("The price can't be negative. Leave it empty for quote only.")
    match = _PRICE.fullmatch(text)
    if not match:
        raise RuleError(f"“{_shown(text)}” is not a price: write it like 1900.00, or leave it empty for quote only.")
    if len((match[1] or "").rstrip("0")) > 2:
        raise RuleError("A price has at most two decimals (whole cents).")
    cents = int(Decimal(text.replace(",", "")) * 100)
    if cents > MAX_PRICE_CENTS:
        raise RuleError(f"That price is too large for one unit: at most {price_text(MAX_PRICE_CENTS)}.")
    return cents


def price_text(cents: int | None) -> str:
    """Whole cents as the price a person writes (190000 -> "1900.00"); empty for quote only."""
    return "" if cents is None else f"{Decimal(cents).scaleb(-2):.2f}"


# Catalog numbers ---------------------------------------------------------------------------------

CATALOG_NUMBER_LENGTH = 40
# At least two groups, so that a plain word in the search box ("PBMC") is never taken for a catalog number.
_CATALOG_NUMBER = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+")
CATALOG_NUMBER_MESSAGE = (
    "A catalog number is letters and digits in groups joined by single hyphens, e.g. CT-PBMC-CR-10M."
)


def catalog_number(text: str) -> str:
    """A catalog number such as CT-PBMC-CR-10M, typed in any case and stored in capitals."""
    number = text.strip()
    if len(number) > CATALOG_NUMBER_LENGTH:
        raise RuleError(f"A catalog number has at most {CATALOG_NUMBER_LENGTH} characters.")
    if not _CATALOG_NUMBER.fullmatch(number):
        raise RuleError(CATALOG_NUMBER_MESSAGE)
    return number.upper()


def looks_like_catalog_number(text: str | None) -> bool:
    """True when the text (a search, say) is written as a catalog number."""
    return _passes(catalog_number, text or "")


# Slugs ------------------------------------------------------------------------------------------


def slug(text: str, max_length: int) -> str:
    """The end of a page's URL: lower-case letters and digits in words joined by single hyphens."""
    value = text.strip()
    if not is_slug(value):
        raise RuleError(SLUG_MESSAGE)
    if len(value) > max_length:
        raise RuleError(f"A slug has at most {max_length} characters.")
    return value


# Numbers ----------------------------------------------------------------------------------------

# A plain decimal number, optionally in scientific notation (2.5e7); never "nan", "inf" or "1_000".
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?")
_WHOLE_NUMBER = re.compile(r"\d{1,10}")


def _decimal(text: str) -> Decimal | None:
    """The text as an exact number, or None when it is not written as one."""
    return Decimal(text) if _NUMBER.fullmatch(text) else None


def percentage(text: str) -> float | None:
    """A percentage from 0 to 100 ("97.5", "97.5%"); empty is None (not measured)."""
    text = text.strip().removesuffix("%").rstrip()
    if not text:
        return None
    value = _decimal(text)
    if value is None or not 0 <= value <= 100:
        raise RuleError("A percentage between 0 and 100.")
    return float(value)


MAX_LEAD_TIME_DAYS = 365


def lead_time_days(text: str) -> int:
    """Business days from order to shipping: a whole number from 0 to a year's worth."""
    text = text.strip()
    if not _WHOLE_NUMBER.fullmatch(text) or int(text) > MAX_LEAD_TIME_DAYS:
        raise RuleError(f"Between 0 and {MAX_LEAD_TIME_DAYS} days.")
    return int(text)


# How people write a cell count: 1e7, 1×10^7, 1 x 10^7, 1·10⁷, 10 million, 2.5 billion, 10,000,000.
_TIMES_TEN = re.compile(r"(\d+(?:\.\d+)?)\s*[x×*·]\s*10\s*(?:\^\s*|\*\*\s*)?([+-]?\d{1,2}|[⁺⁻]?[⁰¹²³⁴⁵⁶⁷⁸⁹]{1,2})")
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻", "0123456789+-")
_IN_WORDS = re.compile(r"(\d+(?:\.\d+)?)\s*(thousand|million|billion|k|m|mio|mn|bn|b)", re.IGNORECASE)
_WORD_VALUES = {"thousand": 3, "k": 3, "million": 6, "m": 6, "mio": 6, "mn": 6, "billion": 9, "bn": 9, "b": 9}
_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+|\d{1,3}(?:[ \u00a0\u202f]\d{3})+")
CELL_COUNT_TEXT_LIMIT = 60  # longer than any way of writing a count people use
CELL_COUNT_MESSAGE = "A positive whole number of cells, like 25000000, 2.5e7, 2.5×10^7 or 25 million."


def _cell_number(text: str) -> Decimal | None:
    """The number a cell count is written as, or None when it is written in none of the ways people write one."""
    if _GROUPED.fullmatch(text):
        return Decimal(re.sub(r"\D", "", text))
    if match := _TIMES_TEN.fullmatch(text):
        return Decimal(match[1]).scaleb(int(match[2].translate(_SUPERSCRIPTS)))
    if match := _IN_WORDS.fullmatch(text):
        return Decimal(match[1]).scaleb(_WORD_VALUES[match[2].lower()])
    return _decimal(text)


def cell_count(text: str) -> int | None:
    """A positive whole number of cells, written plainly, in scientific notation or in words; empty is None.

    ``25000000``, ``25,000,000``, ``2.5e7``, ``2.5×10^7``, ``2.5x10^7``, ``2.5 × 10⁷`` and ``25 million``
    all mean the same count (a zero too many is easy to type and hard to see in ``250000000``).
    """
    text = text.strip()
    if not text:
        return None
    value = _cell_number(text)
    if value is None or not 0 < value <= MAX_BIGINT or value != value.to_integral_value():
        raise RuleError(CELL_COUNT_MESSAGE)
    return int(value)


def cell_count_text(count: int | None) -> str:
    """A cell count as people read it, for showing what was understood: 25,000,000 (2.5 × 10⁷)."""
    if count is None:
        return ""
    digits = str(count).rstrip("0")
    exponent = len(str(count)) - 1
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    power = str(exponent).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))
    return f"{count:,} ({mantissa} × 10{power})" if exponent >= 3 else f"{count:,}"


def whole_number(low: int, high: int, message: str) -> Rule:
    """A rule for a whole number from ``low`` to ``high`` (units in stock, a donor's age ...)."""

    def rule(text: str) -> int:
        text = text.strip()
        if not re.fullmatch(r"-?\d{1,10}", text) or not low <= int(text) <= high:
            raise RuleError(message)
        return int(text)

    return rule


def number_between(low: float, high: float, message: str) -> Callable[[str], float | None]:
    """A rule for a decimal number from ``low`` to ``high`` (a BMI ...); empty is None."""

    def rule(text: str) -> float | None:
        text = text.strip()
        if not text:
            return None
        value = _decimal(text)
        if value is None or not low <= value <= high:
            raise RuleError(message)
        return float(value)

    return rule


units_in_stock = whole_number(0, MAX_INTEGER, "Units in stock can't be negative.")
donor_age = whole_number(18, 100, "Donors are adults: 18 to 100.")
donations = whole_number(0, MAX_INTEGER, "Donations can't be negative.")
bmi = number_between(10, 80, "A BMI between 10 and 80.")


# Codes ------------------------------------------------------------------------------------------


def currency(text: str) -> str:
    """A three-letter ISO 4217 currency code (usd or USD), stored in capitals."""
    code = text.strip()
    if not re.fullmatch(r"[A-Za-z]{3}", code):
        raise RuleError("A three-letter currency code, like USD.")
    return code.upper()


def choice(codes: Mapping[str, str]) -> Rule:
    """A rule for one of ``codes`` ("fresh", "cryopreserved" ...) or its label ("Not tested"), in any case."""

    by_lower_case = {label.lower(): code for code, label in codes.items()} | {code.lower(): code for code in codes}

    def rule(text: str) -> str:
        code = by_lower_case.get(text.strip().lower())
        if code is None:
            raise RuleError(f"“{_shown(text.strip())}” is not one of {', '.join(codes)}.")
        return code

    return rule


product_format = choice(FORMATS)
grade = choice(GRADES)
container = choice(CONTAINERS)
shipping_condition = choice(SHIPPING_CONDITIONS)

_DONOR_CODE = re.compile(r"D\d{4,8}")
_LOT_NUMBER = re.compile(r"\d{4}-D\d{4,8}-\d{2}")


def donor_code(text: str) -> str:
    """A de-identified donor's code: D and 4 to 8 digits (D10482)."""
    code = text.strip().upper()
    if not _DONOR_CODE.fullmatch(code):
        raise RuleError("A donor code is D followed by digits, e.g. D10482.")
    return code


def lot_number(text: str) -> str:
    """A lot number: collection month, donor code and a sequence (2506-D10482-01)."""
    number = text.strip().upper()
    if not _LOT_NUMBER.fullmatch(number):
        raise RuleError("Lot numbers look like 2506-D10482-01.")
    return number


# HLA alleles ------------------------------------------------------------------------------------

# A gene (A, B, C, DRB1 ...), a star and two to four fields of digits: A*02, A*02:01, DRB1*04:01:01:02.
_HLA_ALLELE = re.compile(r"(?:HLA-)?([A-Z]{1,4}[0-9]?\*\d{2,3}(?::\d{2,4}){0,3})")


def hla_allele(text: str) -> str:
    """An HLA allele as written in the standard nomenclature (hla-a*02:01 or A*02:01), stored as A*02:01."""
    match = _HLA_ALLELE.fullmatch(text.strip().upper())
    if not match:
        raise RuleError(f"Not an HLA allele: {_shown(text.strip())}. Write alleles like A*02:01.")
    return match[1]


def looks_like_hla_allele(text: str) -> bool:
    """True when the text (a filter in a URL, say) is written as an HLA allele."""
    return _passes(hla_allele, text)


def hla_typing(text: str) -> list[str]:
    """A donor's alleles, separated by spaces, as a sorted list without repeats; every one must be an allele."""
    words = text.split()
    bad = [word for word in words if not _passes(hla_allele, word)]
    if bad:
        raise RuleError(f"Not an HLA allele: {', '.join(_shown(w) for w in bad[:5])}. Write alleles like A*02:01.")
    return sorted({hla_allele(word) for word in words})


# Dates ------------------------------------------------------------------------------------------

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def iso_date(text: str) -> date | None:
    """A calendar date written year first (2026-05-12); empty is None."""
    text = text.strip()
    if not text:
        return None
    try:
        if not _ISO_DATE.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise RuleError("A date written like 2026-05-12.") from None


def frozen_after_collection(collected_on: date | None, frozen_on: date | None) -> None:
    """A lot is frozen on or after the day it was collected."""
    if collected_on and frozen_on and frozen_on < collected_on:
        raise RuleError("A lot can't be frozen before it was collected.")


def lot_dates(collected_on: date | None, frozen_on: date | None, today: date | None = None) -> dict[str, str]:
    """What a lot's dates get wrong, by field: collected or frozen in the future, frozen before collected.

    ``today`` is the UTC date (the back office, the CSV import and the seeds all ask with the same day).
    """
    today = today or datetime.now(UTC).date()
    errors = {}
    if collected_on and collected_on > today:
        errors["collected_on"] = f"A lot can't be collected in the future: today is {today.isoformat()}."
    if frozen_on and frozen_on > today:
        errors["frozen_on"] = f"A lot can't be frozen in the future: today is {today.isoformat()}."
    try:
        frozen_after_collection(collected_on, frozen_on)
    except RuleError as exc:
        errors.setdefault("frozen_on", str(exc))
    return errors


MAX_STABILITY_HOURS = 30 * 24


def stability_hours(text: str) -> int | None:
    """A fresh product's stability window in whole hours from collection (36), at most 30 days; empty is None."""
    text = text.strip().removesuffix("h").strip()
    if not text:
        return None
    if not _WHOLE_NUMBER.fullmatch(text) or not 1 <= int(text) <= MAX_STABILITY_HOURS:
        raise RuleError(f"A stability window is a whole number of hours, from 1 to {MAX_STABILITY_HOURS}.")
    return int(text)


# Products as files write them ------------------------------------------------------------------

# Every product column a file (a CSV import row, a seed's front matter) holds, in the export's order.
PRODUCT_FIELDS = (
    "catalog_number", "name", "slug", "category", "cell_type", "markers", "tissue_source", "mobilization",
    "donor_health", "format", "container", "unit_size", "cells_per_unit", "isolation_method", "min_purity",
    "min_viability", "grade", "price", "currency", "lead_time_days", "shipping_condition", "stability",
    "stability_hours", "donor_selectable", "recallable_donors", "applications", "featured", "active", "description",
)  # fmt: skip
# What an empty value stands for: the defaults a new product gets. The other fields are required.
PRODUCT_DEFAULTS = {
    "slug": None,  # made from the name (or kept, for a product that exists)
    "markers": "",
    "mobilization": "none",
    "donor_health": "Healthy",
    "cells_per_unit": None,
    "min_purity": None,
    "min_viability": None,
    "grade": "research",
    "price": None,
    "currency": "USD",
    "stability": "",
    "stability_hours": None,
    "donor_selectable": False,
    "recallable_donors": False,
    "applications": [],
    "featured": False,
    "active": True,
    "description": "",
}
TEXT_LENGTHS = {
    c.name: c.type.length for c in Product.__table__.columns if isinstance(c.type, String) and c.type.length
}
BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def text(limit: int | None) -> Rule:
    """A rule for free text of at most ``limit`` characters (the column's size)."""

    def rule(value: str) -> str:
        if limit and len(value) > limit:
            raise RuleError(f"{len(value)} characters is too long: at most {limit} fit.")
        return value

    return rule


def text_of(column: str) -> Rule:
    """A rule for free text that fits the product column (the name, the cell type ...)."""
    return text(TEXT_LENGTHS.get(column))


def boolean(text: str) -> bool:
    """true/false, yes/no or 1/0, in any case."""
    try:
        return BOOLEANS[text.strip().lower()]
    except KeyError:
        raise RuleError("One of true, false, yes, no, 1, 0.") from None


def applications(text: str) -> list[str]:
    """What a product is used for, separated by semicolons."""
    return [part.strip() for part in text.split(";") if part.strip()]


PRODUCT_RULES: dict[str, Rule] = {
    **{name: text_of(name) for name in PRODUCT_FIELDS},
    "catalog_number": catalog_number,
    "slug": lambda text: slug(text, TEXT_LENGTHS["slug"]),
    "category": lambda text: slug(text, 80),
    "format": product_format,
    "grade": grade,
    "container": container,
    "shipping_condition": shipping_condition,
    "price": price_cents,
    "min_purity": percentage,
    "min_viability": percentage,
    "lead_time_days": lead_time_days,
    "stability_hours": stability_hours,
    "cells_per_unit": cell_count,
    "donor_selectable": boolean,
    "recallable_donors": boolean,
    "featured": boolean,
    "active": boolean,
    "currency": currency,
    "applications": applications,
}


def product_values(texts: Mapping[str, str]) -> tuple[dict, dict[str, str]]:
    """A product's fields as a file writes them, read by their rules: (values by field, error by field).

    An empty field takes its default, or is an error when the field is required. ``price`` comes
    back as cents and ``category`` as the category's slug, for the caller to look up.
    """
    values, errors = {}, {}
    for name in PRODUCT_FIELDS:
        try:
            values[name] = product_value(name, texts.get(name) or "")
        except RuleError as exc:
            errors[name] = str(exc)
    return values, errors


def product_value(name: str, text: str):
    """One product field read by its rule; empty is the field's default, or an error when it has none."""
    # The description is Markdown, where leading and trailing whitespace can matter.
    text = text if name == "description" else text.strip()
    if text.strip() == "":
        if name not in PRODUCT_DEFAULTS:
            raise RuleError("A value is required.")
        default = PRODUCT_DEFAULTS[name]
        return list(default) if isinstance(default, list) else default
    return PRODUCT_RULES[name](text)


# A number written with a decimal comma (97,5 or 1.900,00), as a semicolon-separated file writes numbers.
_DECIMAL_COMMA = re.compile(r"-?(?:\d{1,3}(?:\.\d{3})+|\d+),\d+(?:[eE][+-]?\d{1,3})?")


def decimal_comma(text: str) -> str:
    """A number written with a decimal comma as the same number with a point (97,5 -> 97.5); other text as it is.

    Excel in locales whose decimal separator is a comma writes CSV with semicolons and numbers like 97,5
    or 1.900,00; a comma-separated file never holds such a cell unquoted, so only those files are read so.
    """
    stripped = text.strip()
    if not _DECIMAL_COMMA.fullmatch(stripped):
        return text
    return stripped.replace(".", "").replace(",", ".")


# Donors and lots as files write them (an import, the seeds) -------------------------------------


def required(rule: Rule) -> Rule:
    """``rule``, except that an empty value is refused: a value nobody chose is never stored."""

    def checked(text: str):
        if not text.strip():
            raise RuleError("A value is required: choose one (or “not tested” where there is one).")
        return rule(text)

    return checked


# Every donor column of a file, in the export's order (seeds/donors.csv is such a file).
DONOR_FIELDS = (
    "code", "sex", "age", "ethnicity", "bmi", "blood_type", "hla", "cmv", "ebv", "smoking", "disease_state",
    "recallable", "donations",
)  # fmt: skip
DONOR_RULES: dict[str, Rule] = {
    "code": donor_code,
    "sex": required(choice(SEXES)),
    "age": donor_age,
    "ethnicity": text(60),
    "bmi": bmi,
    "blood_type": text(4),
    "hla": hla_typing,
    "cmv": required(choice(SEROSTATUS)),
    "ebv": required(choice(SEROSTATUS)),
    "smoking": required(choice(SMOKING)),
    "disease_state": lambda value: text(120)(value.strip()) or None,
    "recallable": boolean,
    "donations": donations,
}
LOT_PERCENTAGES = ("viability", "purity", "cd3_pct", "cd4_pct", "cd8_pct", "cd19_pct", "cd14_pct", "cd56_pct")
# Every lot column of a file, in the export's order (seeds/lots.csv is such a file).
LOT_FIELDS = (
    "lot_number", "catalog_number", "donor_code", "collected_on", "frozen_on", "total_cells", *LOT_PERCENTAGES,
    "units_available", "status",
)  # fmt: skip
LOT_RULES: dict[str, Rule] = {
    "lot_number": lot_number,
    "catalog_number": catalog_number,
    "donor_code": donor_code,
    "collected_on": required(iso_date),
    "frozen_on": iso_date,
    "total_cells": cell_count,
    **dict.fromkeys(LOT_PERCENTAGES, percentage),
    "units_available": units_in_stock,
    "status": required(choice(LOT_STATUSES)),
}


def read_fields(texts: Mapping[str, str], field_rules: Mapping[str, Rule]) -> tuple[dict, dict[str, str]]:
    """Each field's text read by its rule: (values by field, error by field); a missing field is empty."""
    values, errors = {}, {}
    for name, rule in field_rules.items():
        try:
            values[name] = rule(texts.get(name) or "")
        except RuleError as exc:
            errors[name] = str(exc)
    return values, errors


def donor_values(texts: Mapping[str, str]) -> tuple[dict, dict[str, str]]:
    """A donor's fields as a file writes them, read by their rules: (values by field, error by field)."""
    return read_fields(texts, DONOR_RULES)


def lot_values(texts: Mapping[str, str]) -> tuple[dict, dict[str, str]]:
    """A lot's fields as a file writes them, read by their rules and checked together (the dates' order)."""
    values, errors = read_fields(texts, LOT_RULES)
    if not errors.keys() & {"collected_on", "frozen_on"}:
        errors |= lot_dates(values["collected_on"], values["frozen_on"])
    return values, errors


# Helpers ----------------------------------------------------------------------------------------


def _passes(rule: Rule, text: str) -> bool:
    try:
        rule(text)
    except RuleError:
        return False
    return True


def _shown(text: str, limit: int = 40) -> str:
    """The value as a message repeats it: short, so a pasted page never fills the message."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
