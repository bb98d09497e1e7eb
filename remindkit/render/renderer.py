"""Render a template for one message context (SPEC §4.2): sandboxed, strict, normalised.

``Renderer.render`` is on the hot path of planning previews, linting and dispatch: compiled
templates, sandbox checks and filter results are cached, and the per-render work is
building a small variable mapping and running the compiled template.
"""

from __future__ import annotations

import decimal
import re
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from types import TracebackType
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError

from remindkit.errors import (
    ArgumentError,
    TemplateBudgetError,
    TemplateError,
    TemplateSecurityError,
    TemplateSyntaxError,
    UndefinedVariableError,
)
from remindkit.models import Channel, Installment, Platform, Stage, require_aware, zone_for
from remindkit.render.bounded_filters import FilterArgumentError
from remindkit.render.budget import (
    MAX_NESTING,
    MAX_OUTPUT,
    MAX_TEMPLATE_BYTES,
    BudgetExceededError,
)
from remindkit.render.catalog import DEFAULT_LOCALE, TemplateCatalog, TemplateFile
from remindkit.render.names import honorific_of, surname_of
from remindkit.render.sandbox import (
    ReminderSandbox,
    build_environment,
    check_template,
    deepest,
    may_show_phone,
)
from remindkit.render.segments import SmsLength, measure_sms

PUSH_BLOCKS = ("title", "body")
_UNDEFINED_NAME = re.compile(r"\A'(.+)' is undefined\Z", re.DOTALL)
_SPACES = re.compile(r"[ \t\u3000]+")
_LATIN = frozenset(string.ascii_letters + string.digits)
# A line ending in a Latin word or its punctuation, followed by a Latin word: the break
# stood for a space ("Hi,\nthere" → "Hi, there"). Chinese text joins without one.
_SPACE_AFTER = _LATIN | frozenset(",.;:!?)")


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageContext:
    """What one message is about: the borrower's installments (one, or several when
    consolidated, §5.5), the moment of rendering, and the stage (derived if ``None``).

    Templates see the installments as ``loans`` ordered by due date, and the earliest due
    as ``loan``, whatever the order here.
    """

    installments: tuple[Installment, ...]
    now: datetime
    stage: Stage | None = None

    def __post_init__(self) -> None:
        if not self.installments:
            raise ArgumentError("installments", "a message context needs at least one installment")
        require_aware(self.now, "now")


@dataclass(frozen=True, slots=True, kw_only=True)
class Rendered:
    """A rendered message: what the phone shows in ``text`` — an SMS with its signature, or
    a push's title and body on two lines — and for a push ``title`` and ``body`` apart."""

    template_id: str
    group_id: str
    channel: Channel
    locale: str
    variant: str
    text: str
    title: str | None = None
    body: str | None = None
    length: SmsLength | None = None

    def as_dict(self) -> dict[str, Any]:
        """The preview's JSON (SPEC §9): ``text`` and its length for an SMS; ``title`` and
        ``body`` for a push, without ``chars``/``encoding``/``segments``, which measure SMS
        parts and mean nothing for a push."""
        data: dict[str, Any] = {
            "template_id": self.template_id,
            "channel": self.channel.value,
            "locale": self.locale,
            "variant": self.variant,
        }
        if self.channel is Channel.SMS:
            data["text"] = self.text
        else:
            data["title"], data["body"] = self.title, self.body
        if self.length is not None:
            data |= {
                "chars": self.length.chars,
                "encoding": self.length.encoding,
                "segments": self.length.segments,
            }
        return data


# The views are made per render (two or more per message) and only read: templates cannot
# assign attributes, and the immutable sandbox refuses every mutating method. Not frozen,
# because a frozen dataclass sets each field through object.__setattr__ (twice the time).
@dataclass(slots=True)
class BorrowerView:
    """``borrower.*`` in templates."""

    id: str
    name: str
    surname: str
    honorific: str
    gender: str
    phone: str


@dataclass(slots=True)
class LoanView:
    """``loan.*`` and each item of ``loans`` in templates."""

    id: str
    tail: str
    product: str
    amount_due: Decimal
    due_date: date
    installment_no: int
    installments_total: int | None
    days_past_due: int
    status: str
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PlatformView:
    """``platform.*`` in templates: the lender, and the offers it really makes.

    ``offers`` are the configured options in their usual order (分期, 延期, 部分还款, 减免);
    ``offers_text`` says them as a sentence does: 「分期、延期或部分还款」 (empty: none).
    """

    name: str
    signature: str
    hotline: str
    app_name: str
    repay_url: str
    offers: tuple[str, ...]
    offers_text: str

    @classmethod
    def of(cls, platform: Platform) -> PlatformView:
        return cls(
            name=platform.name,
            signature=platform.signature,
            hotline=platform.hotline,
            app_name=platform.app_name,
            repay_url=platform.repay_url,
            offers=platform.offers,
            offers_text=either(platform.offers),
        )


def either(options: tuple[str, ...]) -> str:
    """「分期」, 「分期或延期」, 「分期、延期或部分还款」."""
    if len(options) <= 1:
        return "".join(options)
    return f"{'、'.join(options[:-1])}或{options[-1]}"


_VIEW_NAMES: dict[type, str] = {
    BorrowerView: "borrower",
    LoanView: "loan",
    PlatformView: "platform",
}


def _plain_paths(prefix: str, cls: type) -> set[str]:
    # Annotations are strings here (from __future__ import annotations).
    return {
        f"{prefix}.{f.name}" for f in fields(cls) if f.type in ("str", "int", "Decimal", "date")
    }


# Vocabulary values that always print as short text, a number or a date (no Optional, no
# mapping, no list): a top-level {{ }} of one of them needs no output check.
PLAIN_OUTPUTS = frozenset(
    _plain_paths("borrower", BorrowerView)
    | _plain_paths("loan", LoanView)
    | _plain_paths("platform", Platform)
    | {"total_due", "stage", "now"}
)


class VocabularyUndefined(jinja2.StrictUndefined):
    """Strict undefined whose message names the missing value in the content team's
    vocabulary (``borrower.nmae``, ``loan.extra.branch``, ``loans[5]``) rather than by
    Python type (``'BorrowerView object' has no attribute``, ``list object has no element``).
    """

    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        if self._undefined_hint:
            return self._undefined_hint
        return f"'{self._vocabulary_path()}' is undefined"

    def _vocabulary_path(self) -> str:
        owner, name = self._undefined_obj, self._undefined_name
        if owner is jinja2.utils.missing:
            return str(name)
        prefix = _VIEW_NAMES.get(type(owner))
        if prefix is not None:
            return f"{prefix}.{name}"
        if isinstance(owner, Mapping):  # the only mapping in the vocabulary
            return f"loan.extra.{name}"
        if isinstance(owner, list) and owner and all(type(i) is LoanView for i in owner):
            return f"loans[{name}]"
        return f"[{name}]" if isinstance(name, int) else str(name)


class Renderer:
    """Renders catalog templates for message contexts, in a sandbox, with strict variables."""

    def __init__(self, catalog: TemplateCatalog, platform: Platform) -> None:
        self.catalog = catalog
        self.platform = platform
        self.platform_view = PlatformView.of(platform)
        self.environment: ReminderSandbox = build_environment()
        self.environment.undefined = VocabularyUndefined
        self.environment.plain_data = {
            cls: frozenset(f.name for f in fields(cls))
            for cls in (BorrowerView, LoanView, PlatformView)
        }
        self.environment.plain_outputs = PLAIN_OUTPUTS
        self._compiled: dict[str, jinja2.Template] = {}
        self._phone_guarded: set[int] = set()  # ids of compiled templates that may print it

    def render(
        self, template_id: str, context: MessageContext, locale: str = DEFAULT_LOCALE
    ) -> Rendered:
        """Render ``template_id`` for ``context``.

        A group id (``overdue_early/sms``) picks the borrower's stable variant; an id with a
        variant (``overdue_early/sms.b``) renders that file. To render one exact file — the
        base file of a group with variants included — use :meth:`render_file`.
        """
        template = self.resolve(template_id, context.installments[0].borrower.id, locale)
        return self.render_file(template, context)

    def render_file(self, template: TemplateFile, context: MessageContext) -> Rendered:
        """Render exactly this catalog file for ``context``."""
        variables = self.variables(context)
        if template.channel is Channel.PUSH:
            title, body = self._render_push(template, variables)
            return self._rendered(template, text=f"{title}\n{body}", title=title, body=body)
        text = self.with_signature(collapse_whitespace(self._run(template, variables)))
        return self._rendered(template, text=text, length=measure_sms(text))

    def resolve(
        self, template_id: str, borrower_id: str, locale: str = DEFAULT_LOCALE
    ) -> TemplateFile:
        """An exact variant id, or the borrower's stable variant of a group id."""
        if "." in template_id.partition("/")[2]:
            return self.catalog.get(template_id, locale)
        return self.catalog.pick(template_id, borrower_id, locale)

    def with_signature(self, body: str) -> str:
        return f"【{self.platform.signature}】{body}"

    def variables(self, context: MessageContext) -> dict[str, Any]:
        """The Jinja variables of the content team's vocabulary (README, SPEC §4.2)."""
        first = context.installments[0]
        borrower = first.borrower
        now = context.now.astimezone(zone_for(borrower.timezone))
        today = now.date()
        installments = context.installments
        loans = [_loan_view(item, today) for item in installments]
        if len(loans) > 1:
            # `loan` is the earliest due: "最早一笔明天到期" must not name a later one.
            loans.sort(key=lambda view: (view.due_date, view.id, view.installment_no))
            total_due = sum((item.amount_due for item in installments), Decimal(0))
        else:
            total_due = first.amount_due
        stage = context.stage or Stage.for_days_past_due(loans[0].days_past_due) or Stage.PRE_DUE
        return {
            "borrower": BorrowerView(
                id=borrower.id,
                name=borrower.name,
                surname=surname_of(borrower.name),
                honorific=honorific_of(
                    borrower.name, borrower.gender, self.platform.neutral_address
                ),
                gender=borrower.gender.value,
                phone=borrower.phone or "",
            ),
            "loan": loans[0],
            "loans": loans,
            "total_due": total_due,
            "platform": self.platform_view,
            "now": now,
            "stage": stage.value,
        }

    def compile(self, template: TemplateFile) -> jinja2.Template:
        """Parse, check against the sandbox rules, and compile once per file."""
        key = str(template.path)
        compiled = self._compiled.get(key)
        if compiled is not None:
            return compiled
        if len(template.source) > MAX_TEMPLATE_BYTES:
            raise TemplateBudgetError(
                template.template_id,
                "template size",
                f"over the template size budget ({MAX_TEMPLATE_BYTES // 1024} KiB)",
                1,
            )
        try:
            code, shows_phone = self._checked_code(template, key)
        except (RecursionError, MemoryError, SyntaxError) as exc:
            # Jinja's parser and compiler recurse once per nesting level: ((((…)))) or a
            # chain of thousands of filters ends here, not in a traceback; so do more than
            # 20 nested {% for %}/{% if %}, past Python's own limit on nested blocks.
            raise TemplateBudgetError(
                template.template_id,
                "nesting",
                "over the nesting budget: expressions nested too deeply to compile",
                template.meta_end_line + 1,
            ) from exc
        # A plain dict, not make_globals()' ChainMap: every render copies the globals into
        # its context, and iterating a ChainMap costs more than the rest of that copy.
        compiled = self.environment.template_class.from_code(
            self.environment, code, dict(self.environment.globals), None
        )
        if shows_phone:
            self._phone_guarded.add(id(compiled))
        self._compiled[key] = compiled
        return compiled

    def _checked_code(self, template: TemplateFile, key: str) -> tuple[Any, bool]:
        try:
            tree = self.environment.parse(template.source, template.template_id, key)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateSyntaxError(
                template.template_id, exc.message or str(exc), exc.lineno
            ) from exc
        depth, line = deepest(tree)
        if depth > MAX_NESTING:
            raise TemplateBudgetError(
                template.template_id,
                "nesting",
                f"over the nesting budget ({MAX_NESTING} levels): nested {depth} levels deep",
                line,
            )
        violation = next(check_template(tree, self._filter_allowed), None)
        if violation is not None:
            raise TemplateSecurityError(template.template_id, violation.message, violation.line)
        if template.channel is Channel.PUSH:
            self._require_push_blocks(template, tree)
        return self.environment.compile(tree, template.template_id, key), may_show_phone(tree)

    def _filter_allowed(self, name: str) -> bool:
        return name in self.environment.filters

    def _require_push_blocks(self, template: TemplateFile, tree: jinja2.nodes.Template) -> None:
        names = {block.name for block in tree.find_all(jinja2.nodes.Block)}
        for name in PUSH_BLOCKS:
            if name not in names:
                raise TemplateSyntaxError(
                    template.template_id,
                    f"a push template needs {{% block {name} %}}…{{% endblock %}}",
                    template.meta_end_line + 1,
                )
        # Only the two blocks are rendered: anything else at the top would silently vanish.
        for node in tree.body:
            problem = _outside_push_blocks(node)
            if problem is not None:
                raise TemplateSyntaxError(template.template_id, problem, _first_line(node))

    def _run(self, template: TemplateFile, variables: dict[str, Any]) -> str:
        compiled = self.compile(template)
        with _mapped_errors(template):
            text = compiled.render(variables)
        if len(text) > MAX_OUTPUT:
            raise _over_output(template, text)
        if id(compiled) in self._phone_guarded:
            _refuse_full_phone(template, text, variables["borrower"].phone)
        return text

    def _render_push(self, template: TemplateFile, variables: dict[str, Any]) -> tuple[str, str]:
        compiled = self.compile(template)
        with _mapped_errors(template):
            context = compiled.new_context(variables)
            try:
                title, body = ("".join(compiled.blocks[name](context)) for name in PUSH_BLOCKS)
            except Exception:
                # Blocks called directly skip Template.render's traceback rewriting: without
                # it the error names a line of the generated Python, not of the template.
                self.environment.handle_exception()
        if len(title) + len(body) > MAX_OUTPUT:
            raise _over_output(template, title + body)
        if id(compiled) in self._phone_guarded:
            _refuse_full_phone(template, title + body, variables["borrower"].phone)
        return collapse_whitespace(title), collapse_whitespace(body)

    def _rendered(self, template: TemplateFile, **parts: Any) -> Rendered:
        return Rendered(
            template_id=template.template_id,
            group_id=template.group_id,
            channel=template.channel,
            locale=template.locale,
            variant=template.variant,
            **parts,
        )


FULL_PHONE_REFUSED = (
    "the message would show the borrower's full phone number: print it only as "
    "{{ borrower.phone|mask_phone }}"
)
# Digits as a template could spell them (一三八〇〇…, full-width), separators dropped: how a
# message could carry the recipient's number past mask_phone.
_DIGIT_SPELLINGS = str.maketrans(
    "〇零一壹二贰两三叁四肆五伍六陆七柒八捌九玖０１２３４５６７８９",
    "0011222334455667788990123456789",
    " \u3000-.·_",
)


def _refuse_full_phone(template: TemplateFile, text: str, phone: str) -> None:
    """No message shows its recipient's number (its last 10 digits) in any spelling or
    order: SMS and push are read on lock screens and by others (collection-rules §5).
    Checked for templates that could print it (:func:`may_show_phone`)."""
    if not phone:
        return
    digits = phone[-10:]
    spelled = text.translate(_DIGIT_SPELLINGS)
    if digits in spelled or digits[::-1] in spelled:
        raise TemplateSecurityError(
            template.template_id, FULL_PHONE_REFUSED, template.meta_end_line + 1
        )


def _over_output(template: TemplateFile, text: str) -> TemplateBudgetError:
    """The whole text against the output budget: the plain top-level prints are not counted
    one by one (each runs once, with a short value), so their sum is checked here."""
    return TemplateBudgetError(
        template.template_id,
        "output size",
        f"over the output size budget ({MAX_OUTPUT:,} characters): the message is {len(text):,}",
        template.meta_end_line + 1,
    )


def _outside_push_blocks(node: jinja2.nodes.Node) -> str | None:
    """Why a top-level node of a push template would never reach the phone, or ``None``."""
    if isinstance(node, jinja2.nodes.Block):
        if node.name in PUSH_BLOCKS:
            return None
        return f"{{% block {node.name} %}} is never shown: a push has only title and body"
    if isinstance(node, jinja2.nodes.Output):
        if all(_blank(item) for item in node.nodes):
            return None
        return "text outside {% block title %} and {% block body %} is never shown in a push"
    return "only {% block title %} and {% block body %} run in a push: move this into one"


def _blank(item: jinja2.nodes.Node) -> bool:
    return isinstance(item, jinja2.nodes.TemplateData) and not item.data.strip()


def _first_line(node: jinja2.nodes.Node) -> int:
    """The line of the first visible character: text nodes start at the preceding newline."""
    first = node.nodes[0] if isinstance(node, jinja2.nodes.Output) and node.nodes else None
    if isinstance(first, jinja2.nodes.TemplateData):
        leading = first.data[: len(first.data) - len(first.data.lstrip())]
        return node.lineno + leading.count("\n")
    return node.lineno


def _loan_view(item: Installment, today: date) -> LoanView:
    return LoanView(
        id=item.loan_id,
        tail=item.loan_id[-4:],
        product=item.product or "",
        amount_due=item.amount_due,
        due_date=item.due_date,
        installment_no=item.installment_no,
        installments_total=item.installments_total,
        days_past_due=(today - item.due_date).days,
        status=item.status.value,
        extra=item.extra,
    )


def collapse_whitespace(text: str) -> str:
    """What a phone shows: lines trimmed and joined, runs of spaces made one.

    Lines join without a space, as Chinese text does, except where a Latin letter or digit
    starts a line after a Latin letter, digit or punctuation mark (``,.;:!?)``): there the
    writer's line break stood for a word break.
    """
    # One substitution over the whole text (the runs never span a newline) and one join:
    # a regex call and a string copy per line were ~8% of a render.
    parts: list[str] = []
    last = ""
    for raw in _SPACES.sub(" ", text).splitlines():
        line = raw.strip()
        if not line:
            continue
        if last in _SPACE_AFTER and line[0] in _LATIN:
            parts.append(" ")
        parts.append(line)
        last = line[-1]
    return "".join(parts)


class _mapped_errors:  # noqa: N801 - used as a lowercase context manager like contextlib's
    """Map Jinja's run-time errors to remindkit's, naming the template and the line."""

    def __init__(self, template: TemplateFile) -> None:
        self.template = template

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None or isinstance(exc, TemplateError):
            return
        tid, line = self.template.template_id, _template_line(tb, str(self.template.path))
        if isinstance(exc, jinja2.UndefinedError):
            raise UndefinedVariableError(tid, _undefined_name(exc), line) from exc
        budget = _budget_error(tid, exc, line)
        if budget is not None:
            raise budget from exc
        if isinstance(exc, SecurityError):
            raise TemplateSecurityError(
                tid, f"blocked by the template sandbox: {exc}", line
            ) from exc
        if isinstance(exc, FilterArgumentError):
            raise TemplateError(tid, str(exc), line) from exc
        if isinstance(exc, Exception):
            raise TemplateError(tid, f"rendering failed: {_describe(exc)}", line) from exc


def _budget_error(tid: str, exc: BaseException, line: int | None) -> TemplateBudgetError | None:
    """A budget the render went over, the last resorts (stack, memory) included."""
    if isinstance(exc, BudgetExceededError):
        return TemplateBudgetError(tid, exc.budget, str(exc), line)
    if isinstance(exc, RecursionError):
        return TemplateBudgetError(
            tid, "nesting", "over the nesting budget (Python's stack): macros call too deep", line
        )
    if isinstance(exc, MemoryError):
        return TemplateBudgetError(
            tid, "memory", "over the memory budget: the render ran out", line
        )
    if isinstance(exc, OverflowError):
        return TemplateBudgetError(tid, "number size", f"over the number size budget: {exc}", line)
    return None


def _describe(exc: Exception) -> str:
    if isinstance(exc, decimal.DecimalException):
        # str() of a decimal signal is a Python repr: "[<class 'decimal.DivisionByZero'>]".
        return f"{type(exc).__name__} in arithmetic on an amount"
    return f"{type(exc).__name__}: {exc}"


def _undefined_name(exc: jinja2.UndefinedError) -> str:
    message = exc.message or "?"
    match = _UNDEFINED_NAME.match(message)
    return message if match is None else match.group(1)


def _template_line(tb: TracebackType | None, filename: str) -> int | None:
    """The innermost line of the template in a traceback Jinja rewrote to template lines."""
    line = None
    for frame_tb in _walk(tb):
        if frame_tb.tb_frame.f_code.co_filename == filename:
            line = frame_tb.tb_lineno
    return line


def _walk(tb: TracebackType | None) -> Iterator[TracebackType]:
    while tb is not None:
        yield tb
        tb = tb.tb_next
