"""The simulated users, built once per run so that each event only looks its user up.

Faker supplies realistic identities, but calling it per event and per field caps a generator at a few
thousand events/s. So Faker fills small name pools once; users are
combinations drawn from those pools with a seeded ``random.Random``, and events never call Faker.
Each user keeps one OS, city and device for the whole run, and an activity weight from a capped Pareto
distribution, so a few heavy users produce much of the traffic and most users are light.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from dataclasses import dataclass

from faker import Faker

from mobile_events_elt.config.generator_settings import GeneratorSettings

NULL = "Null"
# Pool sizes: enough distinct names for varied identities, small enough to draw in milliseconds.
_NAME_POOL = 300
_DOMAIN_POOL = 10


@dataclass(frozen=True)
class User:
    user_id: str
    os: str
    city: str
    device_model: str
    activity: float


class Population:
    """Users plus their running activity sums: bisecting a uniform draw over the sums picks a user by weight."""

    def __init__(self, users: list[User]) -> None:
        if not users:
            raise ValueError("a population needs at least one user")
        self.users = users
        self.cumulative = list(itertools.accumulate(user.activity for user in users))

    @classmethod
    def build(cls, settings: GeneratorSettings, size: int, seed: int) -> Population:
        if size < 1:
            raise ValueError(f"population size must be at least 1, got {size}")
        fake = Faker(settings.faker_locale)
        fake.seed_instance(seed)
        first_names = [fake.first_name() for _ in range(_NAME_POOL)]
        last_names = [fake.last_name() for _ in range(_NAME_POOL)]
        domains = [fake.free_email_domain() for _ in range(_DOMAIN_POOL)]
        rng = random.Random(f"population:{seed}")
        devices = {os_name: devices_for(os_name, settings.phone_models) for os_name in settings.operating_systems}
        taken: set[str] = set()
        users = []
        for number in range(size):
            identity = f"{rng.choice(first_names)}.{rng.choice(last_names)}.{number}@{rng.choice(domains)}".lower()
            os_name = rng.choice(settings.operating_systems)
            choices = devices[os_name]
            users.append(
                User(
                    user_id=_unique_user_id(identity, taken),
                    os=os_name,
                    city=rng.choice(settings.cities),
                    device_model=rng.choice(choices) if choices else NULL,
                    activity=min(rng.paretovariate(settings.activity_pareto_alpha), settings.activity_max_ratio),
                )
            )
        return cls(users)


def devices_for(os_name: str, phone_models: tuple[str, ...]) -> tuple[str, ...]:
    """Phone models plausible for an OS: iPhones on iOS, the others on Android, none on desktop systems."""
    lowered = os_name.lower()
    if lowered.startswith("ios"):
        return tuple(m for m in phone_models if m.lower().startswith("iphone"))
    if lowered.startswith("android"):
        return tuple(m for m in phone_models if not m.lower().startswith("iphone"))
    return ()


def _unique_user_id(identity: str, taken: set[str]) -> str:
    """The seed's id (first 10 hex chars of a sha256), re-salted on the rare 40-bit collision."""
    user_id = hashlib.sha256(identity.encode()).hexdigest()[:10]
    salt = 0
    while user_id in taken:
        salt += 1
        user_id = hashlib.sha256(f"{identity}#{salt}".encode()).hexdigest()[:10]
    taken.add(user_id)
    return user_id
