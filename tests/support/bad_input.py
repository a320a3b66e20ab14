"""The bad-input corpus: each record and file case with the outcome it must have."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from mobile_events_elt.warehouse import contract
from tests.support.seed import seed_records

BASE = {**seed_records()[3], "CREATED_AT": "2024-01-29 19:39:47"}  # a completed purchase


def record(case: str, **changes: object) -> str:
    body = {**BASE, "EVENT_ID": f"corpus-{case}", **changes}
    return json.dumps({k: v for k, v in body.items() if v is not DROP}, ensure_ascii=False)


DROP = object()


@dataclass(frozen=True)
class Case:
    name: str
    line: str
    loads: bool  # True: in analytics.orders once; False: quarantined once
    reason: str = ""  # what the quarantine reason must contain


@dataclass(frozen=True)
class OpenCase:
    """A real purchase with a value nobody listed, or a time in another accepted form: it must load as sent."""

    name: str
    changes: dict[str, object]
    created_at_utc: datetime  # CREATED_AT as the tables must hold it
    drift: tuple[tuple[str, str], ...] = ()  # (field, value) the drift report must show

    @property
    def user_id(self) -> str:  # a user of its own, so USERS shows exactly this record's attributes
        return hashlib.sha256(self.name.encode()).hexdigest()[:10]

    @property
    def body(self) -> dict[str, object]:
        return {**BASE, "EVENT_ID": f"corpus-{self.name}", "USER_ID": self.user_id, **self.changes}

    @property
    def line(self) -> str:
        return json.dumps(self.body, ensure_ascii=False)


BASE_UTC = datetime(2024, 1, 29, 19, 39, 47)


# Text that must be stored as text: quotes, backslashes, non-ASCII letters, SQL.
AWKWARD = {
    "quotes": 'O\'Higgins "Centro"',
    "backslashes": "C:\\new\\table\\",
    "non_ascii": "Ciudad de México ñ 東京 🚀",
    "sql": "x'); drop table analytics.orders; --",
}


OPEN_FIELDS = ("CITY", "OS_USER", "PAYMENT_METHOD", "DEVICE_MODEL")


NEW_VALUES = {"CITY": "Oaxaca", "OS_USER": "Android_15", "PAYMENT_METHOD": "Apple Pay", "DEVICE_MODEL": "Pixel 9 Pro"}


# Every open field of the contract, the session's step names included: any text of these loads as sent.
EVERY_OPEN_FIELD = tuple(f.name for f in contract.fields() if f.closed is False)


# Text a log line must never carry raw: NUL, newline, CR, terminal escapes (ESC, BEL), a bidi override, Unicode's
# line separator and NEL, tab.
CONTROLS = "nul\x00 line 1\n2024-01-29 [ERROR] forged\r\x1b[31mred\x1b[0m \u202eevil\u2028next\x85nel\x07\tend"


HUGE = 900_000  # characters of one value: a few hundred of them may reach a log, never all


# The contract's CREATED_AT range ends a day ahead of the run: one time inside it, one past it.
NOW = datetime.now(UTC).replace(microsecond=0)
WITHIN_A_DAY, PAST_A_DAY = NOW + timedelta(hours=23), NOW + timedelta(hours=25)


OPEN_CASES = [
    *(OpenCase(f"new_{f.lower()}", {f: v}, BASE_UTC, ((f, v),)) for f, v in NEW_VALUES.items()),
    OpenCase("new_category", {"EVENT_OUT": "TOYS"}, BASE_UTC, (("EVENT_OUT", "TOYS"),)),
    *(
        OpenCase(f"{f.lower()}_{kind}", {f: text}, BASE_UTC, ((f, text),))
        for f in OPEN_FIELDS
        for kind, text in AWKWARD.items()
    ),
    OpenCase("created_at_t", {"CREATED_AT": "2024-01-29T19:39:47"}, BASE_UTC),
    OpenCase("created_at_z", {"CREATED_AT": "2024-01-29T19:39:47Z"}, BASE_UTC),
    OpenCase("created_at_plus", {"CREATED_AT": "2024-01-29T19:39:47+05:30"}, datetime(2024, 1, 29, 14, 9, 47)),
    OpenCase("created_at_minus", {"CREATED_AT": "2024-01-29T19:39:47-06:00"}, datetime(2024, 1, 30, 1, 39, 47)),
    OpenCase(
        "created_at_fraction", {"CREATED_AT": "2024-01-29T19:39:47.25"}, datetime(2024, 1, 29, 19, 39, 47, 250000)
    ),
    OpenCase(
        "created_at_fraction_z",
        {"CREATED_AT": "2024-01-29T19:39:47.123456Z"},
        datetime(2024, 1, 29, 19, 39, 47, 123456),
    ),
    OpenCase(
        "created_at_fraction_offset",
        {"CREATED_AT": "2024-01-29T23:59:59.5-01:00"},
        datetime(2024, 1, 30, 0, 59, 59, 500000),
    ),
    OpenCase("created_at_space_offset", {"CREATED_AT": "2024-01-29 19:39:47+00:00"}, BASE_UTC),
    # The ends of the contract's CREATED_AT range (2000-01-01T00:00:00Z to 24 h ahead), each just inside.
    OpenCase("created_at_range_start", {"CREATED_AT": "2000-01-01T00:00:00Z"}, datetime(2000, 1, 1)),
    OpenCase("created_at_range_start_by_zone", {"CREATED_AT": "1999-12-31T23:00:00-01:00"}, datetime(2000, 1, 1)),
    OpenCase(
        "created_at_within_a_day",
        {"CREATED_AT": f"{WITHIN_A_DAY:%Y-%m-%dT%H:%M:%SZ}"},
        WITHIN_A_DAY.replace(tzinfo=None),
    ),
    # Every open field: 900 KB of text, and control characters; both load exactly as sent.
    *(
        OpenCase(f"{f.lower()}_900kb", {f: f"{f} " + "x" * HUGE}, BASE_UTC, ((f, f"{f} " + "x" * HUGE),))
        for f in EVERY_OPEN_FIELD
    ),
    *(
        OpenCase(f"{f.lower()}_controls", {f: f"{f} {CONTROLS}"}, BASE_UTC, ((f, f"{f} {CONTROLS}"),))
        for f in EVERY_OPEN_FIELD
    ),
]


def with_raw_number(case: str, field: str, number: str, **changes: object) -> str:
    """A record whose ``field`` is the JSON number written exactly as ``number`` (json.dumps cannot write
    every number text: 1e300 comes out as 1e+300)."""
    return record(case, **{field: "<number>"}, **changes).replace('"<number>"', number)


def loaded(name: str, **changes: object) -> Case:
    """A case whose record (the base purchase with ``changes``) must land in analytics.orders once."""
    return Case(name, record(name, **changes), True)


def quarantined(name: str, reason: str, **changes: object) -> Case:
    """A case whose record (the base purchase with ``changes``) must be quarantined once, with ``reason``."""
    return Case(name, record(name, **changes), False, reason)


def quarantined_number(name: str, field: str, number: str, reason: str) -> Case:
    """A case whose ``field`` is the raw JSON number ``number`` and must be quarantined once, with ``reason``."""
    return Case(name, with_raw_number(name, field, number), False, reason)


COUNT_OUT_OF_RANGE = "out of range: more than 18 digits"

CASES = [
    loaded("valid"),
    loaded("iso_timestamp", CREATED_AT="2024-01-29T19:39:47"),
    loaded("null_strings", PAYMENT_METHOD="Null", EVENT_3="Null"),
    loaded("json_nulls", PAYMENT_METHOD=None, EVENT_3=None),
    loaded("sql_in_extra_field", NOTE="'); drop table analytics.orders; --"),
    loaded("non_ascii_extra", NOTE="Ciudad de México ✓ 東京 🚀"),
    loaded("nested_extra", CONTEXT={"app": {"version": "1.2.3", "flags": [1, 2]}}),
    loaded("field_100kb", NOTE="x" * 100_000),
    loaded("count_as_text", HOURLY_PURCHASE_COUNT="2"),
    Case("no_event_id", json.dumps({**BASE, "CITY": "Puebla", "CREATED_AT": "2024-01-29 08:00:00"}), True),
    # Closed-world rejects before the event contract; descriptive values now load as sent (OPEN_CASES has more).
    loaded("unknown_city", CITY="Atlantis"),
    loaded("sql_as_city", CITY="x'; drop table raw.events_raw; --"),
    loaded("unknown_os", OS_USER="BeOS_5"),
    loaded("lowercase_payment", PAYMENT_METHOD="paypal"),
    *(Case(c.name, c.line, True) for c in OPEN_CASES),
    Case("malformed_json", '{"USER_ID": "b0c9dfbd48", "CITY": ', False, "malformed JSON"),
    Case("json_array", json.dumps([BASE]), False, "not a JSON object"),
    Case("json_number", "12345", False, "not a JSON object"),
    Case("json_string", json.dumps("a string"), False, "not a JSON object"),
    Case("json_null", "null", False, "not a JSON object"),
    quarantined("missing_user_id", "missing USER_ID", USER_ID=DROP),
    quarantined("empty_user_id", "malformed USER_ID", USER_ID=""),
    quarantined("null_user_id", "missing USER_ID", USER_ID=None),
    quarantined("numeric_user_id", "malformed USER_ID", USER_ID=1234567890),
    quarantined("uppercase_user_id", "malformed USER_ID", USER_ID="B0C9DFBD48"),
    quarantined("missing_created_at", "missing CREATED_AT", CREATED_AT=DROP),
    quarantined("garbage_created_at", "unparseable CREATED_AT", CREATED_AT="yesterday"),
    *(
        quarantined(name, "unparseable", CREATED_AT=text)
        for name, text in {
            "impossible_date": "2024-02-30 10:00:00",
            "offset_without_colon": "2024-01-29T19:39:47+0530",
            "minutes_only": "2024-01-29 19:39",
            "impossible_hour_z": "2024-01-29T25:00:00Z",
            "created_at_number": 1706557187,
        }.items()
    ),
    quarantined("far_future", "CREATED_AT out of range", CREATED_AT="2999-01-01 00:00:00"),
    quarantined(
        "far_future_iso",
        "CREATED_AT out of range: must be from 2000-01-01T00:00:00Z to 24 hours ahead of the run (UTC)",
        CREATED_AT="2999-01-01T00:00:00+14:00",
    ),
    # Past each end of the range. Year 1 at +14:00 is year 0 in UTC: loaded, with a new city it broke the
    # drift report (the connector cannot read year 0 back) and with it every run's checks.
    quarantined(
        "year_1_east_of_utc",
        "CREATED_AT out of range",
        CREATED_AT="0001-01-01T00:30:00+14:00",
        CITY="Atlantis of year 0",
    ),
    *(
        quarantined(name, "CREATED_AT out of range", CREATED_AT=text)
        for name, text in {
            "year_0": "0000-01-01 00:00:00",
            "before_range": "1999-12-31 23:59:59",
            "before_range_by_zone": "2000-01-01T00:30:00+01:00",
            "past_a_day_ahead": f"{PAST_A_DAY:%Y-%m-%dT%H:%M:%SZ}",
            "year_10000_in_utc": "9999-12-31T23:59:59-14:00",
        }.items()
    ),
    quarantined("latitude_text", "non-numeric LATITUDE", LATITUDE="north"),
    quarantined("missing_longitude", "LATITUDE/LONGITUDE", LONGITUDE=DROP),
    quarantined("latitude_out_of_range", "out of range", LATITUDE=123.4),
    quarantined("longitude_out_of_range", "out of range", LONGITUDE=-200.0),
    # What a FLOAT cannot hold as sent, and what engines convert differently: never converted, quarantined.
    *(
        quarantined(f"latitude_{name}", "non-numeric LATITUDE", LATITUDE=text)
        for name, text in {
            "nan": "NaN",
            "infinity": "Infinity",
            "minus_inf": "-inf",
            "hex": "0x1A",
            "underscore": "1_9",
            "plus_sign": "+19.4",
            "padded": " 19.4",
        }.items()
    ),
    quarantined("longitude_nan", "non-numeric LATITUDE/LONGITUDE", LONGITUDE="nan"),
    *(
        quarantined(f"latitude_{name}", "LATITUDE/LONGITUDE out of range", LATITUDE=text)
        for name, text in {
            "1e999": "1e999",
            "1e_minus_999": "1e-999",
            "41_characters": "19.4326" + "0" * 34,
        }.items()
    ),
    quarantined_number(
        "longitude_raw_1e300",
        "LONGITUDE",
        "1e300",
        "LATITUDE/LONGITUDE out of range: more than 40 characters or a 3-digit exponent",
    ),
    loaded("latitude_exponent", LATITUDE="1.94326e1"),
    # A double as Snowflake writes it as text: 17 significant digits and a signed 2-digit exponent.
    loaded("latitude_double_text", LATITUDE="1.943260000000000e+01"),
    quarantined("city_number", "malformed CITY: must be a JSON string", CITY=42),
    quarantined("os_object", "malformed OS_USER", OS_USER={"name": "iOS"}),
    quarantined("device_list", "malformed DEVICE_MODEL", DEVICE_MODEL=["Pixel"]),
    quarantined("payment_boolean", "malformed PAYMENT_METHOD", PAYMENT_METHOD=True),
    quarantined("status_number", "malformed STATUS", STATUS=1),
    quarantined("unknown_status", "unknown STATUS: MAYBE", STATUS="MAYBE"),
    quarantined("lowercase_status", "unknown STATUS: completed", STATUS="completed"),
    quarantined("unknown_order_type", "unknown ORDER_TYPE", ORDER_TYPE="REFUND"),
    quarantined("sql_order_type", "unknown ORDER_TYPE", ORDER_TYPE="x' or '1'='1"),
    quarantined("missing_order_type", "missing ORDER_TYPE", ORDER_TYPE=DROP),
    quarantined("null_status", "missing STATUS", STATUS="Null"),
    quarantined("negative_count", "negative purchase count", DAILY_PURCHASE_COUNT=-1),
    quarantined("count_garbage", "malformed HOURLY_PURCHASE_COUNT", HOURLY_PURCHASE_COUNT="two"),
    quarantined("count_fraction", "malformed DAILY_PURCHASE_COUNT", DAILY_PURCHASE_COUNT=1.5),
    # Past the contract's 18 digits (NUMBER(38,0) on Snowflake, BIGINT on the emulator; past 38 digits
    # TRY_TO_NUMBER gives NULL): quarantined instead, as text and as a JSON number.
    quarantined("count_50_digits", f"HOURLY_PURCHASE_COUNT {COUNT_OUT_OF_RANGE}", HOURLY_PURCHASE_COUNT="5" * 50),
    quarantined("count_19_digits", f"DAILY_PURCHASE_COUNT {COUNT_OUT_OF_RANGE}", DAILY_PURCHASE_COUNT="1" + "0" * 18),
    *(
        quarantined_number(name, field, number, f"{field} {COUNT_OUT_OF_RANGE}")
        for name, field, number in (
            ("count_20_digits_number", "HOURLY_PURCHASE_COUNT", "9" * 20),
            ("count_39_digits_number", "DAILY_PURCHASE_COUNT", "1" + "0" * 38),
            ("count_1e40_number", "HOURLY_PURCHASE_COUNT", "1e40"),
        )
    ),
    quarantined(
        "count_double_text_past_the_limit",
        f"HOURLY_PURCHASE_COUNT {COUNT_OUT_OF_RANGE}",
        HOURLY_PURCHASE_COUNT="5.555555555555556e+49",
    ),
    quarantined(
        "count_double_text",
        "malformed DAILY_PURCHASE_COUNT: expected a whole number",
        DAILY_PURCHASE_COUNT="1.000000000000000e+02",
    ),
    quarantined_number("count_negative_50_digits", "DAILY_PURCHASE_COUNT", "-" + "5" * 50, "negative purchase count"),
    loaded("count_18_digits", HOURLY_PURCHASE_COUNT="9" * 18),
    loaded("count_18_digits_zero_padded", DAILY_PURCHASE_COUNT="0" * 20 + "9" * 18),
    # A closed field's value is named in the reason: its first 100 characters and how many more.
    quarantined(
        "status_900kb",
        f"unknown STATUS: MAYBE{'?' * 95}…[{HUGE - 95} more characters]",
        STATUS="MAYBE" + "?" * HUGE,
    ),
    Case("empty_object", "{}", False, "missing USER_ID"),
]
