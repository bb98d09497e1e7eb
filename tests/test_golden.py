"""Golden tests: every shipped template rendered for every sample context, word for word.

Expected texts live in ``tests/golden/<sample>/<template id, "/" → "__">.txt``: an SMS as
sent (with its 【signature】), a push as ``title\\n---\\nbody``. Regenerate them with
``REMINDKIT_UPDATE_GOLDEN=1 pytest tests/test_golden.py`` and have a person read every
changed file before committing (tests/golden/README.md).
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import pytest

from remindkit.context import PreviewInput, load_preview_input
from remindkit.models import Channel, Platform
from remindkit.render import MessageContext, Rendered, Renderer, TemplateCatalog
from remindkit.resources import sample_platform

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "templates"
SAMPLES = ROOT / "config" / "samples"
GOLDEN = ROOT / "tests" / "golden"
UPDATE = os.environ.get("REMINDKIT_UPDATE_GOLDEN") == "1"

CATALOG = TemplateCatalog(TEMPLATES)
TEMPLATE_IDS = CATALOG.ids("zh_CN")
SAMPLE_NAMES = sorted(path.stem for path in SAMPLES.glob("*.json"))


def golden_path(sample: str, template_id: str) -> Path:
    return GOLDEN / sample / f"{template_id.replace('/', '__')}.txt"


def exact_id(template_id: str) -> str:
    """The id that renders this very file: a bare group id would pick the borrower's variant."""
    return template_id if "." in template_id.partition("/")[2] else f"{template_id}.a"


@cache
def sample(name: str) -> PreviewInput:
    return load_preview_input(SAMPLES / f"{name}.json", sample_platform())


def shown(rendered: Rendered) -> str:
    if rendered.channel is Channel.SMS:
        return f"{rendered.text}\n"
    return f"{rendered.title}\n---\n{rendered.body}\n"


@cache
def renderer(platform: Platform) -> Renderer:
    return Renderer(CATALOG, platform)


def render(sample_name: str, template_id: str) -> Rendered:
    given = sample(sample_name)
    assert given.now is not None, f"config/samples/{sample_name}.json needs a 'now'"
    context = MessageContext(installments=given.installments, now=given.now)
    return renderer(given.platform).render(exact_id(template_id), context)


def test_the_matrix_is_not_empty() -> None:
    # Guards against a moved directory silently turning the matrix below into zero tests.
    assert len(TEMPLATE_IDS) >= 15
    assert {"pre_due", "worst_case", "consolidated"} <= set(SAMPLE_NAMES)


@pytest.mark.parametrize("template_id", TEMPLATE_IDS)
@pytest.mark.parametrize("sample_name", SAMPLE_NAMES)
def test_rendering_matches_golden_file(sample_name: str, template_id: str) -> None:
    rendered = render(sample_name, template_id)
    assert rendered.template_id == template_id
    actual = shown(rendered)
    path = golden_path(sample_name, template_id)
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"{path.relative_to(ROOT)} missing: run with REMINDKIT_UPDATE_GOLDEN=1"
    assert actual == path.read_text(encoding="utf-8")


def test_no_stale_golden_files() -> None:
    """A golden file whose template or sample is gone would never be checked again."""
    expected = {golden_path(s, t) for s in SAMPLE_NAMES for t in TEMPLATE_IDS}
    stale = sorted(path for path in GOLDEN.glob("*/*.txt") if path not in expected)
    if UPDATE:
        for path in stale:
            path.unlink()
        stale = []
    assert [str(path.relative_to(ROOT)) for path in stale] == []
