"""The two kinds of failure the CLI tells apart, and AWS errors turned into sentences a person can act on.

Exit status 2 means "fix the input and run again" (config, options, a refused request such as deleting a
non-empty bucket without --force); 1 means AWS (or the emulator) did not do what was asked.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)

from mobile_events_elt.config import ConfigError

EXIT_OK, EXIT_AWS, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """The request cannot be carried out as given; the message says what to change. Exit status 2."""


class InfrastructureError(Exception):
    """AWS refused or failed an operation in a way the caller cannot fix by retrying as is. Exit status 1."""


def error_code(exc: BaseException) -> str:
    return exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""


def explain(exc: BaseException) -> str:
    """One message for any AWS-side failure: what failed, why, and what to try."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    where = f"the endpoint {endpoint} (AWS_ENDPOINT_URL)" if endpoint else "AWS"
    if isinstance(exc, EndpointConnectionError):
        hint = "is the local emulator running (`make up`)?" if endpoint else "check the network and the region"
        return f"cannot reach {where}: {exc}; {hint}"
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return (
            f"no usable AWS credentials ({exc}); set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY "
            "(for the emulator any value works, e.g. testing/testing)"
        )
    if isinstance(exc, NoRegionError):
        return "no AWS region: set region in config/aws.json or AWS_DEFAULT_REGION"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        operation = getattr(exc, "operation_name", "a request")
        code = error.get("Code", "?")
        hint = ""
        if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
            hint = "; the credentials in use lack this permission"
        elif code in ("InvalidClientTokenId", "UnrecognizedClientException", "ExpiredToken"):
            hint = "; the credentials are invalid or expired"
        return f"{where} refused {operation}: {code}: {error.get('Message', '')}{hint}"
    if isinstance(exc, BotoCoreError):
        return f"AWS client error: {exc}"
    return str(exc)


def run_command(command: Callable[[], int]) -> int:
    """Run a command-line action and turn the failures above into a message on stderr and an exit status."""
    try:
        return command()
    except ConfigError as exc:
        print(f"config error:\n{exc}", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except InfrastructureError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_AWS
    except (ClientError, BotoCoreError) as exc:
        print(f"error: {explain(exc)}", file=sys.stderr)
        return EXIT_AWS
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
