"""The studio at request level: every refusal leaves the templates untouched; clean saves
land on disk as ``remindkit lint`` sees them; previews and the list come from the catalog."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from studio_support import TOKEN, copy_templates, studio_app, tree_digest

from remindkit.lint import lint_report
from remindkit.render import TemplateCatalog
from remindkit.resources import shipped_samples_dir

BASE = "http://127.0.0.1:8765"
AUTH = {"X-Remindkit-Token": TOKEN}
THREAT = "否则后果自负。"


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    return copy_templates(tmp_path / "templates")


@pytest.fixture
def client(templates: Path) -> TestClient:
    return TestClient(studio_app(templates), base_url=BASE, headers=AUTH)


def post(client: TestClient, path: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post(path, json=body, headers={"Origin": BASE, **headers})


def opened(client: TestClient, template_id: str) -> dict[str, Any]:
    response = client.get("/api/template", params={"id": template_id})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def body_line(source: str, needle: str) -> int:
    return next(n for n, line in enumerate(source.splitlines(), start=1) if needle in line)


# -- guards -----------------------------------------------------------------------------------
def test_nothing_is_served_or_written_without_the_token(templates: Path) -> None:
    before = tree_digest(templates)
    anonymous = TestClient(studio_app(templates), base_url=BASE)
    assert anonymous.get("/").status_code == 401
    assert anonymous.get("/api/templates").status_code == 401
    assert anonymous.get("/static/studio.js").status_code == 401
    source = (templates / "zh_CN/overdue/sms.j2").read_text(encoding="utf-8") + "新的一行"
    save = {"template_id": "overdue/sms", "source": source, "base_sha256": "x"}
    assert anonymous.post("/api/save", json=save).status_code == 401
    assert (
        anonymous.post(
            "/api/variants", json={"template_id": "overdue/sms", "variant": "z"}
        ).status_code
        == 401
    )
    assert tree_digest(templates) == before


def test_a_page_elsewhere_cannot_drive_the_studio(client: TestClient, templates: Path) -> None:
    before = tree_digest(templates)
    data = opened(client, "overdue/sms")
    save = {
        "template_id": "overdue/sms",
        "source": data["source"] + "x",
        "base_sha256": data["sha256"],
    }
    for origin in ("http://attacker.example", "http://127.0.0.1:9999", "null"):
        response = post(client, "/api/save", save, Origin=origin)
        assert response.status_code == 403, origin
    cross = client.post(
        "/api/save",
        json=save,
        headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"},
    )
    assert cross.status_code == 403
    foreign = post(client, "/api/save", save, Host="attacker.example:8765")
    assert foreign.status_code == 400
    assert client.get("/api/templates", headers={"Host": "rebound.example"}).status_code == 400
    assert tree_digest(templates) == before


def test_a_huge_body_is_refused_and_nothing_written(client: TestClient, templates: Path) -> None:
    before = tree_digest(templates)
    data = opened(client, "overdue/sms")
    huge = {
        "template_id": "overdue/sms",
        "source": "您好" * 2_000_000,
        "base_sha256": data["sha256"],
    }
    response = client.post(
        "/api/save",
        content=json.dumps(huge),
        headers={"Origin": BASE, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert tree_digest(templates) == before


# -- paths ------------------------------------------------------------------------------------
TRAVERSALS = [
    "../../../etc/passwd",
    "overdue/../../../x",
    "/etc/passwd",
    "overdue/sms.b/../../x",
    "overdue/sms.../x",
    "overdue/sms..",
    "..\\..\\x/sms",
    "zh_CN/overdue/sms",
    "",
]


@pytest.mark.parametrize("template_id", TRAVERSALS)
def test_paths_that_leave_the_directory_are_refused(
    client: TestClient, templates: Path, template_id: str
) -> None:
    before = tree_digest(templates.parent)
    assert client.get("/api/template", params={"id": template_id}).status_code in (400, 403)
    body = {"template_id": template_id, "source": "x", "base_sha256": "x", "variant": "c"}
    for path in ("/api/check", "/api/diff", "/api/save"):
        response = post(client, path, body)
        assert response.status_code in (400, 403), (path, response.text)
        assert "error" in response.json()
    variant = post(
        client, "/api/variants", {"template_id": "overdue/sms", "variant": template_id or "."}
    )
    assert variant.status_code in (400, 403)
    assert tree_digest(templates.parent) == before


def test_a_symlink_out_of_the_directory_is_refused(
    client: TestClient, templates: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.j2"
    secret.write_text(
        (templates / "zh_CN/overdue/sms.j2").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (templates / "zh_CN/overdue/sms.evil.j2").symlink_to(secret)
    (outside / "sms.j2").write_text(secret.read_text(encoding="utf-8"), encoding="utf-8")
    (templates / "zh_CN/linked_stage").symlink_to(outside, target_is_directory=True)
    before = tree_digest(tmp_path)
    ids = [entry["template_id"] for entry in client.get("/api/templates").json()["templates"]]
    assert "overdue/sms.evil" not in ids
    assert "linked_stage/sms" not in ids
    for template_id in ("overdue/sms.evil", "linked_stage/sms"):
        response = client.get("/api/template", params={"id": template_id})
        assert response.status_code == 403
        assert "模板目录之外" in response.json()["error"]
        save = {"template_id": template_id, "source": "改写", "base_sha256": "x"}
        assert post(client, "/api/save", save).status_code == 403
        assert (
            post(client, "/api/check", {"template_id": template_id, "source": "x"}).status_code
            == 403
        )
    variant = post(client, "/api/variants", {"template_id": "linked_stage/sms", "variant": "c"})
    assert variant.status_code == 403
    assert tree_digest(tmp_path) == before


def test_a_symlink_inside_the_directory_is_followed(client: TestClient, templates: Path) -> None:
    (templates / "zh_CN/overdue/sms.same.j2").symlink_to(templates / "zh_CN/overdue/sms.j2")
    data = opened(client, "overdue/sms.same")
    assert data["path"] == "zh_CN/overdue/sms.j2"


# -- the sandbox in the editor ----------------------------------------------------------------
SSTI = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ self._TemplateReference__context }}",
    "{{ cycler.__init__.__globals__.os.system('touch /tmp/pwned') }}",
    "{{ borrower.name.__class__ }}",
    "{{ loan.amount_due.as_integer_ratio() }}",
    "{% for i in range(10**9) %}x{% endfor %}",
    "{{ 'x' * 100000000 }}",
    "{% include '/etc/passwd' %}",
    "{{ config }}{{ request }}",
]


@pytest.mark.parametrize("payload", SSTI)
def test_template_injection_typed_into_the_editor_is_refused(
    client: TestClient, templates: Path, payload: str
) -> None:
    before = tree_digest(templates)
    data = opened(client, "overdue/sms")
    source = data["source"] + payload + "\n"
    checked = post(client, "/api/check", {"template_id": "overdue/sms", "source": source})
    assert checked.status_code == 200
    result = checked.json()
    assert result["preview"]["kind"] == "error"
    assert "/etc/passwd" not in json.dumps(result["preview"])
    rules = {f["rule"] for f in result["check"]["findings"] if f["severity"] == "error"}
    assert rules & {"unsafe-expression", "undefined-variable", "syntax"}
    assert result["check"]["can_save"] is False
    save = post(
        client,
        "/api/save",
        {"template_id": "overdue/sms", "source": source, "base_sha256": data["sha256"]},
    )
    assert save.status_code == 422
    assert tree_digest(templates) == before
    assert not Path("/tmp/pwned").exists()


def test_malformed_requests_get_a_clear_answer(client: TestClient) -> None:
    bad = client.post("/api/check", content=b"{not json", headers={"Origin": BASE})
    assert bad.status_code == 400
    assert post(client, "/api/check", {"template_id": "overdue/sms"}).status_code == 400
    unknown = client.get("/api/template", params={"id": "overdue/sms.zz"})
    assert unknown.status_code == 404
    sample = post(
        client, "/api/check", {"template_id": "overdue/sms", "source": "x", "sample": "nope.json"}
    )
    assert sample.status_code == 400
    assert "nope.json" in sample.json()["error"]
    when = post(
        client, "/api/check", {"template_id": "overdue/sms", "source": "x", "now": "tomorrow"}
    )
    assert when.status_code == 400


# -- saving -----------------------------------------------------------------------------------
def test_a_clean_edit_is_saved_atomically_and_lint_agrees(
    client: TestClient, templates: Path
) -> None:
    data = opened(client, "overdue/sms")
    edited = data["source"].replace("如有困难请致电", "如有困难可致电")
    assert edited != data["source"]
    diff = post(client, "/api/diff", {"template_id": "overdue/sms", "source": edited}).json()
    assert diff["changed"] is True
    assert diff["check"]["can_save"] is True
    kinds = {line["kind"] for line in diff["diff"]}
    assert {"add", "del", "hunk", "file"} <= kinds
    assert any("可致电" in line["text"] for line in diff["diff"] if line["kind"] == "add")
    saved = post(
        client,
        "/api/save",
        {"template_id": "overdue/sms", "source": edited, "base_sha256": data["sha256"]},
    )
    assert saved.status_code == 200, saved.text
    path = templates / "zh_CN/overdue/sms.j2"
    assert path.read_text(encoding="utf-8") == edited
    assert saved.json()["sha256"] == opened(client, "overdue/sms")["sha256"]
    assert not list(path.parent.glob(".*.tmp"))
    report = lint_report([path], samples_dir=shipped_samples_dir())
    assert report.errors == 0
    assert report.warnings == 0


def test_a_save_with_a_lint_error_is_refused(client: TestClient, templates: Path) -> None:
    before = tree_digest(templates)
    data = opened(client, "overdue/sms")
    source = data["source"].rstrip("\n") + THREAT + "\n"
    response = post(
        client,
        "/api/save",
        {"template_id": "overdue/sms", "source": source, "base_sha256": data["sha256"]},
    )
    assert response.status_code == 422
    check = response.json()["check"]
    assert check["errors"] >= 1
    finding = next(f for f in check["findings"] if f["rule"] == "forbidden-phrase")
    assert finding["line"] == body_line(source, "后果自负")
    assert tree_digest(templates) == before


def test_a_warning_needs_its_reason_in_the_metadata(client: TestClient, templates: Path) -> None:
    data = opened(client, "overdue/sms")
    urgent = data["source"].replace("请在", "务必在")
    refused = post(
        client,
        "/api/save",
        {"template_id": "overdue/sms", "source": urgent, "base_sha256": data["sha256"]},
    )
    assert refused.status_code == 422
    blockers = refused.json()["check"]["blockers"]
    assert any("tone" in b and "理由" in b for b in blockers)
    response = post(
        client,
        "/api/explain",
        {"template_id": "overdue/sms", "source": urgent, "rule": "tone", "reason": "法务同意"},
    )
    assert response.status_code == 200, response.text
    explained = response.json()["source"]
    assert explained != urgent
    assert (templates / "zh_CN/overdue/sms.j2").read_text(encoding="utf-8") == data["source"]
    accepted = post(
        client,
        "/api/save",
        {"template_id": "overdue/sms", "source": explained, "base_sha256": data["sha256"]},
    )
    assert accepted.status_code == 200, accepted.text
    assert lint_report([templates / "zh_CN/overdue/sms.j2"], samples_dir=shipped_samples_dir()).ok


def test_explaining_refuses_bad_ids_and_reasons(client: TestClient) -> None:
    body = {"template_id": "../x/sms", "source": "x", "rule": "tone", "reason": "y"}
    assert post(client, "/api/explain", body).status_code == 403
    body |= {"template_id": "overdue/sms", "rule": "tone", "reason": "#} 泄露"}
    assert post(client, "/api/explain", body).status_code == 400


def test_a_file_changed_on_disk_since_it_was_opened_is_not_overwritten(
    client: TestClient, templates: Path
) -> None:
    data = opened(client, "overdue/sms")
    path = templates / "zh_CN/overdue/sms.j2"
    theirs = data["source"].replace("请在", "可在", 1)
    path.write_text(theirs, encoding="utf-8")
    mine = data["source"].replace("如有困难请致电", "如有困难可致电")
    response = post(
        client,
        "/api/save",
        {"template_id": "overdue/sms", "source": mine, "base_sha256": data["sha256"]},
    )
    assert response.status_code == 409
    assert path.read_text(encoding="utf-8") == theirs
    assert any(line["kind"] == "del" for line in response.json()["diff"])


def test_a_read_only_directory_is_never_written(templates: Path) -> None:
    client = TestClient(studio_app(templates, writable=False), base_url=BASE, headers=AUTH)
    before = tree_digest(templates)
    data = opened(client, "overdue/sms")
    edited = data["source"].replace("如有困难请致电", "如有困难可致电")
    response = post(
        client,
        "/api/save",
        {"template_id": "overdue/sms", "source": edited, "base_sha256": data["sha256"]},
    )
    assert response.status_code == 403
    assert (
        post(client, "/api/variants", {"template_id": "overdue/sms", "variant": "c"}).status_code
        == 403
    )
    assert tree_digest(templates) == before


def test_a_new_variant_is_a_checked_copy(client: TestClient, templates: Path) -> None:
    created = post(client, "/api/variants", {"template_id": "overdue/sms", "variant": "warm"})
    assert created.status_code == 201, created.text
    assert created.json()["template_id"] == "overdue/sms.warm"
    path = templates / "zh_CN/overdue/sms.warm.j2"
    assert path.read_bytes() == (templates / "zh_CN/overdue/sms.j2").read_bytes()
    ids = [e["template_id"] for e in client.get("/api/templates").json()["templates"]]
    assert "overdue/sms.warm" in ids
    again = post(client, "/api/variants", {"template_id": "overdue/sms", "variant": "warm"})
    assert again.status_code == 409
    assert (
        post(client, "/api/variants", {"template_id": "overdue/sms", "variant": "a"}).status_code
        == 400
    )
    assert (
        post(
            client, "/api/variants", {"template_id": "overdue/sms", "variant": "Bad Name"}
        ).status_code
        == 403
    )


# -- preview, samples, variants, list ---------------------------------------------------------
def check(client: TestClient, template_id: str, source: str, **extra: Any) -> dict[str, Any]:
    response = post(client, "/api/check", {"template_id": template_id, "source": source, **extra})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def test_a_long_sms_shows_two_parts_and_where_they_break(client: TestClient) -> None:
    data = opened(client, "overdue/sms")
    source = (
        data["source"].rstrip("\n") + "如您已经还款，请忽略本条提醒，感谢您一直以来的信任与支持。\n"
    )
    preview = check(client, "overdue/sms", source)["preview"]
    assert preview["kind"] == "sms"
    assert preview["chars"] > 70
    assert preview["parts_count"] == 2
    assert len(preview["parts"]) == 2
    assert len(preview["parts"][0]) == 67
    assert "".join(preview["parts"]) == preview["text"]
    assert preview["text"].startswith(preview["signature"])


def test_switching_the_sample_changes_honorific_and_amount(client: TestClient) -> None:
    data = opened(client, "pre_due/sms")
    samples = {s["id"]: s for s in data["samples"]}
    assert data["default_sample"] == "pre_due.json"
    first = check(client, "pre_due/sms", data["source"], sample="pre_due.json")["preview"]["text"]
    second = check(client, "pre_due/sms", data["source"], sample="compound_surname.json")[
        "preview"
    ]["text"]
    assert first != second
    for sample_id, text in (("pre_due.json", first), ("compound_surname.json", second)):
        honorific, amount, _ = samples[sample_id]["detail"].split(" · ", 2)
        assert honorific in text
        assert amount in text


def test_now_picker_moves_the_relative_day(client: TestClient) -> None:
    data = opened(client, "pre_due/sms")
    today = check(client, "pre_due/sms", data["source"], sample="pre_due.json")
    assert today["preview"]["now"] == today["sample"]["now"]
    later = check(
        client, "pre_due/sms", data["source"], sample="pre_due.json", now="2026-11-27T10:00"
    )
    assert later["preview"]["now"] == "2026-11-27T10:00"
    assert later["preview"]["text"] != today["preview"]["text"]


def test_variants_side_by_side_for_the_same_borrower(client: TestClient) -> None:
    data = opened(client, "overdue_early/sms.b")
    draft = data["source"].replace("您好", "您好呀", 1)
    result = check(client, "overdue_early/sms.b", draft, sample="overdue_early.json")
    variants = {v["variant"]: v for v in result["variants"]}
    assert set(variants) == {"a", "b"}
    assert "您好呀" in variants["b"]["text"]
    assert "您好呀" not in variants["a"]["text"]
    honorific = result["sample"]["detail"].split(" · ")[0]
    assert honorific in variants["a"]["text"]
    assert honorific in variants["b"]["text"]


def test_a_push_previews_title_and_body(client: TestClient) -> None:
    data = opened(client, "pre_due/push")
    preview = check(client, "pre_due/push", data["source"])["preview"]
    assert preview["kind"] == "push"
    assert preview["title"]
    assert preview["body"]
    assert preview["app_name"]


def test_the_list_is_the_catalog_with_lint_status_and_parts(
    client: TestClient, templates: Path
) -> None:
    stage = templates / "zh_CN/courtesy_note"
    stage.mkdir()
    (stage / "sms.j2").write_text(
        (templates / "zh_CN/overdue/sms.j2").read_text(encoding="utf-8"), encoding="utf-8"
    )
    listing = client.get("/api/templates").json()["templates"]
    ids = [entry["template_id"] for entry in listing]
    assert sorted(ids) == TemplateCatalog(templates).ids()
    new = next(e for e in listing if e["template_id"] == "courtesy_note/sms")
    assert new["stage_label"] == "courtesy_note"
    assert ids[-1] == "courtesy_note/sms"  # unknown stages after the known ones
    shipped = [e for e in listing if e["stage"] != "courtesy_note"]
    assert all(e["errors"] == 0 for e in shipped)
    sms = [e for e in shipped if e["channel"] == "sms"]
    assert all(isinstance(e["longest_parts"], int) for e in sms)
    assert all(e["longest_parts"] is None for e in shipped if e["channel"] == "push")


def test_the_page_carries_the_token_and_a_nonce_csp(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert f'content="{TOKEN}"' in page.text
    nonce = re.search(r'name="csp-nonce" content="([^"]+)"', page.text)
    assert nonce is not None
    csp = page.headers["content-security-policy"]
    assert f"'nonce-{nonce.group(1)}'" in csp
    assert "default-src 'none'" in csp
    assert "connect-src 'self'" in csp
    assert "http" not in csp  # nothing from anywhere else
    assert '<html lang="zh-CN">' in page.text
    assert client.get("/static/editor.js").status_code == 200
    assert client.get("/static/editor.LICENSES.txt").status_code == 200
    assert client.get("/static/../routes.py").status_code == 404


def test_a_notice_is_shown_on_the_page(client: TestClient, templates: Path) -> None:
    notice = "未配置 [platform]，以下使用虚构的示例平台「禾苗金融」，仅供预览"
    noticed = TestClient(studio_app(templates, notice=notice), base_url=BASE, headers=AUTH)
    assert f'<div class="notice" data-testid="notice">{notice}</div>' in noticed.get("/").text
    assert 'data-testid="notice"' not in client.get("/").text
