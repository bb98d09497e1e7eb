"""remindkit: humane, compliant loan-repayment reminders in Chinese.

The names below are the public surface (pinned by ``tests/test_public_api.py``); the
subpackages ``remindkit.render``, ``remindkit.lint``, ``remindkit.policy`` and
``remindkit.testing`` expose more for those who need it.
"""

from __future__ import annotations

import logging
from importlib import import_module
from typing import TYPE_CHECKING

from remindkit.errors import (
    ArgumentError,
    ConfigError,
    DeliveryError,
    DeliveryOutcomeUnknownError,
    FeedRowError,
    FieldError,
    InputError,
    MessageStateError,
    OutboxError,
    PermanentDeliveryError,
    ProviderConfigError,
    RemindkitError,
    StoreUnavailableError,
    TemplateBudgetError,
    TemplateError,
    TemplateNotFoundError,
    TemplateSecurityError,
    TemplateSyntaxError,
    TransientDeliveryError,
    UndefinedVariableError,
)
from remindkit.models import Borrower, Channel, Gender, Installment, Platform, Stage, Status

if TYPE_CHECKING:
    from remindkit.config import PlatformSettings, Settings, load_settings
    from remindkit.feed import FeedItem, RejectedRow, read_feed, read_rows
    from remindkit.kit import Kit
    from remindkit.outbox.states import MessageState
    from remindkit.parse import parse_installment
    from remindkit.plan import Plan, PlannedMessage
    from remindkit.providers.base import Envelope, Provider, Receipt
    from remindkit.render import MessageContext, Rendered, SmsLength, measure_sms

# Imported on first use: `remindkit --version` and `remindkit lint` need none of pydantic,
# phonenumbers or the holiday calendars (the CLI is run by cron and a pre-commit hook).
_LAZY = {
    "PlatformSettings": "remindkit.config",
    "Settings": "remindkit.config",
    "load_settings": "remindkit.config",
    "FeedItem": "remindkit.feed",
    "RejectedRow": "remindkit.feed",
    "read_feed": "remindkit.feed",
    "read_rows": "remindkit.feed",
    "Kit": "remindkit.kit",
    "MessageState": "remindkit.outbox.states",
    "Envelope": "remindkit.providers.base",
    "Provider": "remindkit.providers.base",
    "Receipt": "remindkit.providers.base",
    "parse_installment": "remindkit.parse",
    "Plan": "remindkit.plan",
    "PlannedMessage": "remindkit.plan",
    "MessageContext": "remindkit.render",
    "Rendered": "remindkit.render",
    "SmsLength": "remindkit.render",
    "measure_sms": "remindkit.render",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'remindkit' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__version__ = "0.1.0"

# A library never configures logging: without a handler of the application's, remindkit's
# warnings are not printed twice by Python's last-resort handler.
logging.getLogger("remindkit").addHandler(logging.NullHandler())

__all__ = [
    "ArgumentError",
    "Borrower",
    "Channel",
    "ConfigError",
    "DeliveryError",
    "DeliveryOutcomeUnknownError",
    "Envelope",
    "FeedItem",
    "FeedRowError",
    "FieldError",
    "Gender",
    "InputError",
    "Installment",
    "Kit",
    "MessageContext",
    "MessageState",
    "MessageStateError",
    "OutboxError",
    "PermanentDeliveryError",
    "Plan",
    "PlannedMessage",
    "Platform",
    "PlatformSettings",
    "Provider",
    "ProviderConfigError",
    "Receipt",
    "RejectedRow",
    "RemindkitError",
    "Rendered",
    "Settings",
    "SmsLength",
    "Stage",
    "Status",
    "StoreUnavailableError",
    "TemplateBudgetError",
    "TemplateError",
    "TemplateNotFoundError",
    "TemplateSecurityError",
    "TemplateSyntaxError",
    "TransientDeliveryError",
    "UndefinedVariableError",
    "__version__",
    "load_settings",
    "measure_sms",
    "parse_installment",
    "read_feed",
    "read_rows",
]
