"""The evaluation's data: small, messy tables made from a seed, the same every run.

``write(folder)`` writes three files there and returns their paths:

- ``orders.csv``: one row an order. ``order_date`` is a date (ISO), ``quantity`` is
  sometimes empty, ``unit_price`` is text with thousands separators ("1,234.50"),
  sometimes "N/A" or empty, ``status`` is shipped, returned or cancelled, with stray
  capitals and spaces.
- ``customers.csv``: one row a customer (some never ordered): id, name, region, segment
  and the date they signed up.
- ``products.json``: a list of {"product", "category", "weight_kg"}.

``load(folder)`` reads them back as pandas frames, cleaned the way the questions mean
(prices as numbers, missing as NaN, dates as dates, status trimmed and lower case).
Nothing here is committed data: the files are made at run time.
"""

from __future__ import annotations

import csv
import json
import random
from datetime import date, timedelta
from pathlib import Path

SEED = 16
PRODUCTS = {
    "Widget": ("Hardware", 1.25, 19.5),
    "Gadget": ("Electronics", 0.4, 149.0),
    "Gizmo": ("Electronics", 0.9, 1180.0),
    "Doohickey": ("Hardware", 2.5, 7.25),
    "Thingamajig": ("Garden", 5.0, 64.0),
}
REGIONS = ("North", "South", "East", "West")
FIRST = ("Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jun", "Kofi", "Lena")
LAST = ("Okafor", "Schmidt", "Tanaka", "Silva", "Novak", "Haddad", "Moreau", "Lindqvist", "Ortiz", "Kim")
N_CUSTOMERS = 60
N_ORDERS = 400


def _price_text(value: float, rng: random.Random) -> str:
    if rng.random() < 0.06:
        return rng.choice(("N/A", "", "n/a"))
    return f"{value:,.2f}"


def write(folder: Path, seed: int = SEED) -> dict[str, Path]:
    rng = random.Random(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    customers = []
    names = set()
    for i in range(1, N_CUSTOMERS + 1):
        while True:
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            if name not in names:
                names.add(name)
                break
        signed = date(2022, 1, 1) + timedelta(days=rng.randrange(0, 3 * 365))
        customers.append({
            "customer_id": f"C{i:03d}",
            "name": name,
            "region": rng.choice(REGIONS),
            "segment": rng.choice(("Consumer", "Business")),
            "signup_date": signed.isoformat(),
        })
    # A few customers never order.
    buyers = [c["customer_id"] for c in customers[: N_CUSTOMERS - 7]]
    orders = []
    for i in range(1, N_ORDERS + 1):
        product = rng.choice(list(PRODUCTS))
        _, _, base = PRODUCTS[product]
        price = round(base * rng.uniform(0.85, 1.15), 2)
        quantity = "" if rng.random() < 0.05 else str(rng.randint(1, 12))
        status = rng.choices(("shipped", "returned", "cancelled"), weights=(80, 12, 8))[0]
        if rng.random() < 0.1:
            status = rng.choice((status.capitalize(), f" {status}", status.upper()))
        day = date(2024, 1, 1) + timedelta(days=rng.randrange(0, 366))
        orders.append({
            "order_id": f"O{i:04d}",
            "customer_id": rng.choice(buyers),
            "order_date": day.isoformat(),
            "product": product,
            "quantity": quantity,
            "unit_price": _price_text(price, rng),
            "status": status,
        })
    paths = {
        "orders.csv": folder / "orders.csv",
        "customers.csv": folder / "customers.csv",
        "products.json": folder / "products.json",
    }
    for name, rows in (("orders.csv", orders), ("customers.csv", customers)):
        with open(paths[name], "w", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    products = [{"product": p, "category": c, "weight_kg": w} for p, (c, w, _) in PRODUCTS.items()]
    paths["products.json"].write_text(json.dumps(products, indent=1))
    return paths


def load(folder: Path):
    """The three files as clean pandas frames: (orders, customers, products)."""
    import pandas as pd

    folder = Path(folder)
    orders = pd.read_csv(folder / "orders.csv", dtype={"unit_price": str}, keep_default_na=False)
    orders["quantity"] = pd.to_numeric(orders["quantity"], errors="coerce")
    orders["unit_price"] = pd.to_numeric(orders["unit_price"].str.replace(",", ""), errors="coerce")
    orders["order_date"] = pd.to_datetime(orders["order_date"])
    orders["status"] = orders["status"].str.strip().str.lower()
    orders["revenue"] = orders["quantity"] * orders["unit_price"]
    customers = pd.read_csv(folder / "customers.csv", parse_dates=["signup_date"])
    products = pd.DataFrame(json.loads((folder / "products.json").read_text()))
    return orders, customers, products
