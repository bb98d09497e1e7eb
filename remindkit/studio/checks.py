"""What the studio shows for a template or a draft: lint findings, the phone preview.

Nothing here re-implements a rule or a render: findings come from
:func:`remindkit.lint.engine.lint_file` (the same function ``remindkit lint`` runs, on
the draft's text in the file's place), renders from :class:`remindkit.render.Renderer`
with its sandbox, and the samples are the linter's own (``config/samples`` plus the
worst cases of the template's stage). Only sample data is ever rendered.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from remindkit.errors import TemplateError
from remindkit.lint.contexts import Sample, WorstCase, worst_cases
from remindkit.lint.engine import LintSetup, lint_file, setup_findings
from remindkit.lint.files import read_template
from remindkit.lint.findings import Finding, LintReport
from remindkit.lint.rendered import render_all
from remindkit.models import Channel, Platform
from remindkit.render import MessageContext, Rendered, Renderer, TemplateCatalog, TemplateFile

WORST_PREFIX = "worst-"


@dataclass(frozen=True, slots=True)
class SampleChoice:
    """A sample the writer can pick: an id for the page, and the linter's sample."""

    id: str
    sample: Sample
    worst_case: bool


@dataclass(frozen=True, slots=True)
class DraftCheck:
    """The linter's verdict on one template text."""

    findings: tuple[Finding, ...]  # still need a decision (counted by `remindkit lint`)
    explained: tuple[Finding, ...]  # warnings the metadata explains

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.is_error)

    @property
    def warnings(self) -> int:
        return len(self.findings) - self.errors

    @property
    def blockers(self) -> list[str]:
        """Why this text may not be saved (empty: it may)."""
        reasons = []
        if self.errors:
            reasons.append(f"还有 {self.errors} 个错误，改正后才能保存。")
        unexplained = sorted({f.rule.value for f in self.findings if not f.is_error})
        if unexplained:
            example = f'{unexplained[0]}: "理由"'
            reasons.append(
                f"还有 {self.warnings} 个警告没有说明理由（{'、'.join(unexplained)}）："
                f"请在元数据的 lint 中写明接受的理由，例如 lint: {{{example}}}。"
            )
        return reasons


@dataclass(frozen=True, slots=True)
class Preview:
    """One render for the phone preview: the message, or why it could not be rendered."""

    template: TemplateFile
    now: datetime
    platform: Platform
    rendered: Rendered | None = None
    error: TemplateError | None = None


class DraftChecker:
    """Lints and renders template texts with one platform, sample set and worst case."""

    def __init__(
        self, platform: Platform, samples_dir: Path | None, worst_case: WorstCase | None = None
    ) -> None:
        self.setup = LintSetup.create(platform, samples_dir, worst_case)
        self._setup_findings = tuple(setup_findings(self.setup))

    def session(self) -> LintSetup:
        """The setup with fresh renderers, for the work on one version of the files.

        Renderers cache compiled templates by path and a draft shares its file's path, so
        each request gets its own; within it, lint and previews share the compiled draft.
        """
        return replace(self.setup, renderers={})

    # -- lint -------------------------------------------------------------------------------
    def check(
        self, path: Path, draft: str | None = None, session: LintSetup | None = None
    ) -> DraftCheck:
        """Lint the file at ``path``, or ``draft`` in its place, as ``remindkit lint`` does."""
        setup = session or self.session()
        report = LintReport.of([*lint_file(path, setup, draft), *self._setup_findings])
        return DraftCheck(report.findings, report.explained)

    def template(self, path: Path, text: str) -> TemplateFile:
        """The text as a catalog file at ``path``; a broken metadata block falls back to
        defaults so the body still previews (the linter reports the block)."""
        template, _ = read_template(path, text.encode("utf-8"))
        assert template is not None  # only unreadable files give none; these bytes are given
        return template

    def longest_parts(self, template: TemplateFile) -> int | None:
        """The most SMS parts over every sample and worst case (None for a push)."""
        if template.channel is not Channel.SMS:
            return None
        run = render_all(template, self.contexts(template.stage), self.session().renderer_for)
        return run.longest.parts or None

    # -- samples and rendering --------------------------------------------------------------
    def contexts(self, stage: str) -> list[Sample]:
        return [*self.setup.samples, *self._worst(stage)]

    def _worst(self, stage: str) -> list[Sample]:
        return list(worst_cases(stage, self.setup.worst_case, self.setup.platform))

    def choices(self, stage: str) -> list[SampleChoice]:
        """The sample files, then the worst cases of ``stage``, each with a stable id."""
        files = [SampleChoice(s.name, s, worst_case=False) for s in self.setup.samples]
        worst = [
            SampleChoice(f"{WORST_PREFIX}{index}", sample, worst_case=True)
            for index, sample in enumerate(self._worst(stage), start=1)
        ]
        return files + worst

    def choice(self, stage: str, sample_id: str | None) -> SampleChoice:
        """The sample ``sample_id`` (``KeyError`` if unknown), or the stage's default."""
        options = self.choices(stage)
        if not options:
            raise KeyError("no samples")
        if sample_id is None:
            return self._default(stage, options)
        for option in options:
            if option.id == sample_id:
                return option
        raise KeyError(sample_id)

    def _default(self, stage: str, options: list[SampleChoice]) -> SampleChoice:
        """The sample named after the stage, else one whose loan is in that stage."""
        for option in options:
            if option.id.removesuffix(".json") == stage:
                return option
        for option in options:
            view = Renderer(TemplateCatalog(Path()), option.sample.platform)
            if view.variables(option.sample.context)["stage"] == stage:
                return option
        return options[0]

    def preview(
        self,
        template: TemplateFile,
        choice: SampleChoice,
        now: datetime | None = None,
        session: LintSetup | None = None,
    ) -> Preview:
        """Render ``template`` for the sample, at ``now`` (default: the sample's own)."""
        sample = choice.sample
        context = MessageContext(
            installments=sample.context.installments, now=now or sample.context.now
        )
        renderer = (session or self.session()).renderer_for(sample.platform)
        base = Preview(template=template, now=context.now, platform=sample.platform)
        try:
            return replace(base, rendered=renderer.render_file(template, context))
        except TemplateError as exc:
            return replace(base, error=exc)
