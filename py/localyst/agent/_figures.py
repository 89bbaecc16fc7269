"""Which numbers of an answer some code computed: the figures of its prose, each tied to an
output it matches, or found in none.

A model can state a figure it never computed, and the person cannot tell. So the figures
of an answer are looked for among the numbers of what cells printed or showed (as the
model reads them, and a table's cells), and one found nowhere is "not computed".

What counts as a figure (``figures``): integers and decimals, with a sign (``-``, ``−``),
thousands separated by commas or spaces ("12,345", "12 345"), scientific notation
("1.2e6"), a currency sign before it ("$1.2", "€30"), a percent ("45.7%", "45.7 percent")
and a scale word or letter after it ("1.2k", "3.4 million", "2 bn"). Not figures: digits
inside words or names ("Q3", "COVID-19", "v1.2.3", "x2"), dates and times ("2024-01-31",
"31/01/2024", "12:30"), and code (fenced blocks and `inline code`).

Which figures are left alone (neither tied nor marked), because marking them would be noise:
- small whole numbers, 0 to 10 without a percent, currency or scale ("3 columns", "top 5");
- years: whole numbers from 1900 to 2100 written without separators;
- list numbering ("1." or "2)" at the start of a line);
- figures the person's own messages or the model's code hold ("over 30" when the code
  filtered on 30): they were given, not computed. (The file previews the model is shown
  are not counted: the record does not keep them, and the page must mark what the loop asks.)

When a figure matches a number (``Ledger.tie``): signs aside (people write "fell by 3.2"
for -3.2), the number rounds to the figure as written: "3.14" ties 3.14159 (half a unit
of the last written digit), "1.23 million" ties 1234567, "$1.2k" ties 1234. A percent
also ties the fraction: "45.7%" ties 0.4567 as well as 45.67. A figure with a single
significant digit ("0.5", "20", "300") ties only an equal number: with so little written,
rounding would tie it to almost anything in a large table. For the same reason the zeros
that end a whole number count as written: "12,000" ties 12,000.4 but not 12,345, which
"12k" or "12 thousand" would.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_SCALES = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9, "billion": 1e9, "trillion": 1e12}

# A number in prose: the sign and currency, the digits (thousands grouped or not), an
# exponent, then a percent or a scale. Not inside a word or a number, nor after a hyphen
# that follows a letter ("COVID-19"); not followed by a letter or by more digits.
_FIGURE = re.compile(
    r"(?<![\w.])(?<![A-Za-z]-)"
    r"(?P<sign>[-−+])?(?P<currency>[$€£¥])?"
    r"(?P<digits>\d{1,3}(?:(?P<sep>[,\u00a0\u202f\u2009 ])\d{3})(?:(?P=sep)\d{3})*(?![\d])(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:[eE](?P<exponent>[-+]?\d{1,3}))?"
    r"(?:(?P<percent>\s?%|\s(?:percent|per cent)\b)|(?:(?P<scale>k|K|M|B)|\s?(?P<word>bn|mn|thousand|million|billion|trillion))\b)?"
    r"(?![\w]|[.,]\d)"
)
# Numbers in output text: plainer (no scale words), but with exponents ("1.234568e+06").
_NUMBER = re.compile(r"(?<![\w.])(?<![A-Za-z]-)[-−]?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w]|[.,]\d)")
_DATE_OR_TIME = re.compile(r"\b\d{4}-\d{1,2}-\d{1,2}\b|\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b|\b\d{1,2}:\d{2}(?::\d{2})?\b")
_LIST_NUMBER = re.compile(r"^[ \t]*\d{1,3}[.)](?=\s)", re.MULTILINE)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})[^\n]*\n.*?(?:^ {0,3}\1[ \t]*$|\Z)", re.DOTALL | re.MULTILINE)
_INLINE_CODE = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.DOTALL)


@dataclass(frozen=True)
class Figure:
    """A number as the answer writes it: where it is, its value (a percent in percent,
    "1.2k" as 1200) and half a unit of its last written digit (0 for an exact-only one)."""

    start: int
    end: int
    text: str
    value: float
    half_unit: float
    percent: bool = False
    trivial: bool = False


@dataclass(frozen=True)
class Computed:
    """A number in an output: its value, as the output wrote it, and which output it is."""

    value: float
    text: str
    source: int


@dataclass(frozen=True)
class Tie:
    """A figure of an answer and the output number it matches (None: not computed)."""

    figure: Figure
    computed: Computed | None


def _blank(text: str, pattern: re.Pattern[str]) -> str:
    """``text`` with each match of ``pattern`` turned to spaces: positions stay put."""
    return pattern.sub(lambda found: re.sub(r"[^\n]", " ", found.group()), text)


def prose(markdown: str) -> str:
    """The text of a Markdown answer with its code (fenced blocks, `inline code`) blanked
    out, so that the numbers of code are not read as figures; positions stay put."""
    return _blank(_blank(markdown, _FENCE), _INLINE_CODE)


def code_of(markdown: str) -> str:
    """The code of a Markdown text (its fenced blocks and `inline code`), for the numbers
    it gives; the rest blanked."""
    fences = [found.group() for found in _FENCE.finditer(markdown)]
    inline = [found.group() for found in _INLINE_CODE.finditer(_blank(markdown, _FENCE))]
    return "\n".join(fences + inline)


def _significant(digits: str) -> int:
    whole, _, fraction = digits.partition(".")
    if fraction:
        return len((whole + fraction).lstrip("0"))
    return len(whole.lstrip("0").rstrip("0"))


def _figure(found: re.Match[str]) -> Figure | None:
    """The figure of a match, or None for one beyond a float ("1e999")."""
    digits = re.sub(r"[,\u00a0\u202f\u2009 ]", "", found["digits"])
    exponent = int(found["exponent"] or 0)
    named = found["scale"] or found["word"]
    scale = _SCALES[named.lower()] if named else 1.0
    places = len(digits.partition(".")[2])
    value = float(f"{digits}e{exponent}") * scale
    if not math.isfinite(value):
        return None
    if found["sign"] in ("-", "−"):
        value = -value
    half_unit = float(f"5e{exponent - places - 1}") * scale if _significant(digits) >= 2 else 0.0
    plain = not (found["currency"] or found["percent"] or named or found["exponent"])
    whole = "." not in digits and plain and found["sep"] is None
    trivial = whole and (abs(value) <= 10 or 1900 <= value <= 2100)
    return Figure(found.start(), found.end(), found.group(), value, half_unit, bool(found["percent"]), trivial)


def figures(text: str) -> list[Figure]:
    """The figures of ``text`` (prose: see ``prose`` for an answer in Markdown), in order,
    the trivial ones included (``Figure.trivial``)."""
    text = _blank(_blank(text, _DATE_OR_TIME), _LIST_NUMBER)
    return [figure for figure in map(_figure, _FIGURE.finditer(text)) if figure is not None]


def numbers(text: str) -> list[tuple[float, str]]:
    """Each number an output's text shows, with how it was written."""
    found = []
    for match in _NUMBER.finditer(text):
        written = match.group()
        try:
            value = float(written.replace(",", "").replace("−", "-"))
        except ValueError:  # an exponent beyond a float
            continue
        if math.isfinite(value):
            found.append((value, written))
    return found


class Ledger:
    """The numbers of some outputs (``outputs[i]`` is the text of output ``i``, and
    ``values[i]`` numbers it holds beyond its text, such as a table's cells), and the texts
    whose numbers were given rather than computed (the person's messages, the code)."""

    def __init__(self, outputs: Sequence[str], given: Iterable[str] = (), values: Sequence[Iterable[float]] = ()) -> None:
        # (value, output, as written) tuples: a long conversation holds tens of thousands
        computed = [(abs(v), i, written) for i, text in enumerate(outputs) for v, written in numbers(text)]
        computed += [(abs(v), i, v) for i, more in enumerate(values) for v in more]
        computed.sort(key=lambda c: c[0])
        self._computed = computed
        self._keys = [c[0] for c in computed]
        self._given = sorted(abs(v) for text in given for v, _ in numbers(text))

    def tie(self, figure: Figure) -> Computed | None:
        """The output number the figure matches, from the latest output holding one; or None."""
        matches = [self._computed[i] for low, high in _ranges(figure) for i in range(*_between(self._keys, low, high))]
        if not matches:
            return None
        value, source, written = max(matches, key=lambda c: c[1])
        return Computed(value, str(written), source)

    def given(self, figure: Figure) -> bool:
        return any(start < end for start, end in (_between(self._given, low, high) for low, high in _ranges(figure)))

    def ties(self, text: str) -> list[Tie]:
        """Each figure of ``text`` that is neither trivial nor given, with what computed it."""
        found = []
        for figure in figures(text):
            if figure.trivial:
                continue
            computed = self.tie(figure)
            if computed is not None or not self.given(figure):
                found.append(Tie(figure, computed))
        return found

    def uncomputed(self, answer: str) -> list[Figure]:
        """The figures of a Markdown answer that no output holds (and nobody gave)."""
        return [tie.figure for tie in self.ties(prose(answer)) if tie.computed is None]


def _ranges(figure: Figure) -> list[tuple[float, float]]:
    """The closed ranges of absolute values the figure ties: as written, and for a percent
    the fraction too. A little room for the float arithmetic of the bounds themselves."""
    value = abs(figure.value)
    spans = [(value, figure.half_unit)]
    if figure.percent:
        spans.append((value / 100, figure.half_unit / 100))
    return [(v - h - 1e-9 * max(v, 1.0), v + h + 1e-9 * max(v, 1.0)) for v, h in spans]


def _between(keys: list[float], low: float, high: float) -> tuple[int, int]:
    return bisect.bisect_left(keys, low), bisect.bisect_right(keys, high)

