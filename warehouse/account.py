"""The values the account setup files take (``&{name}`` in sql/setup/account/), each checked by the rule for its kind.

Snowflake binds no parameters in DDL, so every value is checked here and written into the SQL only in a
form that cannot leave its place: identifiers, a quoted ARN/bucket/folder, IPv4 networks, a base64 key.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Mapping

from mobile_events_elt.config.identifiers import IdentifierError, account_variables, identifier

# What the files need beyond warehouse, database, role, integration, role_arn, bucket and landing_prefix.
SERVICE_USER_VARIABLES = ("user", "network_policy", "public_key", "allowed_ip_list")
# The read-only role and its service user (the health page and the static report).
READ_ONLY_VARIABLES = ("read_role", "read_user", "read_public_key")
# The roles Snowflake defines: the pipeline's roles are created by the setup, never one of these.
SYSTEM_ROLES = frozenset({"ACCOUNTADMIN", "ORGADMIN", "SECURITYADMIN", "USERADMIN", "SYSADMIN", "PUBLIC"})
MIN_RSA_BITS = 2048
# DER of AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL }.
_RSA_ALGORITHM = bytes.fromhex("300d06092a864886f70d0101010500")


def setup_variables(values: Mapping[str, object]) -> dict[str, str]:
    """Validate every account variable; return them as the SQL files take them."""
    known = {"warehouse", "database", "role", "integration", "role_arn", "bucket", "landing_prefix"}
    unknown = sorted(set(values) - known - set(SERVICE_USER_VARIABLES) - set(READ_ONLY_VARIABLES))
    if unknown:
        raise IdentifierError(f"unknown account variable(s) {', '.join(unknown)}")
    checked = account_variables(dict(values))
    _not_a_system_role(checked["role"], "role")
    prefix = checked["landing_prefix"]
    if prefix.startswith("/") or (prefix and not prefix.endswith("/")) or "//" in prefix:
        raise IdentifierError(
            f"account variable landing_prefix={prefix!r} must be the landing folder, ending in '/' (e.g. 'landing/')"
        )
    checked["user"] = identifier(_text(values, "user"), "account variable user")
    checked["network_policy"] = identifier(_text(values, "network_policy"), "account variable network_policy")
    checked["public_key"] = rsa_public_key(_text(values, "public_key"))
    checked["allowed_ip_list"] = ip_list(values.get("allowed_ip_list"))
    checked.update(_read_only(values, checked))
    return checked


def _read_only(values: Mapping[str, object], checked: Mapping[str, str]) -> dict[str, str]:
    """The read-only role, its user and its key: each its own, so the page's identity can never write."""
    read = {
        "read_role": identifier(_text(values, "read_role"), "account variable read_role"),
        "read_user": identifier(_text(values, "read_user"), "account variable read_user"),
        "read_public_key": rsa_public_key(_text(values, "read_public_key"), "read_public_key"),
    }
    _not_a_system_role(read["read_role"], "read_role")
    # Unquoted identifiers are case-insensitive; a key's base64 body is not.
    same = {
        "role": read["read_role"].upper() == checked["role"].upper(),
        "user": read["read_user"].upper() == checked["user"].upper(),
        "public_key": read["read_public_key"] == checked["public_key"],
    }
    for other, equal in same.items():
        if equal:
            raise IdentifierError(
                f"account variable read_{other} must differ from {other}: the read-only identity is its own"
            )
    return read


def _not_a_system_role(role: str, name: str) -> None:
    if role.upper() in SYSTEM_ROLES:
        raise IdentifierError(f"account variable {name}={role!r} is a system role: name a role of the pipeline's own")


def _text(values: Mapping[str, object], name: str) -> str:
    value = values.get(name)
    if not isinstance(value, str):
        raise IdentifierError(f"account variable {name} is missing or not text")
    return value


def rsa_public_key(text: str, name: str = "public_key") -> str:
    """The base64 body of an RSA public key of at least 2048 bits, as RSA_PUBLIC_KEY takes it.

    Accepts the PEM file `openssl rsa -pubout` writes, or its body alone.
    """
    lines = [line.strip() for line in text.strip().splitlines()]
    if lines and lines[0] == "-----BEGIN PUBLIC KEY-----" and lines[-1] == "-----END PUBLIC KEY-----":
        lines = lines[1:-1]
    body = "".join(lines)
    try:
        der = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        der = b""
    bits = _rsa_modulus_bits(der) if der else 0
    if bits < MIN_RSA_BITS:
        raise IdentifierError(
            f"account variable {name} is not an RSA public key of at least 2048 bits "
            "(the body of the PEM file `openssl rsa -in rsa_key.p8 -pubout` writes; never the private key)"
        )
    return body


def _rsa_modulus_bits(der: bytes) -> int:
    """Bits of the modulus of a DER SubjectPublicKeyInfo holding an RSA key; 0 when it is anything else."""
    try:
        spki, rest = _read(der, 0x30)
        algorithm_len = len(_RSA_ALGORITHM)
        if rest or spki[:algorithm_len] != _RSA_ALGORITHM:
            return 0
        bit_string, rest = _read(spki[algorithm_len:], 0x03)
        if rest or bit_string[:1] != b"\x00":
            return 0
        rsa_key, rest = _read(bit_string[1:], 0x30)
        modulus, _ = _read(rsa_key, 0x02)
        return int.from_bytes(modulus, "big").bit_length() if not rest else 0
    except ValueError:
        return 0


def _read(data: bytes, tag: int) -> tuple[bytes, bytes]:
    """One DER element with the given tag: (its content, what follows it)."""
    if len(data) < 2 or data[0] != tag:
        raise ValueError("unexpected DER element")
    length, start = data[1], 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or len(data) < 2 + count:
            raise ValueError("bad DER length")
        length, start = int.from_bytes(data[2 : 2 + count], "big"), 2 + count
    if len(data) < start + length:
        raise ValueError("truncated DER")
    return data[start : start + length], data[start + length :]


def ip_list(value: object) -> str:
    """A network policy's ALLOWED_IP_LIST from a list of IPv4 addresses or CIDR ranges, as quoted literals."""
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise IdentifierError("account variable allowed_ip_list must be a non-empty list of IPv4 addresses or ranges")
    networks = []
    for text in value:
        try:
            network = ipaddress.IPv4Network(text, strict=True)
        except ValueError as exc:
            raise IdentifierError(
                f"account variable allowed_ip_list: {text!r} is not an IPv4 address or range: {exc}"
            ) from None
        if network.prefixlen == 0:
            raise IdentifierError("account variable allowed_ip_list: 0.0.0.0/0 lets every address in")
        networks.append(f"'{network}'")
    return ", ".join(networks)
