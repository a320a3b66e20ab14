"""The generator's value sets and simulation knobs: config/generator.json, checked as one pydantic model.

The value sets are the seed's (seed-configs/data_generation_config.json, without its stream name and
credentials). Flow probabilities come from the seed's lists the way the seed used them: a uniform
choice from ``second_event`` / ``third_event``, so repeating a value in a list raises its probability.
Checking everything here means a bad edit fails at start-up with the file, field and rule named, not mid-run.
"""

from __future__ import annotations

import calendar
import time
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, model_validator

from mobile_events_elt.config import files
from mobile_events_elt.config.files import ConfigError
from mobile_events_elt.config.validation import Broken, validate

# Step names that carry the seed's flow structure; the config may repeat them, not rename them.
HOME = "HOME"
EXIT_APP = "EXIT_APP"
GO_TO_CATEGORY = "GO_TO_CATEGORY"
CREATED_AT_FORMAT = "%Y-%m-%d %H:%M:%S"


def _names(values: tuple[str, ...]) -> tuple[str, ...]:
    if not values or not all(v and v != "Null" for v in values):
        raise ValueError('must be a non-empty list of non-empty strings other than "Null"')
    return values


def _distinct(values: tuple[str, ...]) -> tuple[str, ...]:
    if len(set(values)) != len(values):
        raise ValueError("must not repeat a value")
    return values


def _coordinates(pair: tuple[float, float]) -> tuple[float, float]:
    lat, lon = pair
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError("latitude must be in [-90, 90] and longitude in [-180, 180]")
    return pair


def _hour_weights(weights: tuple[float, ...]) -> tuple[float, ...]:
    if len(weights) != 24 or not all(w > 0 for w in weights):
        raise ValueError("must be 24 positive numbers, one per local hour")
    return weights


def _created_at(text: str) -> str:
    try:
        time.strptime(text, CREATED_AT_FORMAT)
    except ValueError:
        raise ValueError('expected "YYYY-MM-DD HH:MM:SS" (UTC)') from None
    return text


Number = Annotated[StrictFloat, Field(allow_inf_nan=False)]
Names = Annotated[tuple[StrictStr, ...], AfterValidator(_names), AfterValidator(_distinct)]
WeightedNames = Annotated[tuple[StrictStr, ...], AfterValidator(_names)]
Positive = Field(gt=0, description="must be greater than 0")


class Simulation(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    start: Annotated[StrictStr, AfterValidator(_created_at)]
    sessions_per_user_per_day: Number = Positive
    utc_offset_hours: StrictInt
    local_hour_weights: Annotated[tuple[Number, ...], AfterValidator(_hour_weights)]
    activity_pareto_alpha: Number = Positive
    activity_max_ratio: Number = Positive
    late_max_days: StrictInt = Positive


class GeneratorSettings(BaseModel):
    """Everything the generator needs besides seed, population size and fault rates (the file's shape, with
    the names the generator uses as properties)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    num_records: StrictInt = Positive
    num_users: StrictInt = Positive
    cities: Names
    city_coords: dict[StrictStr, Annotated[tuple[Number, Number], AfterValidator(_coordinates)]]
    payment_online: Names
    os: Names
    phone_models: Names
    purchase_statuses: Names
    initial_event: StrictStr
    second_event: WeightedNames
    third_event: WeightedNames
    event_category: Names
    purchase_probability: Number = Field(ge=0, le=1, description="must be a probability between 0 and 1")
    failed_purchase_probability: Number = Field(ge=0, le=1, description="must be a probability between 0 and 1")
    faker_locale: StrictStr
    simulation: Simulation

    @model_validator(mode="after")
    def _flow(self) -> GeneratorSettings:
        problems: list[tuple[str, str, Any]] = [
            (f"city_coords.{city}", "must be [latitude, longitude]", None)
            for city in self.cities
            if city not in self.city_coords
        ]
        if self.purchase_statuses[0] != "COMPLETED":
            problems.append(("purchase_statuses", 'must start with "COMPLETED" (the others are failed statuses)', None))
        if set(self.second_event) != {HOME, EXIT_APP}:
            problems.append(
                ("second_event", f"must hold exactly {HOME} and {EXIT_APP} (repeat one to weight it)", None)
            )
        if set(self.third_event) != {GO_TO_CATEGORY, EXIT_APP}:
            rule = f"must hold exactly {GO_TO_CATEGORY} and {EXIT_APP} (repeat to weight)"
            problems.append(("third_event", rule, None))
        if problems:
            raise Broken(*problems)
        return self

    def event_shaping_values(self) -> dict[str, Any]:
        """Every value that shapes the events, under the generator's names (part of the events' id namespace)."""
        values = {name: getattr(self, name) for name in _GENERATOR_NAMES}
        values["city_coords"] = {city: self.city_coords[city] for city in self.cities}
        return values

    @property
    def payment_methods(self) -> tuple[str, ...]:
        return self.payment_online

    @property
    def operating_systems(self) -> tuple[str, ...]:
        return self.os

    @property
    def failed_statuses(self) -> tuple[str, ...]:
        return self.purchase_statuses[1:]

    @property
    def categories(self) -> tuple[str, ...]:
        return self.event_category

    @property
    def exit_at_second_probability(self) -> float:
        return self.second_event.count(EXIT_APP) / len(self.second_event)

    @property
    def exit_at_third_probability(self) -> float:
        return self.third_event.count(EXIT_APP) / len(self.third_event)

    @property
    def default_events(self) -> int:
        return self.num_records

    @property
    def default_users(self) -> int:
        return self.num_users

    @property
    def start_epoch(self) -> int:
        return parse_created_at(self.simulation.start)

    @property
    def sessions_per_user_per_day(self) -> float:
        return self.simulation.sessions_per_user_per_day

    @property
    def utc_offset_hours(self) -> int:
        return self.simulation.utc_offset_hours

    @property
    def local_hour_weights(self) -> tuple[float, ...]:
        return self.simulation.local_hour_weights

    @property
    def activity_pareto_alpha(self) -> float:
        return self.simulation.activity_pareto_alpha

    @property
    def activity_max_ratio(self) -> float:
        return self.simulation.activity_max_ratio

    @property
    def late_max_days(self) -> int:
        return self.simulation.late_max_days


_GENERATOR_NAMES = (
    "cities",
    "city_coords",
    "payment_methods",
    "operating_systems",
    "phone_models",
    "failed_statuses",
    "initial_event",
    "categories",
    "exit_at_second_probability",
    "exit_at_third_probability",
    "purchase_probability",
    "failed_purchase_probability",
    "faker_locale",
    "default_events",
    "default_users",
    "start_epoch",
    "sessions_per_user_per_day",
    "utc_offset_hours",
    "local_hour_weights",
    "activity_pareto_alpha",
    "activity_max_ratio",
    "late_max_days",
)


def load_settings(name: str = "generator") -> GeneratorSettings:
    """Read and check config/<name>.json; raise ConfigError naming the file, field and rule of each problem."""
    return parse_settings(files.load(name), files.config_dir() / f"{name}.json")


def parse_settings(raw: dict[str, Any], source: Path | str = "config/generator.json") -> GeneratorSettings:
    return validate(GeneratorSettings, raw, source)


def parse_created_at(text: str, what: str = "time") -> int:
    """Seconds since the epoch for a UTC ``YYYY-MM-DD HH:MM:SS``; ConfigError names ``what`` if it is not one."""
    try:
        return calendar.timegm(time.strptime(text, CREATED_AT_FORMAT))
    except ValueError:
        raise ConfigError(f'{what}: expected "YYYY-MM-DD HH:MM:SS" (UTC), got {text!r}') from None
