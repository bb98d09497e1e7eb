"""Template files as the linter finds and reads them: ids from paths, source, metadata.

A file that cannot be used as intended (unreadable, not UTF-8, a broken metadata block,
an unknown channel or stage in its name) yields ``syntax`` findings; whatever can still
be read goes on to the other rules.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from remindkit.errors import TemplateSyntaxError
from remindkit.lint.findings import Finding, Rule, Severity
from remindkit.models import Channel, Stage
from remindkit.render import DEFAULT_LOCALE, TemplateFile, TemplateMeta
from remindkit.render.budget import MAX_TEMPLATE_BYTES
from remindkit.render.catalog import parse_metadata

SUFFIX = ".j2"
_STAGES = tuple(stage.value for stage in Stage)


def discover(path: Path) -> list[Path]:
    """A single file, or every ``.j2`` file below a directory (root, locale or stage)."""
    if path.is_file():
        return [path]
    return sorted(found for found in path.rglob(f"*{SUFFIX}") if not found.is_dir())


def shown_id(locale: str, template_id: str) -> str:
    """The id findings carry: prefixed with the locale outside the default one."""
    return template_id if locale == DEFAULT_LOCALE else f"{locale}:{template_id}"


def display_id(template: TemplateFile) -> str:
    """The template id as findings show it (``pre_due/sms``, ``zh_HK:pre_due/sms``)."""
    return shown_id(template.locale, template.template_id)


@dataclass(frozen=True, slots=True)
class FileName:
    """What a path says: ``<locale>/<stage>/<channel>[.<variant>].j2``."""

    locale: str
    stage: str
    name: str  # channel and variant: ``sms``, ``sms.b``

    @classmethod
    def of(cls, path: Path) -> FileName:
        locale = path.parent.parent.name or DEFAULT_LOCALE
        return cls(locale, path.parent.name, path.name.removesuffix(SUFFIX))

    @property
    def template_id(self) -> str:
        return f"{self.stage}/{self.name}"

    @property
    def channel(self) -> str:
        return self.name.partition(".")[0]

    @property
    def variant(self) -> str:
        return self.name.partition(".")[2] or "a"

    def problem(self, line: int, message: str, severity: Severity = Severity.ERROR) -> Finding:
        return Finding(
            template_id=shown_id(self.locale, self.template_id),
            line=line,
            rule=Rule.SYNTAX,
            severity=severity,
            message=message,
        )


def read_template(
    path: Path, raw: bytes | None = None
) -> tuple[TemplateFile | None, list[Finding]]:
    """The file with its metadata (None when it cannot be read); problems as findings.

    ``raw`` lints these bytes as if they were the file's (a draft in an editor).
    """
    name = FileName.of(path)
    if raw is None:
        try:
            size = path.stat().st_size
            if size > MAX_TEMPLATE_BYTES:
                # Not read at all: the renderer refuses it the same way, and a file of
                # megabytes would stall the pre-commit hook in the text rules alone.
                return None, [_too_large(name, size)]
            raw = path.read_bytes()
        except OSError as exc:
            return None, [name.problem(0, f"无法读取文件：{exc.strerror or exc}。")]
    elif len(raw) > MAX_TEMPLATE_BYTES:
        return None, [_too_large(name, len(raw))]
    source, findings = _decode(name, raw)
    try:
        meta, meta_end = parse_metadata(name.template_id, source)
    except TemplateSyntaxError as exc:
        findings.append(name.problem(exc.line or 1, f"元数据块有误：{exc.message}"))
        meta, meta_end = TemplateMeta(description=""), _comment_end(source)
    findings += _naming_problems(name)
    template = TemplateFile(
        template_id=name.template_id,
        group_id=f"{name.stage}/{name.channel}",
        stage=name.stage,
        channel=Channel.PUSH if name.channel == Channel.PUSH.value else Channel.SMS,
        variant=name.variant,
        locale=name.locale,
        path=path,
        source=source,
        meta=meta,
        meta_end_line=meta_end,
    )
    return template, findings


def _too_large(name: FileName, size: int) -> Finding:
    return Finding(
        template_id=shown_id(name.locale, name.template_id),
        line=1,
        rule=Rule.UNSAFE_EXPRESSION,
        severity=Severity.ERROR,
        message=(
            f"模板文件有 {size:,} 字节，超过 {MAX_TEMPLATE_BYTES // 1024} KiB 的上限"
            "（over the template size budget）：短信模板不需要这么长，请拆分或精简。"
        ),
    )


def _decode(name: FileName, raw: bytes) -> tuple[str, list[Finding]]:
    try:
        return raw.decode("utf-8-sig"), []  # -sig: editors on Windows save a byte-order mark
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        message = "文件不是 UTF-8 编码，请用 UTF-8 另存（无法识别的字节已替换为 �）。"
        return raw.decode("utf-8-sig", errors="replace"), [name.problem(line, message)]


def _naming_problems(name: FileName) -> list[Finding]:
    problems = []
    if name.channel not in (Channel.SMS.value, Channel.PUSH.value):
        message = f"文件名中的渠道“{name.channel}”无法识别，只能是 sms 或 push。"
        problems.append(name.problem(1, message))
    if name.stage not in _STAGES:
        hint = difflib.get_close_matches(name.stage, _STAGES, n=1)
        tip = f"，是不是 {hint[0]}？" if hint else f"。可用的阶段：{'、'.join(_STAGES)}。"
        message = f"目录名“{name.stage}”不是已知的阶段，这个模板不会被使用{tip}"
        problems.append(name.problem(1, message, Severity.WARNING))
    return problems


def _comment_end(source: str) -> int:
    """Last line of a leading ``{# … #}`` block even when its YAML is broken (0: none)."""
    if not source.startswith("{#"):
        return 0
    end = source.find("#}")
    return source.count("\n", 0, end) + 1 if end >= 0 else 0
