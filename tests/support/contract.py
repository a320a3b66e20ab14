"""The event format contract as a checker (problems) and its known values; shared by the generator
and producer tests."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime

from tests.support.seed import seed_records
from warehouse import contract

# The seed dataset's keys, in its order: what every generated event starts with.
SEED_KEYS = tuple(seed_records()[0])


EXTRA_KEYS = ("EVENT_ID", "DEVICE_MODEL")


# The value sets come from the event contract (config/event_contract.schema.json), never repeated here.
_CONTRACT = contract.load()


CITY_COORDS = {city: tuple(xy) for city, xy in _CONTRACT["properties"]["CITY"]["x-seed-coordinates"].items()}


OPERATING_SYSTEMS = contract.known_values("OS_USER", _CONTRACT)


PAYMENT_METHODS = contract.known_values("PAYMENT_METHOD", _CONTRACT)


# EVENT_OUT's known values are the categories and the two places a session ends without browsing.
CATEGORIES = contract.known_values("EVENT_OUT", _CONTRACT) - {"HOME", "LAUNCH_APP"}


# STATUS's closed set without the seed's own two: the outcomes of a purchase that did not complete.
FAILED_STATUSES = contract.known_values("STATUS", _CONTRACT) - {"COMPLETED", "UNCONVERTED"}


PHONE_MODELS = contract.known_values("DEVICE_MODEL", _CONTRACT)


VISIT = ("USER_VISIT", "UNCONVERTED", "Null")


USER_ID = re.compile(r"^[0-9a-f]{10}$")


CREATED_AT = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}$")


def problems(line: str, *, widened: bool = False, seed_record: bool = False) -> list[str]:
    """What is wrong with ``line`` under the contract; empty for a valid event."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return ["not JSON"]
    if not isinstance(record, dict):
        return ["not a JSON object"]
    found = []
    keys = tuple(record)
    if keys[: len(SEED_KEYS)] != SEED_KEYS:
        return [f"seed keys missing or out of order: {keys}"]
    extra = keys[len(SEED_KEYS) :]
    if extra != (() if seed_record else EXTRA_KEYS):
        found.append(f"extra keys {extra}")
    r = record
    if not isinstance(r["USER_ID"], str) or not USER_ID.match(r["USER_ID"]):
        found.append(f"USER_ID {r['USER_ID']!r}")
    if r["INITIAL_EVENT"] != "LAUNCH_APP":
        found.append(f"INITIAL_EVENT {r['INITIAL_EVENT']!r}")
    flow = (r["EVENT_2"], r["EVENT_3"], r["EVENT_OUT"])
    outcome = (r["ORDER_TYPE"], r["STATUS"], r["PAYMENT_METHOD"])
    if flow in {("EXIT_APP", "Null", "LAUNCH_APP"), ("HOME", "EXIT_APP", "HOME")}:
        if outcome != VISIT:
            found.append(f"outcome {outcome} after flow {flow}")
    elif flow[:2] == ("HOME", "GO_TO_CATEGORY") and flow[2] in CATEGORIES:
        statuses = {"COMPLETED"} | (FAILED_STATUSES if widened else set())
        purchase = outcome[0] == "PURCHASE" and outcome[1] in statuses and outcome[2] in PAYMENT_METHODS
        if outcome != VISIT and not purchase:
            found.append(f"outcome {outcome}")
    else:
        found.append(f"flow {flow}")
    if r["OS_USER"] not in OPERATING_SYSTEMS:
        found.append(f"OS_USER {r['OS_USER']!r}")
    if r["CITY"] not in CITY_COORDS:
        found.append(f"CITY {r['CITY']!r}")
    elif (r["LATITUDE"], r["LONGITUDE"]) != CITY_COORDS[r["CITY"]] or not all(
        type(r[k]) is float for k in ("LATITUDE", "LONGITUDE")
    ):
        found.append(f"coordinates {r['LATITUDE']!r}, {r['LONGITUDE']!r} for {r['CITY']}")
    created = r["CREATED_AT"]
    try:
        if not isinstance(created, str) or not CREATED_AT.match(created):
            raise ValueError
        datetime.fromisoformat(created)
    except ValueError:
        found.append(f"CREATED_AT {created!r}")
    for key in ("HOURLY_PURCHASE_COUNT", "DAILY_PURCHASE_COUNT"):
        if type(r[key]) is not int or r[key] < 0:
            found.append(f"{key} {r[key]!r}")
    if not seed_record:
        try:
            if uuid.UUID(r["EVENT_ID"]).version != 4 or str(uuid.UUID(r["EVENT_ID"])) != r["EVENT_ID"]:
                raise ValueError
        except (ValueError, TypeError, AttributeError):
            found.append(f"EVENT_ID {r['EVENT_ID']!r}")
        device = r["DEVICE_MODEL"]
        expected = (
            device.startswith("iPhone")
            if r["OS_USER"].startswith("iOS")
            else (not device.startswith("iPhone"))
            if r["OS_USER"].startswith("Android")
            else device == "Null"
        )
        if (device not in PHONE_MODELS and device != "Null") or not expected:
            found.append(f"DEVICE_MODEL {device!r} on {r['OS_USER']}")
    if any(value is None for value in record.values()):
        found.append("JSON null instead of the string Null")
    return found
