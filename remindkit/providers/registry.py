"""Which providers exist: the built-in ones and those other packages register (SPEC §6.5).

A lender adds its own gateway without forking remindkit by declaring an entry point::

    [project.entry-points."remindkit.providers"]
    acme-sms = "acme_gateway:AcmeSmsProvider"

and naming it in the config (``[providers] sms = "acme-sms"``). A name that is not
installed, or whose module fails to import, is a :class:`ConfigError` naming the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import import_module, metadata
from typing import Any

from pydantic import ValidationError

from remindkit.config_errors import first_error
from remindkit.errors import ConfigError
from remindkit.providers.base import Provider

GROUP = "remindkit.providers"
# Also declared as entry points in pyproject.toml; listed here so a source checkout that
# was never installed still finds them.
BUILTIN = {
    "console": "remindkit.providers.console:ConsoleProvider",
    "fcm": "remindkit.providers.fcm:FcmProvider",
    "file": "remindkit.providers.file:FileProvider",
    "http": "remindkit.providers.http:HttpProvider",
    "twilio": "remindkit.providers.twilio:TwilioProvider",
    "recording": "remindkit.testing:RecordingProvider",
}


@cache
def available() -> Mapping[str, str]:
    """Provider name → ``module:attribute``, built-ins first, then installed entry points."""
    found = dict(BUILTIN)
    for entry in metadata.entry_points(group=GROUP):
        found.setdefault(entry.name, entry.value)
    return found


def check_name(name: str, key: str) -> None:
    """Raise :class:`ConfigError` on ``key`` unless a provider ``name`` is installed."""
    if name not in available():
        installed = ", ".join(sorted(available()))
        raise ConfigError(key, f"unknown provider {name!r} (installed: {installed})")


def load(name: str, key: str) -> type[Provider]:
    """The provider class registered as ``name``; import problems name ``key``."""
    check_name(name, key)
    target = available()[name]
    module_name, _, attribute = target.partition(":")
    try:
        value: Any = import_module(module_name)
        for part in attribute.split("."):
            value = getattr(value, part)
    except Exception as exc:  # any import-time failure of a plugin is the operator's to fix
        raise ConfigError(
            key, f"provider {name!r} ({target}) failed to import: {type(exc).__name__}: {exc}"
        ) from exc
    if not (isinstance(value, type) and issubclass(value, Provider)):
        raise ConfigError(key, f"provider {name!r} ({target}) is not a remindkit Provider")
    return value


def build(name: str, options: Mapping[str, Any], key: str) -> Provider:
    """An instance of provider ``name`` with its ``[providers.<name>]`` options validated."""
    cls = load(name, key)
    try:
        parsed = cls.Options.model_validate(dict(options))
    except ValidationError as exc:
        error = first_error(exc, cls.Options)
        where = f"providers.{name}" + (f".{error.key}" if error.key else "")
        raise ConfigError(where, error.reason) from None
    try:
        return cls(parsed)
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(
            f"providers.{name}", f"cannot start provider: {type(exc).__name__}: {exc}"
        ) from exc
