"""The studio's file handling: ids to paths, atomic replace and exclusive create."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from remindkit.errors import TemplateNotFoundError, UnsafePathError
from remindkit.studio.workspace import (
    SaveConflictError,
    Workspace,
    create_atomically,
    digest,
    parse_template_id,
    write_atomically,
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    stage = tmp_path / "templates" / "zh_CN" / "overdue"
    stage.mkdir(parents=True)
    (stage / "sms.j2").write_text("原文\n", encoding="utf-8")
    (stage / "sms.b.j2").write_text("版本b\n", encoding="utf-8")
    return tmp_path / "templates"


def test_ids_map_to_their_files(root: Path) -> None:
    workspace = Workspace(root)
    assert workspace.path_of("overdue/sms") == root / "zh_CN/overdue/sms.j2"
    assert workspace.path_of("overdue/sms.b") == root / "zh_CN/overdue/sms.b.j2"
    assert workspace.new_path("overdue/push.c") == root / "zh_CN/overdue/push.c.j2"
    assert parse_template_id("overdue_early/sms.b-2") == ("overdue_early", "sms", "b-2")
    with pytest.raises(TemplateNotFoundError):
        workspace.path_of("overdue/push")


@pytest.mark.parametrize(
    "template_id", ["../x/sms", "overdue/sms/..", "overdue/fax", "/abs/sms", "a/b/sms", "x/sms.B"]
)
def test_malformed_ids_are_refused(root: Path, template_id: str) -> None:
    with pytest.raises(UnsafePathError):
        Workspace(root).path_of(template_id)


def test_a_locale_falls_back_to_simplified_chinese(root: Path) -> None:
    assert Workspace(root, locale="zh_HK").path_of("overdue/sms") == root / "zh_CN/overdue/sms.j2"


def test_save_replaces_the_file_and_keeps_its_mode(root: Path) -> None:
    path = root / "zh_CN/overdue/sms.j2"
    path.chmod(0o640)
    workspace = Workspace(root)
    stored = workspace.read("overdue/sms")
    saved = workspace.save("overdue/sms", "新文\n", stored.sha256)
    assert path.read_text(encoding="utf-8") == "新文\n"
    assert saved.sha256 == digest("新文\n".encode())
    assert path.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in path.parent.iterdir()) == ["sms.b.j2", "sms.j2"]


def test_save_refuses_a_file_changed_since_it_was_read(root: Path) -> None:
    workspace = Workspace(root)
    stored = workspace.read("overdue/sms")
    (root / "zh_CN/overdue/sms.j2").write_text("别人改的\n", encoding="utf-8")
    with pytest.raises(SaveConflictError) as caught:
        workspace.save("overdue/sms", "我的\n", stored.sha256)
    assert caught.value.current.text == "别人改的\n"
    assert (root / "zh_CN/overdue/sms.j2").read_text(encoding="utf-8") == "别人改的\n"


def test_a_read_only_workspace_refuses_writes(root: Path) -> None:
    workspace = Workspace(root, writable=False)
    stored = workspace.read("overdue/sms")
    with pytest.raises(PermissionError):
        workspace.save("overdue/sms", "x", stored.sha256)
    with pytest.raises(PermissionError):
        workspace.create("overdue/sms.c", "x")


def test_create_never_overwrites(root: Path) -> None:
    workspace = Workspace(root)
    workspace.create("overdue/sms.c", "新版本\n")
    assert (root / "zh_CN/overdue/sms.c.j2").read_text(encoding="utf-8") == "新版本\n"
    with pytest.raises(FileExistsError):
        workspace.create("overdue/sms.b", "覆盖\n")
    assert (root / "zh_CN/overdue/sms.b.j2").read_text(encoding="utf-8") == "版本b\n"
    assert not list((root / "zh_CN/overdue").glob(".*"))


def test_a_failed_replace_leaves_the_old_text_and_no_temporary(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = root / "zh_CN/overdue/sms.j2"

    def broken_replace(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_atomically(path, "新文\n".encode())
    assert path.read_text(encoding="utf-8") == "原文\n"
    assert sorted(p.name for p in path.parent.iterdir()) == ["sms.b.j2", "sms.j2"]


def test_create_atomically_makes_the_stage_directory(tmp_path: Path) -> None:
    path = tmp_path / "zh_CN" / "credit_notice" / "sms.j2"
    create_atomically(path, b"x")
    assert path.read_bytes() == b"x"
    assert path.stat().st_mode & 0o777 == 0o644
