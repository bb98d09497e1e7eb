"""The content team's studio (SPEC §12): edit a template, see the phone, save only clean text.

Decisions taken where the issue left a choice:

- **Front end**: one server-rendered page with a small hand-written script
  (``static/studio.js``) and CodeMirror 6 for the editor, bundled once with esbuild
  into ``static/editor.js`` (``frontend/`` holds its source and build; the bundle and
  its licences ship in the package, so an installed remindkit needs no npm and the
  page loads nothing from the network; its CSP forbids it).
- **One truth**: findings are the linter's, renders the renderer's (with its sandbox),
  on the same samples and worst cases ``remindkit lint`` uses; a draft is linted in its
  file's place, so the studio and ``remindkit lint`` cannot disagree.
- **Saving**: a diff against the file first; refused while the linter reports an error
  or a warning the metadata does not explain (``lint: {rule: "why"}``); refused if the
  file changed on disk since it was opened; written atomically inside the templates
  directory only. A new variant is a copy of an existing template, checked the same way.
- **Access**: 127.0.0.1 only, a per-run token in the printed link, ``Host``/``Origin``
  checks and a body limit from :mod:`remindkit.web`. Only sample contexts are rendered;
  the studio never reads a feed.
- **Parts**: the count is the larger of the carriers' (70/67 characters) and Twilio's,
  as the linter counts; the breaks shown are the carriers'.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette

from remindkit.lint.contexts import WorstCase
from remindkit.models import Platform
from remindkit.render import DEFAULT_LOCALE
from remindkit.studio.checks import DraftChecker
from remindkit.studio.routes import StudioRoutes
from remindkit.studio.workspace import Workspace
from remindkit.web import GuardPolicy, create_app

MAX_BODY_BYTES = 256 * 1024  # a template is a few kilobytes; the editor sends one at a time

__all__ = ["MAX_BODY_BYTES", "StudioOptions", "create_studio_app", "new_token"]


@dataclass(frozen=True, slots=True, kw_only=True)
class StudioOptions:
    """What one studio serves: the templates, the platform signing the SMS, the samples."""

    templates_dir: Path
    platform: Platform
    samples_dir: Path | None
    token: str
    locale: str = DEFAULT_LOCALE
    writable: bool = True
    worst_case: WorstCase | None = None
    notice: str | None = None  # shown at the top of the page (e.g. signed by a sample lender)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def create_studio_app(options: StudioOptions) -> Starlette:
    """The studio as an ASGI app, behind the shared guards with the run's token."""
    workspace = Workspace(options.templates_dir, locale=options.locale, writable=options.writable)
    checker = DraftChecker(options.platform, options.samples_dir, options.worst_case)
    routes = StudioRoutes(workspace, checker, options.token, notice=options.notice)
    policy = GuardPolicy(
        token=options.token, cookie_prefix="remindkit_studio", max_body_bytes=MAX_BODY_BYTES
    )
    return create_app(routes.routes(), policy)
