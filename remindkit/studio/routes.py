"""The studio's HTTP endpoints: the page, its static files and a small JSON API.

================================  ==========================================================
``GET /``                         the page (server-rendered shell, the token in a meta tag)
``GET /static/…``                 the page's script, style and the bundled editor
``GET /api/templates``            the list: stage → channel → variant, lint status, parts
``GET /api/template?id=…``        one file's text and digest, its variants and samples
``POST /api/check``               a draft: findings, phone preview, the variants side by side
``POST /api/explain``             a draft with a warning's reason written into its metadata
``POST /api/diff``                a draft against the file on disk, and whether it may be saved
``POST /api/save``                write the draft (clean, unchanged on disk since opened)
``POST /api/variants``            a new variant copied from an existing template
================================  ==========================================================

CPU work (lint, render) runs in the thread pool so one slow request never stalls the rest.
"""

from __future__ import annotations

import difflib
import json
import secrets
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from remindkit.errors import TemplateNotFoundError, UnsafePathError
from remindkit.lint.static import VOCABULARY
from remindkit.render.filters import FILTERS
from remindkit.render.sandbox import ALLOWED_BUILTIN_FILTERS
from remindkit.studio.checks import DraftChecker, SampleChoice
from remindkit.studio.index import TemplateIndex
from remindkit.studio.reasons import ReasonError, with_reason
from remindkit.studio.views import (
    CHANNEL_LABELS,
    check_json,
    preview_json,
    sample_json,
    stage_label,
)
from remindkit.studio.workspace import SaveConflictError, StoredText, Workspace, parse_template_id
from remindkit.web import error_response

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
MAX_SOURCE_CHARS = 100_000
T = TypeVar("T")


def page_csp(nonce: str) -> str:
    """Everything from the studio itself; CodeMirror's styles carry the page's nonce."""
    return (
        "default-src 'none'; script-src 'self'; "
        f"style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; connect-src 'self'; "
        "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def vocabulary() -> dict[str, Any]:
    """Names, their fields and the filters, for the editor's completion."""
    names = {
        name: sorted(getattr(kind, "__dataclass_fields__", {})) for name, kind in VOCABULARY.items()
    }
    return {"names": names, "filters": sorted({*FILTERS, *ALLOWED_BUILTIN_FILTERS})}


class StudioRoutes:
    """The endpoints over one workspace, checker and index."""

    def __init__(
        self,
        workspace: Workspace,
        checker: DraftChecker,
        token: str,
        *,
        notice: str | None = None,
    ) -> None:
        self.workspace = workspace
        self.notice = notice
        self.checker = checker
        self.index = TemplateIndex(workspace, checker)
        self.token = token
        self.pages = Environment(
            loader=FileSystemLoader(HERE / "page"), autoescape=select_autoescape(["html"])
        )

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self.page),
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
            Route("/api/templates", self.templates),
            Route("/api/template", self.template),
            Route("/api/check", self.check, methods=["POST"]),
            Route("/api/explain", self.explain, methods=["POST"]),
            Route("/api/diff", self.diff, methods=["POST"]),
            Route("/api/save", self.save, methods=["POST"]),
            Route("/api/variants", self.create_variant, methods=["POST"]),
        ]

    # -- page -------------------------------------------------------------------------------
    async def page(self, request: Request) -> Response:
        nonce = secrets.token_urlsafe(16)
        html = self.pages.get_template("index.html").render(
            token=self.token,
            nonce=nonce,
            root=str(self.workspace.root),
            writable=self.workspace.writable,
            notice=self.notice,
            vocabulary=vocabulary(),
        )
        headers = {"content-security-policy": page_csp(nonce), "cache-control": "no-store"}
        return HTMLResponse(html, headers=headers)

    # -- reading ----------------------------------------------------------------------------
    async def templates(self, request: Request) -> Response:
        entries = await run_in_threadpool(self.index.entries)
        return JSONResponse(
            {
                "root": str(self.workspace.root),
                "writable": self.workspace.writable,
                "templates": [entry.to_json() for entry in entries],
            }
        )

    async def template(self, request: Request) -> Response:
        template_id = request.query_params.get("id", "")
        return await _guarded(lambda: self._template(template_id))

    def _template(self, template_id: str) -> Response:
        stored = self.workspace.read(template_id)
        template = self.checker.template(stored.path, stored.text)
        choices = self.checker.choices(template.stage)
        default = self.checker.choice(template.stage, None) if choices else None
        return JSONResponse(
            {
                "template_id": template_id,
                "group_id": template.group_id,
                "stage": template.stage,
                "stage_label": stage_label(template.stage),
                "channel": template.channel.value,
                "channel_label": CHANNEL_LABELS.get(template.channel.value, ""),
                "variant": template.variant,
                "path": self.workspace.relative(stored.path),
                "source": stored.text,
                "sha256": stored.sha256,
                "samples": [sample_json(choice) for choice in choices],
                "default_sample": default.id if default else None,
            }
        )

    # -- drafts -----------------------------------------------------------------------------
    async def check(self, request: Request) -> Response:
        data = await _json_body(request)
        return await _guarded(lambda: self._check(data))

    def _check(self, data: dict[str, Any]) -> Response:
        started = time.perf_counter()
        template_id, source = _text(data, "template_id"), _source(data)
        path = self.workspace.path_of(template_id)
        template = self.checker.template(path, source)
        choice = self._choice(template.stage, data.get("sample"))
        now = _now(data.get("now"), choice)
        session = self.checker.session()  # lint and previews share the compiled draft
        check = self.checker.check(path, source, session)
        preview = preview_json(self.checker.preview(template, choice, now, session))
        variants = [
            preview
            if variant.template_id == template.template_id
            else preview_json(self.checker.preview(variant, choice, now, session))
            for variant in self._variants(template.group_id, template_id, path, source)
        ]
        return JSONResponse(
            {
                "template_id": template_id,
                "check": check_json(check),
                "preview": preview,
                "variants": variants,
                "sample": sample_json(choice),
                "elapsed_ms": round((time.perf_counter() - started) * 1000, 1),
            }
        )

    def _choice(self, stage: str, sample_id: object) -> SampleChoice:
        if sample_id is not None and not isinstance(sample_id, str):
            raise HTTPException(400, "sample 应为样例编号")
        try:
            return self.checker.choice(stage, sample_id)
        except KeyError:
            raise HTTPException(400, f"没有这个样例：{sample_id}") from None

    def _variants(self, group_id: str, template_id: str, path: Path, source: str) -> list[Any]:
        """Every variant of the group from disk, the edited one as the draft has it."""
        variants = []
        for other_id in self.workspace.template_ids():
            if other_id.split(".", 1)[0] != group_id:
                continue
            if other_id == template_id:
                variants.append(self.checker.template(path, source))
                continue
            stored = self.workspace.read(other_id)
            variants.append(self.checker.template(stored.path, stored.text))
        return sorted(variants, key=lambda t: t.variant)

    async def explain(self, request: Request) -> Response:
        data = await _json_body(request)
        return await _guarded(lambda: self._explain(data))

    def _explain(self, data: dict[str, Any]) -> Response:
        template_id, source = _text(data, "template_id"), _source(data)
        rule, reason = _text(data, "rule"), _text(data, "reason")
        self.workspace.path_of(template_id)  # an id from the page, checked like every other
        try:
            updated = with_reason(template_id, source, rule, reason)
        except ReasonError as exc:
            return error_response(400, str(exc))
        return JSONResponse({"template_id": template_id, "source": updated})

    async def diff(self, request: Request) -> Response:
        data = await _json_body(request)
        return await _guarded(lambda: self._diff(data))

    def _diff(self, data: dict[str, Any]) -> Response:
        template_id, source = _text(data, "template_id"), _source(data)
        stored = self.workspace.read(template_id)
        check = self.checker.check(stored.path, source)
        return JSONResponse(
            {
                "template_id": template_id,
                "sha256": stored.sha256,
                "diff": diff_lines(stored, source),
                "changed": stored.text != source,
                "writable": self.workspace.writable,
                "check": check_json(check),
            }
        )

    # -- writing ----------------------------------------------------------------------------
    async def save(self, request: Request) -> Response:
        data = await _json_body(request)
        return await _guarded(lambda: self._save(data))

    def _save(self, data: dict[str, Any]) -> Response:
        template_id, source = _text(data, "template_id"), _source(data)
        base = _text(data, "base_sha256")
        self.workspace.require_writable()
        path = self.workspace.path_of(template_id)
        check = self.checker.check(path, source)
        if check.blockers:
            return error_response(422, "模板有未解决的问题，没有保存。", check=check_json(check))
        try:
            saved = self.workspace.save(template_id, source, base)
        except SaveConflictError as exc:
            return error_response(
                409,
                "文件在打开之后被别人或别的程序改过了，没有保存。请先查看差异。",
                sha256=exc.current.sha256,
                diff=diff_lines(exc.current, source),
            )
        entry = self.index.entry(saved)
        return JSONResponse({"saved": True, "sha256": saved.sha256, "entry": entry.to_json()})

    async def create_variant(self, request: Request) -> Response:
        data = await _json_body(request)
        return await _guarded(lambda: self._create_variant(data))

    def _create_variant(self, data: dict[str, Any]) -> Response:
        template_id, variant = _text(data, "template_id"), _text(data, "variant")
        self.workspace.require_writable()
        stage, channel, _ = parse_template_id(template_id)
        if variant == "a":
            raise HTTPException(400, "版本 a 就是基础文件，请换一个名字，如 b、c 或 warm")
        new_id = f"{stage}/{channel}.{variant}"
        parse_template_id(new_id)
        path = self.workspace.new_path(new_id)
        if path.exists():
            return error_response(409, f"版本 {variant} 已经存在：{new_id}")
        source = self.workspace.read(template_id).text
        check = self.checker.check(path, source)
        if check.blockers:
            return error_response(
                422, "原模板有未解决的问题，不能复制为新版本。", check=check_json(check)
            )
        try:
            created = self.workspace.create(new_id, source)
        except FileExistsError:
            return error_response(409, f"版本 {variant} 已经存在：{new_id}")
        entry = self.index.entry(created)
        return JSONResponse({"template_id": new_id, "entry": entry.to_json()}, status_code=201)


def diff_lines(stored: StoredText, draft: str) -> list[dict[str, str]]:
    """A unified diff of the file on disk and the draft, one item per line with its kind."""
    kinds = {"+": "add", "-": "del", " ": "same", "@": "hunk"}
    lines = difflib.unified_diff(
        stored.text.splitlines(),
        draft.splitlines(),
        fromfile=f"{stored.template_id}（磁盘上）",
        tofile=f"{stored.template_id}（修改后）",
        lineterm="",
    )
    items = []
    for index, line in enumerate(lines):
        kind = "file" if index < 2 else kinds.get(line[:1], "same")
        items.append({"kind": kind, "text": line})
    return items


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise HTTPException(400, "请求不是有效的 JSON") from None
    if not isinstance(data, dict):
        raise HTTPException(400, "请求应为 JSON 对象")
    return data


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise HTTPException(400, f"缺少 {key}")
    return value


def _source(data: dict[str, Any]) -> str:
    source = data.get("source")
    if not isinstance(source, str):
        raise HTTPException(400, "缺少 source（模板全文）")
    if len(source) > MAX_SOURCE_CHARS:
        raise HTTPException(413, f"模板超过 {MAX_SOURCE_CHARS} 个字符")
    return source


def _now(value: object, choice: SampleChoice) -> datetime | None:
    """``now`` from the picker: local time in the sample borrower's zone, or ISO with offset."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise HTTPException(400, "now 应为日期时间文本")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise HTTPException(400, f"now 不是有效的日期时间：{value}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=choice.sample.context.installments[0].borrower.zone)
    return parsed


async def _guarded(work: Callable[[], T]) -> T | Response:
    """Run ``work`` in the thread pool; refused paths and unknown templates become answers."""
    try:
        return await run_in_threadpool(work)
    except UnsafePathError as exc:
        return error_response(403, exc.reason, template_id=exc.path)
    except TemplateNotFoundError as exc:
        return error_response(404, f"没有这个模板：{exc.template_id}", suggestions=exc.suggestions)
    except PermissionError as exc:
        return error_response(403, str(exc))
