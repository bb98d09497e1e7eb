"""measure_sms against Twilio's own segment calculator (npm sms-segments-calculator).

A few hundred deterministic texts go to one node process (tests/node/segments.mjs);
encoding, part count and grapheme count must match for every text.  Without node or the
calculator the test is skipped, except in CI (CI=true), where it fails: run `npm ci` at
the repository root.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

from remindkit.render._graphemes import clusters
from remindkit.render.segments import GSM7_BASIC, GSM7_EXTENSION, measure_sms

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tests" / "node" / "segments.mjs"
CALCULATOR = ROOT / "node_modules" / "sms-segments-calculator" / "package.json"
PINNED_VERSION = "1.3.0"
SEED = 20260101

CJK = "您好本期账单应还款金额已到期请按时登录查看详情逾期将影响信用记录如有疑问请致电客服谢谢"
FULL_WIDTH = "，。：；！？、（）【】“”"
SIGNATURE = "【还款助手】"
# Clusters of several code points or UTF-16 units, as placed on part boundaries.
CLUSTERS = (
    "😀",  # surrogate pair
    "👍🏽",  # emoji + skin-tone modifier
    "👨\u200d👩\u200d👧",  # ZWJ family
    "👩\u200d💻",  # ZWJ profession
    "🏳\ufe0f\u200d🌈",  # flag ZWJ sequence
    "❤\ufe0f\u200d🔥",  # Unicode 13.1: split after the ZWJ by the calculator
    "☎\ufe0f",  # BMP symbol + variation selector
    "1\ufe0f\u20e3",  # keycap
    "🇨🇳",  # regional-indicator pair
    "é",  # e + combining acute
)
TRICKY = (
    "\u0301\u200d\ufe0f\u20e3\u0903\u0600\u1100\u1161\u11a8\uac00\uac01\r\n\f€[a中👨👩👧🏽🇨🇳🇺🔥❤☝"
)


def _cjk(rng: random.Random, size: int) -> str:
    pool = CJK + FULL_WIDTH + "0123456789"
    return "".join(rng.choice(pool) for _ in range(size))


def _chinese_texts(rng: random.Random) -> Iterator[str]:
    for _ in range(80):
        yield _cjk(rng, rng.randint(60, 140))
    for _ in range(30):
        yield SIGNATURE + _cjk(rng, rng.randint(58, 70))


def _cluster_boundary_texts() -> Iterator[str]:
    # 64-69 / 133-134 units before the cluster straddle the 67/70/134 boundaries.
    for cluster in CLUSTERS:
        for before in (64, 65, 66, 67, 68, 69, 133, 134):
            for after in (1, 66):
                yield "中" * before + cluster + "中" * after
        yield SIGNATURE + "中" * 60 + cluster + "中" * 66


def _gsm7_boundary_texts() -> Iterator[str]:
    for char in sorted(GSM7_EXTENSION):
        for before in (152, 153, 158, 159, 305, 306):
            for after in (0, 152):
                yield "a" * before + char + "b" * after
    yield ""
    yield "a" * 160
    yield "a" * 161


def _mixed_texts(rng: random.Random) -> Iterator[str]:
    latin = sorted(GSM7_BASIC | GSM7_EXTENSION)
    for _ in range(40):
        size = rng.randint(50, 200)
        yield "".join(
            rng.choice(latin) if rng.random() < 0.7 else rng.choice(CJK) for _ in range(size)
        )
    for _ in range(20):
        yield "".join(rng.choice(latin) for _ in range(rng.randint(140, 320)))


def _tricky_texts(rng: random.Random) -> Iterator[str]:
    for _ in range(60):
        yield "".join(rng.choice(TRICKY) for _ in range(rng.randint(60, 200)))


def generated_texts() -> list[str]:
    rng = random.Random(SEED)
    return [
        *_chinese_texts(rng),
        *_cluster_boundary_texts(),
        *_gsm7_boundary_texts(),
        *_mixed_texts(rng),
        *_tricky_texts(rng),
    ]


def _missing(reason: str) -> NoReturn:
    message = f"{reason}; run `npm ci` at the repository root to install Twilio's calculator"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _calculator(texts: list[str]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        _missing("node is not on PATH")
    if not CALCULATOR.is_file():
        _missing("node_modules/sms-segments-calculator is missing")
    version = json.loads(CALCULATOR.read_text(encoding="utf-8"))["version"]
    if version != PINNED_VERSION:
        _missing(f"sms-segments-calculator {version} is installed, {PINNED_VERSION} is pinned")
    completed = subprocess.run(
        [str(node), str(SCRIPT)],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=ROOT,
    )
    assert completed.returncode == 0, completed.stderr
    results: list[dict[str, Any]] = json.loads(completed.stdout)
    return results


def _compact(text: str) -> str:
    """`text` with runs of one character shortened, e.g. 中×66 '😀' 中×66."""
    pieces: list[str] = []
    loose = ""
    for char, run in itertools.groupby(text):
        size = len(list(run))
        if size < 4:
            loose += char * size
            continue
        pieces.extend([repr(loose)] if loose else [])
        pieces.append(f"{char}×{size}")
        loose = ""
    pieces.extend([repr(loose)] if loose else [])
    shown = " ".join(pieces)
    return shown if len(shown) <= 160 else shown[:80] + " … " + shown[-80:]


def _describe(
    index: int, text: str, ours: tuple[str, int, int], theirs: tuple[str, int, int]
) -> str:
    return (
        f"#{index} [{_compact(text)}] ({len(text)} code points): "
        f"remindkit (encoding, parts, graphemes)={ours}, Twilio={theirs}"
    )


@pytest.mark.node
def test_measure_sms_matches_twilio_calculator() -> None:
    texts = generated_texts()
    assert len(texts) >= 400
    results = _calculator(texts)
    assert len(results) == len(texts)
    mismatches = []
    for index, (text, result) in enumerate(zip(texts, results, strict=True)):
        length = measure_sms(text)
        ours = (length.encoding, length.segments, len(clusters(text)))
        theirs = (result["encoding"], result["segments"], result["graphemes"])
        if ours != theirs:
            mismatches.append(_describe(index, text, ours, theirs))
    summary = f"{len(mismatches)} of {len(texts)} texts differ from Twilio's calculator"
    assert not mismatches, summary + ":\n" + "\n".join(mismatches[:10])
