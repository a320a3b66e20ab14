"""The bad-input corpus: each record and file case with the outcome it must have."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tests.support.seed import seed_records
from warehouse import contract

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


CASES = [
    Case("valid", record("valid"), True),
    Case("iso_timestamp", record("iso_timestamp", CREATED_AT="2024-01-29T19:39:47"), True),
    Case("null_strings", record("null_strings", PAYMENT_METHOD="Null", EVENT_3="Null"), True),
    Case("json_nulls", record("json_nulls", PAYMENT_METHOD=None, EVENT_3=None), True),
    Case("sql_in_extra_field", record("sql_in_extra_field", NOTE="'); drop table analytics.orders; --"), True),
    Case("non_ascii_extra", record("non_ascii_extra", NOTE="Ciudad de México ✓ 東京 🚀"), True),
    Case("nested_extra", record("nested_extra", CONTEXT={"app": {"version": "1.2.3", "flags": [1, 2]}}), True),
    Case("field_100kb", record("field_100kb", NOTE="x" * 100_000), True),
    Case("count_as_text", record("count_as_text", HOURLY_PURCHASE_COUNT="2"), True),
    Case("no_event_id", json.dumps({**BASE, "CITY": "Puebla", "CREATED_AT": "2024-01-29 08:00:00"}), True),
    # Closed-world rejects before the event contract; descriptive values now load as sent (OPEN_CASES has more).
    Case("unknown_city", record("unknown_city", CITY="Atlantis"), True),
    Case("sql_as_city", record("sql_as_city", CITY="x'; drop table raw.events_raw; --"), True),
    Case("unknown_os", record("unknown_os", OS_USER="BeOS_5"), True),
    Case("lowercase_payment", record("lowercase_payment", PAYMENT_METHOD="paypal"), True),
    *(Case(c.name, c.line, True) for c in OPEN_CASES),
    Case("malformed_json", '{"USER_ID": "b0c9dfbd48", "CITY": ', False, "malformed JSON"),
    Case("json_array", json.dumps([BASE]), False, "not a JSON object"),
    Case("json_number", "12345", False, "not a JSON object"),
    Case("json_string", json.dumps("a string"), False, "not a JSON object"),
    Case("json_null", "null", False, "not a JSON object"),
    Case("missing_user_id", record("missing_user_id", USER_ID=DROP), False, "missing USER_ID"),
    Case("empty_user_id", record("empty_user_id", USER_ID=""), False, "malformed USER_ID"),
    Case("null_user_id", record("null_user_id", USER_ID=None), False, "missing USER_ID"),
    Case("numeric_user_id", record("numeric_user_id", USER_ID=1234567890), False, "malformed USER_ID"),
    Case("uppercase_user_id", record("uppercase_user_id", USER_ID="B0C9DFBD48"), False, "malformed USER_ID"),
    Case("missing_created_at", record("missing_created_at", CREATED_AT=DROP), False, "missing CREATED_AT"),
    Case("garbage_created_at", record("garbage_created_at", CREATED_AT="yesterday"), False, "unparseable CREATED_AT"),
    Case("impossible_date", record("impossible_date", CREATED_AT="2024-02-30 10:00:00"), False, "unparseable"),
    Case(
        "offset_without_colon",
        record("offset_without_colon", CREATED_AT="2024-01-29T19:39:47+0530"),
        False,
        "unparseable",
    ),
    Case("minutes_only", record("minutes_only", CREATED_AT="2024-01-29 19:39"), False, "unparseable"),
    Case("impossible_hour_z", record("impossible_hour_z", CREATED_AT="2024-01-29T25:00:00Z"), False, "unparseable"),
    Case("created_at_number", record("created_at_number", CREATED_AT=1706557187), False, "unparseable"),
    Case("far_future", record("far_future", CREATED_AT="2999-01-01 00:00:00"), False, "CREATED_AT out of range"),
    Case(
        "far_future_iso",
        record("far_future_iso", CREATED_AT="2999-01-01T00:00:00+14:00"),
        False,
        "CREATED_AT out of range: must be from 2000-01-01T00:00:00Z to 24 hours ahead of the run (UTC)",
    ),
    # Past each end of the range. Year 1 at +14:00 is year 0 in UTC: loaded, with a new city it broke the
    # drift report (the connector cannot read year 0 back) and with it every run's checks.
    Case(
        "year_1_east_of_utc",
        record("year_1_east_of_utc", CREATED_AT="0001-01-01T00:30:00+14:00", CITY="Atlantis of year 0"),
        False,
        "CREATED_AT out of range",
    ),
    Case("year_0", record("year_0", CREATED_AT="0000-01-01 00:00:00"), False, "CREATED_AT out of range"),
    Case("before_range", record("before_range", CREATED_AT="1999-12-31 23:59:59"), False, "CREATED_AT out of range"),
    Case(
        "before_range_by_zone",
        record("before_range_by_zone", CREATED_AT="2000-01-01T00:30:00+01:00"),
        False,
        "CREATED_AT out of range",
    ),
    Case(
        "past_a_day_ahead",
        record("past_a_day_ahead", CREATED_AT=f"{PAST_A_DAY:%Y-%m-%dT%H:%M:%SZ}"),
        False,
        "CREATED_AT out of range",
    ),
    Case(
        "year_10000_in_utc",
        record("year_10000_in_utc", CREATED_AT="9999-12-31T23:59:59-14:00"),
        False,
        "CREATED_AT out of range",
    ),
    Case("latitude_text", record("latitude_text", LATITUDE="north"), False, "non-numeric LATITUDE"),
    Case("missing_longitude", record("missing_longitude", LONGITUDE=DROP), False, "LATITUDE/LONGITUDE"),
    Case("latitude_out_of_range", record("latitude_out_of_range", LATITUDE=123.4), False, "out of range"),
    Case("longitude_out_of_range", record("longitude_out_of_range", LONGITUDE=-200.0), False, "out of range"),
    # What a FLOAT cannot hold as sent, and what engines convert differently: never converted, quarantined.
    *(
        Case(f"latitude_{name}", record(f"latitude_{name}", LATITUDE=text), False, "non-numeric LATITUDE")
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
    Case("longitude_nan", record("longitude_nan", LONGITUDE="nan"), False, "non-numeric LATITUDE/LONGITUDE"),
    *(
        Case(f"latitude_{name}", record(f"latitude_{name}", LATITUDE=text), False, "LATITUDE/LONGITUDE out of range")
        for name, text in {
            "1e999": "1e999",
            "1e_minus_999": "1e-999",
            "41_characters": "19.4326" + "0" * 34,
        }.items()
    ),
    Case(
        "longitude_raw_1e300",
        with_raw_number("longitude_raw_1e300", "LONGITUDE", "1e300"),
        False,
        "LATITUDE/LONGITUDE out of range: more than 40 characters or a 3-digit exponent",
    ),
    Case("latitude_exponent", record("latitude_exponent", LATITUDE="1.94326e1"), True),
    # A double as Snowflake writes it as text: 17 significant digits and a signed 2-digit exponent.
    Case("latitude_double_text", record("latitude_double_text", LATITUDE="1.943260000000000e+01"), True),
    Case("city_number", record("city_number", CITY=42), False, "malformed CITY: must be a JSON string"),
    Case("os_object", record("os_object", OS_USER={"name": "iOS"}), False, "malformed OS_USER"),
    Case("device_list", record("device_list", DEVICE_MODEL=["Pixel"]), False, "malformed DEVICE_MODEL"),
    Case("payment_boolean", record("payment_boolean", PAYMENT_METHOD=True), False, "malformed PAYMENT_METHOD"),
    Case("status_number", record("status_number", STATUS=1), False, "malformed STATUS"),
    Case("unknown_status", record("unknown_status", STATUS="MAYBE"), False, "unknown STATUS: MAYBE"),
    Case("lowercase_status", record("lowercase_status", STATUS="completed"), False, "unknown STATUS: completed"),
    Case("unknown_order_type", record("unknown_order_type", ORDER_TYPE="REFUND"), False, "unknown ORDER_TYPE"),
    Case("sql_order_type", record("sql_order_type", ORDER_TYPE="x' or '1'='1"), False, "unknown ORDER_TYPE"),
    Case("missing_order_type", record("missing_order_type", ORDER_TYPE=DROP), False, "missing ORDER_TYPE"),
    Case("null_status", record("null_status", STATUS="Null"), False, "missing STATUS"),
    Case("negative_count", record("negative_count", DAILY_PURCHASE_COUNT=-1), False, "negative purchase count"),
    Case(
        "count_garbage", record("count_garbage", HOURLY_PURCHASE_COUNT="two"), False, "malformed HOURLY_PURCHASE_COUNT"
    ),
    Case("count_fraction", record("count_fraction", DAILY_PURCHASE_COUNT=1.5), False, "malformed DAILY_PURCHASE_COUNT"),
    # Past the contract's 18 digits (NUMBER(38,0) on Snowflake, BIGINT on the emulator; past 38 digits
    # TRY_TO_NUMBER gives NULL): quarantined instead, as text and as a JSON number.
    Case(
        "count_50_digits",
        record("count_50_digits", HOURLY_PURCHASE_COUNT="5" * 50),
        False,
        "HOURLY_PURCHASE_COUNT out of range: more than 18 digits",
    ),
    Case(
        "count_19_digits",
        record("count_19_digits", DAILY_PURCHASE_COUNT="1" + "0" * 18),
        False,
        "DAILY_PURCHASE_COUNT out of range: more than 18 digits",
    ),
    Case(
        "count_20_digits_number",
        with_raw_number("count_20_digits_number", "HOURLY_PURCHASE_COUNT", "9" * 20),
        False,
        "HOURLY_PURCHASE_COUNT out of range: more than 18 digits",
    ),
    Case(
        "count_39_digits_number",
        with_raw_number("count_39_digits_number", "DAILY_PURCHASE_COUNT", "1" + "0" * 38),
        False,
        "DAILY_PURCHASE_COUNT out of range: more than 18 digits",
    ),
    Case(
        "count_1e40_number",
        with_raw_number("count_1e40_number", "HOURLY_PURCHASE_COUNT", "1e40"),
        False,
        "HOURLY_PURCHASE_COUNT out of range: more than 18 digits",
    ),
    Case(
        "count_double_text_past_the_limit",
        record("count_double_text_past_the_limit", HOURLY_PURCHASE_COUNT="5.555555555555556e+49"),
        False,
        "HOURLY_PURCHASE_COUNT out of range: more than 18 digits",
    ),
    Case(
        "count_double_text",
        record("count_double_text", DAILY_PURCHASE_COUNT="1.000000000000000e+02"),
        False,
        "malformed DAILY_PURCHASE_COUNT: expected a whole number",
    ),
    Case(
        "count_negative_50_digits",
        with_raw_number("count_negative_50_digits", "DAILY_PURCHASE_COUNT", "-" + "5" * 50),
        False,
        "negative purchase count",
    ),
    Case("count_18_digits", record("count_18_digits", HOURLY_PURCHASE_COUNT="9" * 18), True),
    Case(
        "count_18_digits_zero_padded",
        record("count_18_digits_zero_padded", DAILY_PURCHASE_COUNT="0" * 20 + "9" * 18),
        True,
    ),
    # A closed field's value is named in the reason: its first 100 characters and how many more.
    Case(
        "status_900kb",
        record("status_900kb", STATUS="MAYBE" + "?" * HUGE),
        False,
        f"unknown STATUS: MAYBE{'?' * 95}…[{HUGE - 95} more characters]",
    ),
    Case("empty_object", "{}", False, "missing USER_ID"),
]
