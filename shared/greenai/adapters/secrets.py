"""Provider credentials read at run time from SSM Parameter Store (SecureString) or Secrets Manager, via Powertools.

Settings hold only a reference — `ssm:/greenai/electricitymaps-token` or `secretsmanager:greenai/watttime` — never
the secret itself; values are cached for five minutes by Powertools.
"""

from __future__ import annotations

import json
from typing import Any

from greenai.adapters.http_json import ProviderError

CACHE_SECONDS = 300


def read_secret(reference: str) -> str:
    from aws_lambda_powertools.utilities import parameters

    kind, _, name = reference.partition(":")
    try:
        if kind == "ssm":
            value = parameters.get_parameter(name, decrypt=True, max_age=CACHE_SECONDS)
        elif kind == "secretsmanager":
            value = parameters.get_secret(name, max_age=CACHE_SECONDS)
        else:
            raise ProviderError(f"credential reference {reference!r} must start with ssm: or secretsmanager:")
    except parameters.exceptions.GetParameterError as exc:
        raise ProviderError(f"cannot read credential {reference!r}: {exc}") from None
    if not isinstance(value, str) or not value:
        raise ProviderError(f"credential {reference!r} is empty")
    return value


def read_json_secret(reference: str, *fields: str) -> dict[str, Any]:
    raw = read_secret(reference)
    try:
        data = json.loads(raw)
    except ValueError:
        raise ProviderError(f"credential {reference!r} is not a JSON object with {', '.join(fields)}") from None
    missing = [f for f in fields if not isinstance(data, dict) or not data.get(f)]
    if missing:
        raise ProviderError(f"credential {reference!r} lacks {', '.join(missing)}")
    return data  # type: ignore[no-any-return]
