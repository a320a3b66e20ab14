"""The generator's value sets and simulation knobs, read from config/generator.json and checked once.

The value sets are the seed's (seed-configs/data_generation_config.json, without its stream name and
credentials). Flow probabilities come from the seed's lists the way the seed used them: a uniform
choice from ``second_event`` / ``third_event``, so repeating a value in a list raises its probability.
Checking everything here means a bad edit fails at start-up with the field named, not mid-run.
"""

from __future__ import annotations

import calendar
import math
import time
from dataclasses import dataclass
from typing import Any

import config
from config import ConfigError

# Step names that carry the seed's flow structure; the config may repeat them, not rename them.
HOME = "HOME"
EXIT_APP = "EXIT_APP"
GO_TO_CATEGORY = "GO_TO_CATEGORY"
CREATED_AT_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class GeneratorSettings:
    """Everything the generator needs besides seed, population size and fault rates."""

    cities: tuple[str, ...]
    city_coords: dict[str, tuple[float, float]]
    payment_methods: tuple[str, ...]
    operating_systems: tuple[str, ...]
    phone_models: tuple[str, ...]
    failed_statuses: tuple[str, ...]
    initial_event: str
    categories: tuple[str, ...]
    exit_at_second_probability: float
    exit_at_third_probability: float
    purchase_probability: float
    failed_purchase_probability: float
    faker_locale: str
    default_events: int
    default_users: int
    start_epoch: int
    sessions_per_user_per_day: float
    utc_offset_hours: int
    local_hour_weights: tuple[float, ...]
    activity_pareto_alpha: float
    activity_max_ratio: float
    late_max_days: int


def load_settings(name: str = "generator") -> GeneratorSettings:
    """Read and check config/<name>.json; raise ConfigError naming the file and field on any problem."""
    return parse_settings(config.load(name), f"config/{name}.json")


def parse_settings(raw: dict[str, Any], source: str = "config/generator.json") -> GeneratorSettings:
    check = _Checker(source)
    cities = check.names(raw, "cities")
    coords_raw = check.field(raw, "city_coords", dict)
    coords: dict[str, tuple[float, float]] = {}
    for city in cities:
        pair = coords_raw.get(city)
        if not (isinstance(pair, list) and len(pair) == 2 and all(_is_number(v) for v in pair)):
            raise check.error(f"city_coords.{city}", "must be [latitude, longitude]")
        lat, lon = float(pair[0]), float(pair[1])
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise check.error(f"city_coords.{city}", "latitude must be in [-90, 90] and longitude in [-180, 180]")
        coords[city] = (lat, lon)
    statuses = check.names(raw, "purchase_statuses")
    if statuses[0] != "COMPLETED":
        raise check.error("purchase_statuses", 'must start with "COMPLETED" (the others are failed statuses)')
    second = check.names(raw, "second_event", allow_repeats=True)
    third = check.names(raw, "third_event", allow_repeats=True)
    if set(second) != {HOME, EXIT_APP}:
        raise check.error("second_event", f"must hold exactly {HOME} and {EXIT_APP} (repeat one to weight it)")
    if set(third) != {GO_TO_CATEGORY, EXIT_APP}:
        raise check.error("third_event", f"must hold exactly {GO_TO_CATEGORY} and {EXIT_APP} (repeat to weight)")
    sim = check.field(raw, "simulation", dict)
    weights = check.field(sim, "local_hour_weights", list, "simulation.")
    if len(weights) != 24 or not all(_is_number(w) and w > 0 for w in weights):
        raise check.error("simulation.local_hour_weights", "must be 24 positive numbers, one per local hour")
    start_text = check.field(sim, "start", str, "simulation.")
    return GeneratorSettings(
        cities=cities,
        city_coords=coords,
        payment_methods=check.names(raw, "payment_online"),
        operating_systems=check.names(raw, "os"),
        phone_models=check.names(raw, "phone_models"),
        failed_statuses=statuses[1:],
        initial_event=check.field(raw, "initial_event", str),
        categories=check.names(raw, "event_category"),
        exit_at_second_probability=second.count(EXIT_APP) / len(second),
        exit_at_third_probability=third.count(EXIT_APP) / len(third),
        purchase_probability=check.probability(raw, "purchase_probability"),
        failed_purchase_probability=check.probability(raw, "failed_purchase_probability"),
        faker_locale=check.field(raw, "faker_locale", str),
        default_events=check.positive(raw, "num_records", int),
        default_users=check.positive(raw, "num_users", int),
        start_epoch=parse_created_at(start_text, f"{source}: simulation.start"),
        sessions_per_user_per_day=check.positive(sim, "sessions_per_user_per_day", float, "simulation."),
        utc_offset_hours=check.field(sim, "utc_offset_hours", int, "simulation."),
        local_hour_weights=tuple(float(w) for w in weights),
        activity_pareto_alpha=check.positive(sim, "activity_pareto_alpha", float, "simulation."),
        activity_max_ratio=check.positive(sim, "activity_max_ratio", float, "simulation."),
        late_max_days=check.positive(sim, "late_max_days", int, "simulation."),
    )


def parse_created_at(text: str, what: str = "time") -> int:
    """Seconds since the epoch for a UTC ``YYYY-MM-DD HH:MM:SS``; ConfigError names ``what`` if it is not one."""
    try:
        return calendar.timegm(time.strptime(text, CREATED_AT_FORMAT))
    except ValueError:
        raise ConfigError(f'{what}: expected "YYYY-MM-DD HH:MM:SS" (UTC), got {text!r}') from None


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class _Checker:
    """Field checks that all phrase their errors the same way: file, field, rule."""

    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, field: str, rule: str) -> ConfigError:
        return ConfigError(f"{self.source}: {field} {rule}")

    def field(self, raw: dict[str, Any], key: str, kind: type, prefix: str = "") -> Any:
        if key not in raw:
            raise self.error(prefix + key, "is missing")
        value = raw[key]
        if kind is float and _is_number(value):
            return float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.error(prefix + key, f"must be {kind.__name__}, got {type(value).__name__}")
        return value

    def names(self, raw: dict[str, Any], key: str, allow_repeats: bool = False) -> tuple[str, ...]:
        values = self.field(raw, key, list)
        if not values or not all(isinstance(v, str) and v and v != "Null" for v in values):
            raise self.error(key, 'must be a non-empty list of non-empty strings other than "Null"')
        if not allow_repeats and len(set(values)) != len(values):
            raise self.error(key, "must not repeat a value")
        return tuple(values)

    def probability(self, raw: dict[str, Any], key: str) -> float:
        value = self.field(raw, key, float)
        if not 0 <= value <= 1:
            raise self.error(key, "must be a probability between 0 and 1")
        return value

    def positive(self, raw: dict[str, Any], key: str, kind: type, prefix: str = "") -> Any:
        value = self.field(raw, key, kind, prefix)
        if value <= 0:
            raise self.error(prefix + key, "must be greater than 0")
        return value
