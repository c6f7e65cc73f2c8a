"""Secret-backed settings: on AWS the keys live in Secrets Manager, locally in the environment.

The environment names secrets by ARN, and `resolve_secret_settings` turns them into the plain
setting names config.py reads (TELEGRAM_BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET, OPENAI_API_KEY,
RUNWAYML_API_SECRET, DATABASE_URL, ...):

- ``<NAME>_SECRET_ARN``: a secret holding the one setting NAME, as a plain string or as JSON
  with a NAME key (``TELEGRAM_BOT_TOKEN_SECRET_ARN``, ``OPENAI_API_KEY_SECRET_ARN``,
  ``RUNWAYML_API_SECRET_SECRET_ARN``, ``TELEGRAM_WEBHOOK_SECRET_SECRET_ARN``,
  ``DATABASE_URL_SECRET_ARN``). One secret per vendor, so a function is told of, and may read,
  only the keys of the vendors it calls (template.yaml).
- ``DATABASE_SECRET_ARN``: an RDS-style secret ``{"username", "password"[, "host", "port",
  "dbname"]}``; ``DATABASE_HOST``, ``DATABASE_PORT`` and ``DATABASE_NAME`` fill what it lacks.
  It becomes ``DATABASE_URL`` (with ``sslmode=require``).

A value set directly in the environment wins, so a local run or a test never needs AWS.
Secrets are read with Powertools Parameters and cached for five minutes. No value is ever
logged or put into an error message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import quote

from videobot.errors import ConfigurationError

DATABASE_SECRET_ENV = "DATABASE_SECRET_ARN"
SECRET_ARN_SUFFIX = "_SECRET_ARN"
CACHE_SECONDS = 300


def _fetch(secret_id: str, env_name: str) -> str:
    from aws_lambda_powertools.utilities import parameters

    try:
        value: str | bytes = parameters.get_secret(secret_id, max_age=CACHE_SECONDS)
    except Exception as exc:  # noqa: BLE001 - GetParameterError and botocore errors; their text has no secret value
        raise ConfigurationError(f"cannot read the secret named by {env_name}: {type(exc).__name__}") from None
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    return value


def _json_object(text: str, env_name: str) -> dict:
    try:
        data = json.loads(text)
    except ValueError:
        raise ConfigurationError(f"the secret named by {env_name} is not a JSON object") from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"the secret named by {env_name} is not a JSON object")
    return data


def _set(values: dict[str, str], name: str, value: object) -> None:
    if value is None or value == "":
        return
    values[name] = str(value)


def database_url_from_secret(secret: Mapping, environ: Mapping[str, str]) -> str:
    host = secret.get("host") or environ.get("DATABASE_HOST")
    port = secret.get("port") or environ.get("DATABASE_PORT") or 5432
    name = secret.get("dbname") or environ.get("DATABASE_NAME") or "postgres"
    user, password = secret.get("username"), secret.get("password")
    if not (host and user and password):
        raise ConfigurationError("the database secret needs username and password, and DATABASE_HOST or a host key")
    return (
        f"postgresql://{quote(str(user), safe='')}:{quote(str(password), safe='')}"
        f"@{host}:{port}/{quote(str(name), safe='')}?sslmode=require"
    )


def resolve_secret_settings(environ: Mapping[str, str]) -> dict[str, str]:
    """The settings that secrets provide, by their environment names. Plain environment values
    are left to the caller, which lets them win."""
    values: dict[str, str] = {}
    for env_name, arn in environ.items():
        if not env_name.endswith(SECRET_ARN_SUFFIX) or not arn or env_name == DATABASE_SECRET_ENV:
            continue
        name = env_name[: -len(SECRET_ARN_SUFFIX)]
        if environ.get(name):
            continue  # the plain value wins; do not even fetch
        text = _fetch(arn, env_name)
        if text.lstrip().startswith("{"):
            _set(values, name, _json_object(text, env_name).get(name))
        else:
            _set(values, name, text)
    db_arn = environ.get(DATABASE_SECRET_ENV)
    if db_arn and not environ.get("DATABASE_URL") and "DATABASE_URL" not in values:
        secret = _json_object(_fetch(db_arn, DATABASE_SECRET_ENV), DATABASE_SECRET_ENV)
        values["DATABASE_URL"] = database_url_from_secret(secret, environ)
    return values
