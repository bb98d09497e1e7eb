"""remindkit: humane, compliant loan-repayment reminders in Chinese.

The names below are the public surface (pinned by ``tests/test_public_api.py``); the
subpackages ``remindkit.render``, ``remindkit.lint``, ``remindkit.policy`` and
``remindkit.testing`` expose more for those who need it.
"""

from __future__ import annotations

import logging

from remindkit.config import PlatformSettings, Settings, load_settings
from remindkit.errors import (
    ArgumentError,
    ConfigError,
    DeliveryError,
    FeedRowError,
    FieldError,
    InputError,
    PermanentDeliveryError,
    ProviderConfigError,
    RemindkitError,
    TemplateBudgetError,
    TemplateError,
    TemplateNotFoundError,
    TemplateSecurityError,
    TemplateSyntaxError,
    TransientDeliveryError,
    UndefinedVariableError,
)
from remindkit.feed import FeedItem, RejectedRow, read_feed, read_rows
from remindkit.kit import Kit
from remindkit.models import Borrower, Channel, Gender, Installment, Platform, Stage, Status
from remindkit.parse import parse_installment
from remindkit.plan import Plan, PlannedMessage
from remindkit.render import MessageContext, Rendered, SmsLength, measure_sms

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
    "FeedItem",
    "FeedRowError",
    "FieldError",
    "Gender",
    "InputError",
    "Installment",
    "Kit",
    "MessageContext",
    "PermanentDeliveryError",
    "Plan",
    "PlannedMessage",
    "Platform",
    "PlatformSettings",
    "ProviderConfigError",
    "RejectedRow",
    "RemindkitError",
    "Rendered",
    "Settings",
    "SmsLength",
    "Stage",
    "Status",
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
