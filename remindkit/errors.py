"""Every exception remindkit raises, arranged by what the caller should do.

::

    RemindkitError                    base of everything below
    ├── ArgumentError                 a value passed to a remindkit function is wrong (names the
    │                                 argument); also a ValueError, as Python callers expect
    ├── ConfigError                   stop and tell the operator (names the config key)
    ├── InputError                    the data is wrong: fix it, the rest of the work goes on
    │   ├── FieldError                one field of a context or feed row (names the field)
    │   ├── FeedRowError              one feed row (row number + field)
    │   └── UnsafePathError           a path that leaves its directory (`..`, absolute, symlink)
    ├── TemplateError                 a template is wrong: the content team fixes it
    │   ├── TemplateNotFoundError     unknown template id (with close matches)
    │   ├── TemplateSyntaxError       Jinja syntax or metadata block (template + line)
    │   ├── UndefinedVariableError    a name the context does not have (template + line)
    │   └── TemplateSecurityError     sandbox violation: internals, huge ranges, ...
    │       └── TemplateBudgetError   a render budget hit: value size, output, CPU time …
    ├── OutboxError                   the outbox store
    │   ├── StoreUnavailableError     the database cannot be used (corrupt, locked, down,
    │   │                             newer schema): stop, fix the store; nothing was sent
    │   └── MessageStateError         no such message, or it cannot make that transition
    └── DeliveryError                 a provider call failed
        ├── TransientDeliveryError    certainly not accepted: retry later
        ├── PermanentDeliveryError    refused for good: do not retry, fall back (a
        │                             recipient refusal also flags the contact)
        ├── DeliveryOutcomeUnknownError  the request may have reached the provider: mark
        │                             ``unknown``, never re-send automatically (SPEC §6.3)
        └── ProviderConfigError       bad credentials/settings: stop the provider, alert

Lower-level errors (Jinja, pydantic, phonenumbers, SDKs) are mapped at the boundary with
``raise ... from exc`` so ``__cause__`` keeps the original. A public entry point raises only
these (or ``TypeError`` for an argument of the wrong type).
"""

from __future__ import annotations


class RemindkitError(Exception):
    """Base class of every remindkit error."""


class ArgumentError(RemindkitError, ValueError):
    """A value passed to a remindkit function is wrong; ``argument`` names it (``at``, ``days``)."""

    def __init__(self, argument: str, reason: str) -> None:
        self.argument = argument
        self.reason = reason
        super().__init__(f"{argument}: {reason}")


class ConfigError(RemindkitError):
    """The configuration is invalid; ``key`` is the dotted path of the offending setting."""

    def __init__(self, key: str, reason: str) -> None:
        self.key = key
        self.reason = reason
        super().__init__(f"{key}: {reason}" if key else reason)


class InputError(RemindkitError):
    """Input data (a context file, a feed row) is invalid."""


class FieldError(InputError):
    """One field is missing or has a bad value; ``field`` is e.g. ``borrower.phone``."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class FeedRowError(InputError):
    """One feed row is rejected; ``row`` is the 1-based data row number."""

    def __init__(self, row: int, field: str, reason: str) -> None:
        self.row = row
        self.field = field
        self.reason = reason
        super().__init__(f"row {row}: {field}: {reason}")


class UnsafePathError(InputError):
    """A requested path is refused: it is absolute, climbs out with ``..``, or resolves
    (through a symlink) outside the directory it must stay in."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class TemplateError(RemindkitError):
    """A template cannot be loaded or rendered."""

    def __init__(self, template_id: str, message: str, line: int | None = None) -> None:
        self.template_id = template_id
        self.line = line
        self.message = message
        where = f"{template_id}:{line}" if line else template_id
        super().__init__(f"{where}: {message}")


class TemplateNotFoundError(TemplateError):
    """No template has this id; ``suggestions`` lists close matches."""

    def __init__(self, template_id: str, suggestions: list[str]) -> None:
        self.suggestions = suggestions
        hint = f" (did you mean: {', '.join(suggestions)}?)" if suggestions else ""
        super().__init__(template_id, f"unknown template id{hint}")


class TemplateSyntaxError(TemplateError):
    """The template (or its metadata block) does not parse."""


class UndefinedVariableError(TemplateError):
    """The template reads a variable the context does not define."""

    def __init__(self, template_id: str, variable: str, line: int | None) -> None:
        self.variable = variable
        super().__init__(template_id, f"undefined variable '{variable}'", line)


class TemplateSecurityError(TemplateError):
    """The template tried something the sandbox forbids."""


class TemplateBudgetError(TemplateSecurityError):
    """A render went over one of its budgets; ``budget`` names it (``value size``,
    ``values built``, ``number size``, ``loop steps``, ``output size``, ``CPU time``,
    ``template size``, ``nesting``, ``memory``), see :mod:`remindkit.render.budget`."""

    def __init__(
        self, template_id: str, budget: str, message: str, line: int | None = None
    ) -> None:
        self.budget = budget
        super().__init__(template_id, message, line)


class DeliveryError(RemindkitError):
    """A provider could not deliver a message."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        self.code = code
        super().__init__(message)


class TransientDeliveryError(DeliveryError):
    """The provider certainly did not accept the message; retrying later is safe."""

    def __init__(
        self, message: str, *, code: str | None = None, retry_after: float | None = None
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, code=code)


class PermanentDeliveryError(DeliveryError):
    """The provider refused the message for good; do not retry, fall back to the next channel.

    ``recipient=True`` (the usual case: an invalid number, an unregistered push token) also
    flags the contact, so later messages skip it; ``recipient=False`` is a refusal of this
    message alone (its content, an unlisted gateway code): the contact stays usable.
    """

    def __init__(self, message: str, *, code: str | None = None, recipient: bool = True) -> None:
        self.recipient = recipient
        super().__init__(message, code=code)


class ProviderConfigError(DeliveryError):
    """The provider is misconfigured (credentials, sender); stop it and alert the operator."""


class DeliveryOutcomeUnknownError(DeliveryError):
    """The request may have reached the provider (a timeout after sending, a 5xx): the
    message is marked ``unknown`` for a human and never re-sent automatically (SPEC §6.3)."""


class OutboxError(RemindkitError):
    """The outbox store cannot do what was asked."""


class StoreUnavailableError(OutboxError):
    """The outbox database cannot be used: not a database, locked past the busy timeout,
    unreachable, or at a schema newer than this remindkit. Nothing was sent."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"outbox {url}: {reason}")


class MessageStateError(OutboxError):
    """No message has this key, or it cannot make the requested transition."""

    def __init__(self, key: str, reason: str) -> None:
        self.key = key
        self.reason = reason
        super().__init__(f"message {key}: {reason}")
