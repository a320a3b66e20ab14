"""The seed dataset, as the seed's producer would have sent it: one JSON object per CSV row."""

from __future__ import annotations

import csv
import json

from tests.support.paths import DATA_DIR

SEED_DIR = DATA_DIR / "seed-dataset"
SEED_CSV = SEED_DIR / "processed_data" / "simulated_data.csv"
_NUMBERS = {"LATITUDE": float, "LONGITUDE": float, "HOURLY_PURCHASE_COUNT": int, "DAILY_PURCHASE_COUNT": int}


def seed_records() -> list[dict[str, object]]:
    with open(SEED_CSV, newline="", encoding="utf-8") as f:
        return [{k: _NUMBERS[k](v) if k in _NUMBERS else v for k, v in row.items()} for row in csv.DictReader(f)]


def seed_lines() -> list[str]:
    return [json.dumps(record) for record in seed_records()]
