"""The evaluation's questions, each with its expected answer computed by pandas (in this
CPython, from the files benchmarks/eval_data.py made) and a checker of the final answer.

A checker gets the final answer's text (the last assistant message: the model's own words,
not its code or the code's output) and whether the turn showed a figure; it returns
"correct" or "wrong". The runner says "no answer" itself when there is no final text.

- numbers: correct when any number written in the answer ("1,234.5", "12.3%", "-4") is
  within the question's tolerance of the expected value;
- categories: correct when the expected name (or one of its spellings) appears, as a
  word, case-insensitively, and no other candidate of the same question does;
- a chart: correct when the turn showed a figure (an image or a plot);
- "the data cannot say": correct when the answer says so and writes no figure of the
  kind asked for.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ALL_FILES = ("orders.csv", "customers.csv", "products.json")
ORDERS = ("orders.csv",)
JOINED = ("orders.csv", "customers.csv")

NUMBER = re.compile(r"(?<![\w.])[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
CANNOT = re.compile(
    r"cannot be (?:determined|calculated|computed|answered|known)|can ?not (?:determine|calculate|compute|tell|say|answer)"
    r"|can't (?:determine|calculate|compute|tell|say|answer)|(?:is|are) not (?:in|available in|included in|present in) the (?:data|files?|dataset)"
    r"|no (?:\w+ ){0,3}(?:data|column|information|field)s? (?:on|about|for|of)|does(?: not|n't) (?:contain|include|have|record)"
    r"|not possible to (?:determine|calculate|compute)|no way to (?:determine|calculate|compute|tell)|isn't (?:in|available)"
    r"|(?:data|dataset|files?) (?:do|does)(?: not|n't) (?:say|tell|contain|include|have)",
    re.IGNORECASE,
)


def numbers_in(text: str) -> list[float]:
    """Every number written in ``text``: thousands separators dropped, a minus kept."""
    found = []
    for match in NUMBER.finditer(text):
        raw = match.group().replace(",", "").replace("−", "-")
        try:
            found.append(float(raw))
        except ValueError:
            continue
    return found


@dataclass
class Question:
    id: int
    text: str
    files: tuple[str, ...]
    kind: str  # "number", "category", "chart", "cannot"
    compute: Callable | None = None  # (orders, customers, products) -> the expected answer
    tolerance: float = 0.0  # absolute, for numbers
    relative: float = 0.0  # relative, for numbers
    choices: tuple[str, ...] = ()  # for categories: the other candidates (to catch a list of all)
    spellings: Callable[[str], tuple[str, ...]] | None = None  # the expected answer's accepted forms
    forbidden: str = ""  # for "cannot": a pattern of an invented figure
    expected: object = None
    accepted: tuple[str, ...] = field(default_factory=tuple)

    def prepare(self, frames) -> None:
        if self.compute is not None:
            value = self.compute(*frames)
            if hasattr(value, "item"):
                value = value.item()
            self.expected = value
            if self.kind == "category":
                self.accepted = self.spellings(value) if self.spellings else (str(value),)

    def check(self, answer: str, figures: int = 0) -> str:
        if self.kind == "number":
            want = float(self.expected)
            allowed = max(self.tolerance, self.relative * abs(want))
            return "correct" if any(math.isclose(n, want, abs_tol=allowed + 1e-9) for n in numbers_in(answer)) else "wrong"
        if self.kind == "category":
            said = lambda name: re.search(rf"(?<!\w){re.escape(name)}(?!\w)", answer, re.IGNORECASE) is not None
            if not any(said(a) for a in self.accepted):
                return "wrong"
            others = [c for c in self.choices if c.lower() not in {a.lower() for a in self.accepted}]
            return "wrong" if others and all(said(c) for c in others) else "correct"
        if self.kind == "chart":
            return "correct" if figures > 0 else "wrong"
        if self.kind == "cannot":
            if not CANNOT.search(answer):
                return "wrong"
            return "wrong" if self.forbidden and re.search(self.forbidden, answer, re.IGNORECASE) else "correct"
        raise ValueError(self.kind)

    def summary(self) -> str:
        if self.kind == "number":
            return f"{self.expected:.6g}" if isinstance(self.expected, float) else str(self.expected)
        if self.kind == "category":
            return " / ".join(self.accepted)
        return {"chart": "a figure", "cannot": "cannot be determined"}[self.kind]


def _month_names(value: str) -> tuple[str, ...]:
    import calendar

    year, month = value.split("-")
    name = calendar.month_name[int(month)]
    return (value, f"{name} {year}", f"{name[:3]} {year}")


def _date_names(value: str) -> tuple[str, ...]:
    import calendar
    from datetime import date

    d = date.fromisoformat(value)
    month = calendar.month_name[d.month]
    return (value, f"{month} {d.day}, {d.year}", f"{d.day} {month} {d.year}", f"{month[:3]} {d.day}, {d.year}", f"{d.day} {month[:3]} {d.year}")


def _revenue_by(orders, key):
    return orders.groupby(key)["revenue"].sum()


def _joined(orders, customers):
    return orders.merge(customers, on="customer_id", how="left")


PRODUCT_NAMES = ("Widget", "Gadget", "Gizmo", "Doohickey", "Thingamajig")
REGION_NAMES = ("North", "South", "East", "West")


def questions() -> list[Question]:
    """The questions, in order; their expected answers are computed by prepare()."""
    q = Question
    return [
        q(1, "How many orders are there in orders.csv?", ORDERS, "number", lambda o, c, p: len(o)),
        q(2, "How many distinct customers placed at least one order?", ORDERS, "number", lambda o, c, p: o.customer_id.nunique()),
        q(3, "How many orders have no usable unit price (missing or N/A)?", ORDERS, "number", lambda o, c, p: int(o.unit_price.isna().sum())),
        q(4, "How many orders have the quantity missing?", ORDERS, "number", lambda o, c, p: int(o.quantity.isna().sum())),
        q(5, "What is the total quantity ordered across all orders (ignore missing quantities)?", ORDERS, "number", lambda o, c, p: int(o.quantity.sum())),
        q(6, "What is the mean unit price over the orders that have one? Give it to 2 decimals.", ORDERS, "number", lambda o, c, p: float(o.unit_price.mean()), 0.01),
        q(7, "What is the highest unit price in the orders?", ORDERS, "number", lambda o, c, p: float(o.unit_price.max()), 0.006),
        q(8, "What is the median unit price (orders with a price)?", ORDERS, "number", lambda o, c, p: float(o.unit_price.median()), 0.006),
        q(9, "What is the total revenue, quantity times unit price, over the orders where both are known (all statuses)? Give it to 2 decimals.", ORDERS, "number", lambda o, c, p: float(o.revenue.sum()), 0.01, 1e-4),
        q(10, "Which product brought in the most revenue (quantity times unit price, all statuses)?", ORDERS, "category", lambda o, c, p: _revenue_by(o, "product").idxmax(), choices=PRODUCT_NAMES),
        q(11, "Which product appears in the most orders?", ORDERS, "category", lambda o, c, p: o["product"].value_counts().idxmax(), choices=PRODUCT_NAMES),
        q(12, "How many orders were returned? (The status column is not always written the same way.)", ORDERS, "number", lambda o, c, p: int((o.status == "returned").sum())),
        q(13, "What percentage of orders were cancelled? Give it to one decimal.", ORDERS, "number", lambda o, c, p: float((o.status == "cancelled").mean() * 100), 0.051),
        q(14, "In which month (YYYY-MM) were the most orders placed?", ORDERS, "category", lambda o, c, p: o.order_date.dt.to_period("M").value_counts().idxmax().strftime("%Y-%m"), spellings=_month_names),
        q(15, "What is the date of the earliest order (YYYY-MM-DD)?", ORDERS, "category", lambda o, c, p: o.order_date.min().date().isoformat(), spellings=_date_names),
        q(16, "How many orders were placed in the second quarter of 2024 (April to June)?", ORDERS, "number", lambda o, c, p: int(o.order_date.between("2024-04-01", "2024-06-30").sum())),
        q(17, "Which region (from customers.csv) has the highest total revenue? Join the orders to the customers.", JOINED, "category", lambda o, c, p: _revenue_by(_joined(o, c), "region").idxmax(), choices=REGION_NAMES),
        q(18, "How many orders were placed by customers in the Business segment?", JOINED, "number", lambda o, c, p: int((_joined(o, c).segment == "Business").sum())),
        q(19, "What is the average revenue per order for customers in the West region, over orders with a known revenue? Give it to 2 decimals.", JOINED, "number", lambda o, c, p: float(_joined(o, c).query("region == 'West'").revenue.mean()), 0.01, 1e-4),
        q(20, "Which customer (by name) has the highest total revenue?", JOINED, "category", lambda o, c, p: _joined(o, c).groupby("name").revenue.sum().idxmax()),
        q(21, "How many customers in customers.csv never placed an order?", JOINED, "number", lambda o, c, p: int((~c.customer_id.isin(o.customer_id)).sum())),
        q(22, "How many orders were placed by customers who signed up in 2023?", JOINED, "number", lambda o, c, p: int((_joined(o, c).signup_date.dt.year == 2023).sum())),
        q(23, "What is the average quantity per Gizmo order (ignore missing quantities)? Give it to 2 decimals.", ORDERS, "number", lambda o, c, p: float(o.loc[o["product"] == "Gizmo", "quantity"].mean()), 0.01),
        q(24, "Which product category (from products.json) sold the most units?", ("orders.csv", "products.json"), "category", lambda o, c, p: o.merge(p, on="product").groupby("category").quantity.sum().idxmax(), choices=("Hardware", "Electronics", "Garden")),
        q(25, "What is the total weight in kg of the units in shipped orders (quantity times the product's weight_kg)? Give it to 2 decimals.", ("orders.csv", "products.json"), "number", lambda o, c, p: float((lambda m: (m.quantity * m.weight_kg).sum())(o.merge(p, on="product").query("status == 'shipped'"))), 0.01, 1e-4),
        q(26, "How many orders does the customer with the most orders have?", ORDERS, "number", lambda o, c, p: int(o.customer_id.value_counts().max())),
        q(27, "Draw a bar chart of total revenue by region.", JOINED, "chart"),
        q(28, "What was the profit margin on Widgets?", ALL_FILES, "cannot", forbidden=r"\d\s*%|\d+(?:\.\d+)?\s*percent"),
        q(29, "What is the average age of the customers?", JOINED, "cannot", forbidden=r"\d+(?:\.\d+)?\s*(?:years|yrs)"),
    ]


def prepared(folder: Path) -> list[Question]:
    """The questions with their expected answers computed from the files in ``folder``."""
    from eval_data import load

    frames = load(folder)
    items = questions()
    for item in items:
        item.prepare(frames)
    return items
