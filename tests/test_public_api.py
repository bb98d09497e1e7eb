"""The public surface is deliberate: adding or removing a name is a visible change."""

from __future__ import annotations

import types
import typing

import remindkit
import remindkit.render

EXPECTED = {
    "ArgumentError", "FeedItem", "PlatformSettings", "read_rows",
    "TemplateBudgetError",
    "DeliveryOutcomeUnknownError", "MessageStateError", "OutboxError", "StoreUnavailableError",
    "MessageState", "Envelope", "Provider", "Receipt",
    "Borrower", "Channel", "ConfigError", "DeliveryError", "FeedRowError", "FieldError",
    "Gender", "InputError", "Installment", "Kit", "MessageContext", "PermanentDeliveryError",
    "Plan", "PlannedMessage", "Platform", "ProviderConfigError", "RejectedRow",
    "RemindkitError", "Rendered", "Settings", "SmsLength", "Stage", "Status", "TemplateError",
    "TemplateNotFoundError", "TemplateSecurityError", "TemplateSyntaxError",
    "TransientDeliveryError", "UndefinedVariableError", "__version__", "load_settings",
    "measure_sms", "parse_installment", "read_feed",
}  # fmt: skip


def test_all_is_pinned() -> None:
    assert set(remindkit.__all__) == EXPECTED
    assert len(remindkit.__all__) == len(EXPECTED)


def test_every_exported_name_exists_and_belongs_to_remindkit() -> None:
    for name in remindkit.__all__:
        value = getattr(remindkit, name)
        members = typing.get_args(value) if isinstance(value, types.UnionType) else (value,)
        for member in members:  # FeedItem is Installment | RejectedRow
            module = getattr(member, "__module__", "remindkit")
            assert module.startswith("remindkit"), name


def test_render_package_exports_exist() -> None:
    for name in remindkit.render.__all__:
        assert hasattr(remindkit.render, name), name


def test_error_tree_tells_the_caller_what_to_do() -> None:
    assert issubclass(remindkit.FieldError, remindkit.InputError)
    assert issubclass(remindkit.FeedRowError, remindkit.InputError)
    assert issubclass(remindkit.UndefinedVariableError, remindkit.TemplateError)
    assert issubclass(remindkit.TemplateSecurityError, remindkit.TemplateError)
    assert issubclass(remindkit.TemplateBudgetError, remindkit.TemplateSecurityError)
    assert issubclass(remindkit.TransientDeliveryError, remindkit.DeliveryError)
    assert issubclass(remindkit.ProviderConfigError, remindkit.DeliveryError)
    assert not issubclass(remindkit.ConfigError, remindkit.DeliveryError)
    for name in remindkit.__all__:
        value = getattr(remindkit, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, remindkit.RemindkitError), name
