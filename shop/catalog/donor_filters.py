"""Donor filters: what each one means, how a catalog URL writes it, and how a search's words name it.

A researcher types "HLA-A*02:01 CMV negative PBMC" and means two donor filters and one word. This module
reads such a query (:func:`parse_query`) into the catalog's donor filters, as URL values, and the words
left over for the full-text search, with a note for every word it could not honour. It also says what a
filter means, once, for the three places that ask: the facet index (which indexed values a filter
covers, :func:`covered_keys`), the product page (does this lot's donor match, :func:`donor_matches`) and
the page's sentence ("Showing lots whose donor is ...", :func:`donor_sentence`).

URL values per filter: ``hla`` an allele (A*02:01) or a serological group written as its first field
(A*02); ``cmv``/``ebv`` positive or negative; ``sex`` F or M; ``age`` a facet band (30-39, 50+) or a
range of whole years (20-35); ``smoking`` none, tobacco, vape or thc; ``blood`` a blood type (O+);
``bmi`` a half-open range ``low-high`` (18.5-25 is 18.5 <= BMI < 25), either end may be left empty.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from shop.catalog import rules
from shop.catalog.models import AGE_BANDS, SEROSTATUS, SEXES, SMOKING, age_band

# The donor filters, in the order the page lists them.
DONOR_FILTERS = ("hla", "cmv", "ebv", "sex", "age", "smoking", "blood", "bmi")
TITLES = {
    "hla": "Donor HLA allele",
    "cmv": "Donor CMV status",
    "ebv": "Donor EBV status",
    "sex": "Donor sex",
    "age": "Donor age",
    "smoking": "Donor smoking",
    "blood": "Donor blood type",
    "bmi": "Donor BMI",
}
BLOOD_TYPES = ("O+", "O-", "A+", "A-", "B+", "B-", "AB+", "AB-")
MIN_AGE, MAX_AGE = 18, 100
MIN_BMI, MAX_BMI = Decimal(10), Decimal(80)
# At most this many values of one filter are read from a URL (a longer list is someone's loop).
MAX_VALUES = 10

# Reading URL values -----------------------------------------------------------------------------


def age_range(value: str) -> tuple[int, int] | None:
    """An age filter's years, both ends included: a band ("50+") or a range ("20-35"); None if not one."""
    if value in AGE_BANDS:
        low, high = AGE_BANDS[value]
        return low, min(high, MAX_AGE)
    match = re.fullmatch(r"(\d{1,3})-(\d{1,3})", value)
    if not match:
        return None
    low, high = int(match[1]), int(match[2])
    return (low, high) if MIN_AGE <= low <= high <= MAX_AGE else None


def bmi_range(value: str) -> tuple[Decimal | None, Decimal | None] | None:
    """A BMI filter's ends (low included, high excluded; None is open); None if the value is not one."""
    match = re.fullmatch(r"(\d{1,2}(?:\.\d)?)?-(\d{1,2}(?:\.\d)?)?", value)
    if not match or not (match[1] or match[2]):
        return None
    low, high = (Decimal(end) if end else None for end in (match[1], match[2]))
    inside = all(end is None or MIN_BMI <= end <= MAX_BMI for end in (low, high))
    return (low, high) if inside and (low is None or high is None or low < high) else None


def hla_value(value: str) -> str | None:
    """An HLA filter value as stored: an allele (A*02:01) or a group (A*02) of a known gene; None if not one
    (as a search's "HLA-Z*01" is not one)."""
    if not rules.looks_like_hla_allele(value):
        return None
    allele = rules.hla_allele(value)
    return allele if allele.partition("*")[0] in HLA_GENES else None


_READERS = {
    "hla": hla_value,
    "cmv": lambda v: v if v in SEROSTATUS else None,
    "ebv": lambda v: v if v in SEROSTATUS else None,
    "sex": lambda v: v if v in SEXES else None,
    "age": lambda v: v if age_range(v) else None,
    "smoking": lambda v: v if v in SMOKING else None,
    "blood": lambda v: v.upper() if v.upper() in BLOOD_TYPES else None,
    "bmi": lambda v: v if bmi_range(v) else None,
}


def read_donor_values(name: str, values: Iterable[str]) -> list[str]:
    """The valid values of one donor filter from a URL, normalised, without repeats, in their order."""
    read = _READERS[name]
    chosen: list[str] = []
    for raw in list(values)[:MAX_VALUES]:
        value = read(raw.strip())
        if value is not None and value not in chosen:
            chosen.append(value)
    return chosen


def unreadable_values(name: str, values: Iterable[str]) -> list[str]:
    """The values of one donor filter that :func:`read_donor_values` leaves out: not readable, or past MAX_VALUES."""
    values = list(values)
    return [raw for raw in values[:MAX_VALUES] if _READERS[name](raw.strip()) is None] + values[MAX_VALUES:]


# What a filter covers -----------------------------------------------------------------------------


def covered_keys(name: str, value: str, keys: Iterable[str]) -> list[str]:
    """Which indexed values (``keys``: the values donors have, as text) one filter value covers.

    The facet index keeps a bitset per donor value (an allele, an age in years, a BMI); a group or a
    range is the OR of the ones it covers.
    """
    if name == "hla":
        return [key for key in keys if key == value or key.startswith(value + ":")]
    if name == "age":
        low, high = age_range(value)
        return [key for key in keys if low <= int(key) <= high]
    if name == "bmi":
        return [key for key in keys if _in_bmi_range(Decimal(key), bmi_range(value))]
    return [value] if value in keys else []


def _in_bmi_range(bmi: Decimal, ends) -> bool:
    low, high = ends
    return (low is None or bmi >= low) and (high is None or bmi < high)


def donor_values(donor, alleles: Iterable[str]) -> list[tuple[str, str]]:
    """The (facet, value) pairs the facet index sets on a donor's lots (a Donor or a row with its columns):
    its facet values, and its age in years and BMI for the ranges."""
    values = [
        ("cmv", donor.cmv_status),
        ("ebv", donor.ebv_status),
        ("sex", donor.sex),
        ("age", age_band(donor.age)),
        ("age_years", str(donor.age)),
        ("smoking", donor.smoking or "none"),
    ]
    values += [("blood", donor.blood_type)] if donor.blood_type else []
    values += [("bmi", bmi_key(donor.bmi))] if donor.bmi is not None else []
    return values + [("hla", allele) for allele in alleles]


def donor_keys(donor) -> dict[str, list[str]]:
    """A Donor's indexed values by facet (what :func:`donor_matches` reads)."""
    keys: dict[str, list[str]] = {}
    for facet, value in donor_values(donor, (a.allele for a in donor.alleles)):
        keys.setdefault(facet, []).append(value)
    return keys


def bmi_key(bmi: float) -> str:
    """A BMI as the index keys it: to one decimal, as donors' records give it."""
    return str(Decimal(repr(bmi)).quantize(Decimal("0.1")))


def donor_matches(keys: Mapping[str, list[str]], selected: Mapping[str, list[str]]) -> bool:
    """True when a donor (its :func:`donor_keys`) meets every donor filter: any value of each."""
    for name in DONOR_FILTERS:
        values = selected.get(name)
        own = keys.get("age_years" if name == "age" else name, [])
        if values and not any(covered_keys(name, value, own) for value in values):
            return False
    return True


# Words for people ---------------------------------------------------------------------------------


def matching_attributes(keys: Mapping[str, list[str]], selected: Mapping[str, list[str]]) -> list[str]:
    """A donor's values that the donor filters asked about, as people say them ("HLA-A*02:01", "CMV negative",
    "aged 34"): what a message about a matching lot shows. ``keys`` is the donor's :func:`donor_keys`."""
    said = []
    for name in DONOR_FILTERS:
        if not selected.get(name):
            continue
        own = keys.get("age_years" if name == "age" else name, [])
        if name == "hla":
            said += [f"HLA-{allele}" for value in selected[name] for allele in covered_keys(name, value, own)]
        elif name == "age":
            said += [f"aged {age}" for age in own]
        elif name == "bmi":
            said += [f"BMI {bmi}" for bmi in own]
        else:
            said += [phrase(name, value) for value in own]
    return list(dict.fromkeys(said))


def value_label(name: str, value: str) -> str:
    """A filter value as a chip shows it ("HLA-A*02:01", "20–35 years", "Under 30")."""
    if name == "hla":
        return f"HLA-{value}" if ":" in value else f"HLA-{value} (any {value} allele)"
    if name in ("cmv", "ebv"):
        return SEROSTATUS[value]
    if name == "sex":
        return SEXES[value]
    if name == "smoking":
        return SMOKING[value]
    if name == "blood":
        return value
    if name == "age":
        low, high = age_range(value)
        return f"{low} or over" if high == MAX_AGE and value in AGE_BANDS else f"{low}–{high} years"
    low, high = bmi_range(value)
    if low is None:
        return f"Under {high}"
    return f"{low} or more" if high is None else f"{low} to under {high}"


def phrase(name: str, value: str) -> str:
    """A filter value inside the sentence ("CMV negative", "aged 20–35")."""
    if name in ("cmv", "ebv"):
        return f"{name.upper()} {value}"
    if name == "sex":
        return SEXES[value].lower()
    if name == "age":
        return "aged " + value_label(name, value).removesuffix(" years")
    if name == "smoking":
        return "a non-smoker" if value == "none" else f"a {SMOKING[value]} user"
    if name == "blood":
        return f"blood type {value}"
    if name == "bmi":
        return "BMI " + value_label(name, value).lower()
    return value_label(name, value)


def donor_clause(selected: Mapping[str, list[str]]) -> str | None:
    """What the donor filters ask for: "lots whose donor is HLA-A*02:01 and CMV negative"; None without any."""
    parts = [
        " or ".join(phrase(name, value) for value in selected[name]) for name in DONOR_FILTERS if selected.get(name)
    ]
    if not parts:
        return None
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"lots whose donor is {listed}"


def donor_sentence(selected: Mapping[str, list[str]]) -> str | None:
    """What the donor filters ask for, as the catalog's sentence ("Showing lots whose donor is ..."); None without."""
    clause = donor_clause(selected)
    return f"Showing {clause}." if clause else None


# Reading a search ---------------------------------------------------------------------------------


@dataclass
class DonorQuery:
    """A search read for donor words: the filters it names (URL values), the words left, and notes."""

    selected: dict[str, list[str]] = field(default_factory=dict)
    text: str = ""
    notes: list[str] = field(default_factory=list)

    def add(self, name: str, value: str) -> None:
        """Add one filter value (once)."""
        values = self.selected.setdefault(name, [])
        if value not in values:
            values.append(value)


HLA_GENES = ("A", "B", "C", "E", "F", "G", "DRB1", "DRB3", "DRB4", "DRB5", "DQA1", "DQB1", "DPA1", "DPB1")
# Serological names people type for a group: DR4 is DRB1*04, DQ2 DQB1*02, DP4 DPB1*04.
_SEROLOGICAL_GENES = {"A": "A", "B": "B", "C": "C", "CW": "C", "DR": "DRB1", "DQ": "DQB1", "DP": "DPB1"}
_NUMBER = r"(\d+(?:\.\d+)?)"
_TO = r"\s*(?:-|–|—|to)\s*"
_UNDER = r"(?:under|below|less\s+than|younger\s+than|<|<=|≤|up\s+to|max(?:imum)?)"
_OVER = r"(?:over|above|more\s+than|older\s+than|>|>=|≥|at\s+least|min(?:imum)?|\+)"
_SEROSTATUS_WORDS = {
    "negative": "negative", "neg": "negative", "-": "negative", "−": "negative", "seronegative": "negative",
    "positive": "positive", "pos": "positive", "+": "positive", "seropositive": "positive",
}  # fmt: skip
_SIGNS = {"+": "+", "-": "-", "−": "-", "pos": "+", "positive": "+", "neg": "-", "negative": "-"}
_SEX_WORDS = {"female": "F", "females": "F", "woman": "F", "women": "F", "male": "M", "males": "M"}
_SEX_WORDS |= {"man": "M", "men": "M"}
_SMOKING_WORDS = {
    "non-smoker": ["none"], "non-smokers": ["none"], "nonsmoker": ["none"], "nonsmokers": ["none"],
    "non-smoking": ["none"], "nonsmoking": ["none"], "non smoker": ["none"], "non smokers": ["none"],
    "never smoker": ["none"], "no smoking": ["none"], "smoker": ["tobacco", "vape", "thc"],
    "smokers": ["tobacco", "vape", "thc"], "tobacco": ["tobacco"], "vape": ["vape"], "vaper": ["vape"],
    "vaping": ["vape"], "thc": ["thc"], "cannabis": ["thc"],
}  # fmt: skip


def _hla(query: DonorQuery, match: re.Match) -> None:
    gene, fields = match["gene"].upper(), match["fields"]
    shown = match[0].strip()
    if gene not in HLA_GENES:
        genes = "A, B, C, DRB1, DQB1, DPB1 and a few more"
        query.notes.append(f"“{_short(shown)}” is not an HLA allele: the genes are {genes}.")
        return
    if ":" not in fields and len(fields) in (4, 6, 8):  # A*0201: the old way of writing A*02:01
        fields = ":".join(fields[i : i + 2] for i in range(0, len(fields), 2))
    allele = f"{gene}*{fields}"
    if not rules.looks_like_hla_allele(allele):
        query.notes.append(f"“{_short(shown)}” is not written as an HLA allele: write it like HLA-A*02:01.")
        return
    query.add("hla", rules.hla_allele(allele))


def _not_an_allele(query: DonorQuery, match: re.Match) -> None:
    query.notes.append(f"“{_short(match[0])}” is not written as an HLA allele: write it like HLA-A*02:01.")


def _serological(query: DonorQuery, match: re.Match) -> None:
    gene = _SEROLOGICAL_GENES[match["sgene"].upper()]
    group = int(match["group"])
    if not 1 <= group <= 99:
        query.notes.append(f"“{_short(match[0].strip())}” is not an HLA group.")
        return
    query.add("hla", f"{gene}*{group:02d}")


def _serostatus(name: str):
    def read(query: DonorQuery, match: re.Match) -> None:
        query.add(name, _SEROSTATUS_WORDS[match["status"].lower()])

    return read


def _sex(query: DonorQuery, match: re.Match) -> None:
    query.add("sex", _SEX_WORDS[match["sex"].lower()])


def _smoking(query: DonorQuery, match: re.Match) -> None:
    for value in _SMOKING_WORDS[re.sub(r"\s+", " ", match["smoking"].lower())]:
        query.add("smoking", value)


def _blood(query: DonorQuery, match: re.Match) -> None:
    letters = match["abo"].upper()
    sign = match["rh"]
    signs = [_SIGNS[sign.lower()]] if sign else ["+", "-"]
    for s in signs:
        query.add("blood", letters + s)


def _numbers(match: re.Match) -> list[Decimal] | None:
    """The numbers a match holds, or None when one is too long to be meant."""
    try:
        return [Decimal(n) for n in (match["low"], match["high"]) if n is not None]
    except InvalidOperation:
        return None


def _age(query: DonorQuery, match: re.Match) -> None:
    shown = _short(match[0].strip())
    numbers = _numbers(match)
    if not numbers or any(n != n.to_integral_value() or not MIN_AGE <= n <= MAX_AGE for n in numbers):
        bounds = [n for n in numbers or [] if n == n.to_integral_value() and n < MIN_AGE]
        why = "donors are adults" if bounds else "ages are whole years"
        query.notes.append(f"“{shown}” was not applied: {why}, from {MIN_AGE} to {MAX_AGE}.")
        return
    ages = [int(n) for n in numbers]
    if match["under"]:
        low, high = MIN_AGE, ages[0] - 1
    elif match["over"]:
        low, high = ages[0] + (0 if match["plus"] else 1), MAX_AGE  # "over 50" is 51 on, "50+" 50 on
    elif len(ages) == 2:
        low, high = ages
    else:
        low = high = ages[0]
    if low > high:
        query.notes.append(f"“{shown}” was not applied: no donor age is in that range.")
        return
    band = next((name for name, (a, b) in AGE_BANDS.items() if (a, min(b, MAX_AGE)) == (low, high)), None)
    query.add("age", band or f"{low}-{high}")


def _bmi(query: DonorQuery, match: re.Match) -> None:
    shown = _short(match[0].strip())
    numbers = _numbers(match)
    if not numbers or any(not MIN_BMI <= n <= MAX_BMI or n != n.quantize(Decimal("0.1")) for n in numbers):
        query.notes.append(f"“{shown}” was not applied: a BMI is between {MIN_BMI} and {MAX_BMI}, like 24.5.")
        return
    if match["under"]:
        low, high = None, numbers[0]
    elif match["over"]:
        low, high = numbers[0], None
    elif len(numbers) == 2 and numbers[0] < numbers[1]:
        low, high = numbers
    else:
        query.notes.append(f"“{shown}” was not applied: give a range, like BMI 18.5-25 or BMI under 30.")
        return
    query.add("bmi", f"{low if low is not None else ''}-{high if high is not None else ''}")


def _range(unit: str = "") -> str:
    """A number, a range of two, or one with under/over before it (or ``+`` after it)."""
    return (
        rf"(?:(?P<under>{_UNDER})\s*{_NUMBER.replace('(', '(?P<low>', 1)}{unit}"
        rf"|(?P<over>{_OVER})\s*(?P<olow>\d+(?:\.\d+)?){unit}"
        rf"|(?P<rlow>\d+(?:\.\d+)?){unit}(?:{_TO}(?P<high>\d+(?:\.\d+)?){unit})?"
        rf"(?P<plus>\+|\s+(?:or|and)\s+(?:over|older|above|more))?)"
    )


class _Range:
    """A match of :func:`_range`, with its alternatives folded into low, high, under and over."""

    def __init__(self, match: re.Match):
        self._match = match
        self._groups = {
            "low": match["low"] or match["olow"] or match["rlow"],
            "high": match["high"],
            "under": match["under"],
            "over": match["over"] or match["plus"],
        }

    def __getitem__(self, key):
        return self._groups[key] if key in self._groups else self._match[key]


def _ranged(read):
    return lambda query, match: read(query, _Range(match))


_W = r"(?<![\w*:+\-])"  # not inside a word, an allele or a marker (CD3+)
_E = r"(?![\w*:])"
_STATUS = r"(?P<status>seronegative|seropositive|negative|positive|neg|pos|[+\-−])(?![\w+\-])"
_YEARS = r"(?:\s*(?:years|yrs|y))?"
_SMOKING = (
    r"(?P<smoking>non[\s-]?smok(?:er|ers|ing)|never\s+smoker|no\s+smoking|smokers?|tobacco|vap(?:e|er|ing)"
    r"|thc|cannabis)"
)
_ALLELE = r"(?:HLA-?)?(?P<gene>[A-Z]{1,4}\d?)\*(?P<fields>\d{2,8}(?::\d{2,4}){0,3})"
_GROUP = r"(?:HLA-?)?(?P<sgene>Cw|DR|DQ|DP|A|B|C)(?P<group>\d{1,2})"
_BLOOD_NAMED = r"(?:blood\s*(?:type|group)\s*|type\s+)(?P<abo>AB|A|B|O)\s*(?P<rh>pos(?:itive)?|neg(?:ative)?|[+\-−])?"


def _age_words(query: DonorQuery, match: re.Match) -> None:
    """An age written without the word "age" ("under 40", "20-35 years"): read as the age pattern reads it."""
    _ranged(_age)(query, PATTERNS_AGE_ONLY.fullmatch(match[0].strip()))


# Each pattern is tried in turn over the query; what matches is taken out before the next.
PATTERNS = [
    (re.compile(rf"{_W}{_ALLELE}{_E}", re.I), _hla),
    (re.compile(rf"{_W}{_GROUP}{_E}(?!\s*(?:[%+-]|cells))", re.I), _serological),
    (re.compile(rf"{_W}HLA-(?P<sgene>Cw|DR|DQ|DP|A|B|C)(?P<group>\d{{1,3}}){_E}", re.I), _serological),
    (re.compile(rf"{_W}(?:HLA-\S+|[A-Z]{{1,4}}\d?\*\S*)", re.I), _not_an_allele),
    (re.compile(rf"{_W}BMI\s*(?:of\s+)?{_range()}{_E}", re.I), _ranged(_bmi)),
    (re.compile(rf"{_W}(?:donors?\s+)?(?:age[ds]?|aged)\s*(?:of\s+|between\s+)?{_range()}{_YEARS}{_E}", re.I),
     _ranged(_age)),
    (re.compile(rf"{_W}(?:donors?\s+)?(?:{_UNDER}|{_OVER})\s*\d+{_YEARS}{_E}", re.I), _age_words),
    (re.compile(rf"{_W}\d+{_TO}\d+\s*(?:years|yrs|y)(?:\s+old)?{_E}", re.I), _age_words),
    (re.compile(rf"{_W}\d+\+\s*(?:years|yrs)(?:\s+old)?{_E}", re.I), _age_words),
    (re.compile(rf"{_W}CMV[\s-]*{_STATUS}", re.I), _serostatus("cmv")),
    (re.compile(rf"{_W}EBV[\s-]*{_STATUS}", re.I), _serostatus("ebv")),
    (re.compile(rf"{_W}{_SMOKING}{_E}", re.I), _smoking),
    (re.compile(rf"{_W}(?P<sex>females?|wom[ae]n|males?|m[ae]n){_E}(?:\s+donors?{_E})?", re.I), _sex),
    (re.compile(rf"{_W}{_BLOOD_NAMED}(?![\w+\-])", re.I), _blood),
    (re.compile(rf"{_W}(?P<abo>AB|A|B|O)\s?(?P<rh>[+\-−])(?![\w+\-])", re.I), _blood),
    (re.compile(rf"{_W}(?P<abo>AB|O)\s(?P<rh>pos(?:itive)?|neg(?:ative)?){_E}", re.I), _blood),
]  # fmt: skip
PATTERNS_AGE_ONLY = re.compile(rf"(?:donors?\s+)?{_range()}(?:\s*(?:years|yrs|y)(?:\s+old)?)?", re.I)
_DONOR_WORD = re.compile(r"\bdonors?\b", re.I)


def parse_query(q: str) -> DonorQuery:
    """Read a search for donor words; the rest of it is searched as text. See the module docstring."""
    query = DonorQuery()
    rest = q
    for pattern, read in PATTERNS:
        rest = pattern.sub(lambda match, read=read: _taken(query, read, match), rest)
    if query.selected:
        rest = _DONOR_WORD.sub(" ", rest)  # "female donors": the filter says it
    query.text = " ".join(rest.split())
    for name in contradictory(query.selected):
        both = " and ".join(phrase(name, v) for v in query.selected[name])
        query.notes.append(f"{BOTH_ASKED} {both}: a donor is one or the other, so lots of either are shown.")
    return query


BOTH_ASKED = "The search asks for both"


def contradictory(selected: Mapping[str, list[str]]) -> list[str]:
    """The filters of a value a donor has one of (CMV, EBV, sex) given more than one: the catalog shows lots of
    either; one donor can't be both."""
    return [name for name in ("cmv", "ebv", "sex") if len(selected.get(name, [])) > 1]


def _taken(query: DonorQuery, read, match: re.Match) -> str:
    read(query, match)
    return " "


def _short(text: str) -> str:
    return text if len(text) <= 30 else text[:29] + "…"
