"""Settings loading: defaults, the shipped example, dotted-key errors, the 22:00–08:00 limit."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from remindkit.config import (
    NO_CONTACT_RULE,
    CadenceProfile,
    ContactWindow,
    Settings,
    Step,
    default_settings,
    load_settings,
)
from remindkit.config_errors import dotted_key
from remindkit.errors import ConfigError
from remindkit.models import Channel

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "config" / "remindkit.toml"


def write(tmp_path: Path, text: str, name: str = "remindkit.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text))
    return caught.value


def offsets(profile: CadenceProfile) -> list[tuple[int, tuple[str, ...], time]]:
    return [(s.offset_days, tuple(c.value for c in s.channels), s.send_time) for s in profile.steps]


# --- defaults ------------------------------------------------------------------------------

TEN = time(10, 0)
SPEC_DEFAULT_CADENCE = [
    (-3, ("push",), TEN),
    (-1, ("sms",), TEN),
    (0, ("push", "sms"), TEN),
    (1, ("sms",), TEN),
    (3, ("sms",), TEN),
    (7, ("sms",), TEN),
    (15, ("sms",), TEN),
    (30, ("sms",), TEN),
]


def test_defaults_follow_the_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./config/holidays.toml here
    settings = default_settings()
    assert settings.window == ContactWindow(start=time(9, 0), end=time(20, 0))
    assert (settings.caps.per_installment_per_day, settings.caps.per_borrower_per_day) == (1, 2)
    assert settings.caps.min_gap_minutes == 120
    assert list(settings.cadence) == ["default"]
    assert offsets(settings.cadence["default"]) == SPEC_DEFAULT_CADENCE
    assert settings.holidays.overdue_on_holidays == "defer"
    assert settings.holidays.spring_festival_pause is True
    assert settings.holidays.spring_festival_last_day == 3
    assert settings.holidays.override_file is None
    assert settings.templates_dir is None
    assert settings.locale == "zh_CN"
    assert settings.store_url == "sqlite:///remindkit.db"
    assert {c: settings.providers.for_channel(c) for c in Channel} == {
        Channel.SMS: "console",
        Channel.PUSH: "console",
    }
    assert settings.source_path is None
    # No default lender: nothing is planned or sent under the fictional sample one.
    assert settings.platform is None
    with pytest.raises(ConfigError) as refused:
        settings.require_platform()
    assert refused.value.key == "platform"
    assert settings.credit_notice.enabled is False


def test_settings_built_in_code_equal_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert Settings() == default_settings()


def test_no_path_and_no_config_folder_gives_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REMINDKIT_CONFIG", raising=False)
    assert load_settings() == default_settings()


def test_no_path_finds_config_folder_then_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REMINDKIT_CONFIG", raising=False)
    (tmp_path / "config").mkdir()
    write(tmp_path / "config", "[caps]\nper_borrower_per_day = 3\n")
    assert load_settings().caps.per_borrower_per_day == 3
    other = write(tmp_path, "[caps]\nper_borrower_per_day = 4\n", "other.toml")
    monkeypatch.setenv("REMINDKIT_CONFIG", str(other))
    assert load_settings().caps.per_borrower_per_day == 4


def test_empty_file_gives_defaults_with_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path, "")
    settings = load_settings(path)
    assert settings.source_path == path.resolve()
    assert settings.model_copy(update={"source_path": None}) == default_settings()


# --- the shipped example -----------------------------------------------------------------


def test_shipped_config_loads_and_equals_what_it_documents() -> None:
    settings = load_settings(SHIPPED)
    # "The values below are the built-in defaults (plus one example segment cadence)."
    defaults = default_settings()
    for name in ("platform", "window", "caps", "credit_notice", "locale", "store", "providers",
                 "dispatch"):  # fmt: skip
        assert getattr(settings, name) == getattr(defaults, name), name
    assert offsets(settings.cadence["default"]) == SPEC_DEFAULT_CADENCE
    assert offsets(settings.cadence["gentle"]) == [
        (-1, ("push", "sms"), time(11, 0)),
        (2, ("sms",), time(11, 0)),
        (10, ("sms",), time(11, 0)),
    ]
    assert list(settings.cadence) == ["default", "gentle"]
    policy = settings.holidays
    assert (policy.overdue_on_holidays, policy.spring_festival_pause) == ("defer", True)
    assert policy.spring_festival_last_day == 3
    # override_file is omitted, so holidays.toml beside the config is used.
    assert policy.override_file == SHIPPED.parent / "holidays.toml"
    assert settings.templates_dir is None
    assert settings.source_path == SHIPPED


def test_shipped_config_documents_every_key_in_both_languages() -> None:
    lines = SHIPPED.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        if "=" in line and not line.startswith(("#", " ", "]", "steps")):
            comments = "\n".join(lines[max(0, index - 6) : index])
            assert any("\u4e00" <= ch <= "\u9fff" for ch in comments), line
            assert any("a" <= ch <= "z" for ch in comments), line


# --- errors name the dotted key ------------------------------------------------------------

STEPS = """[cadence.default]
steps = [
  {{ offset_days = -1, channels = ["sms"] }},
  {{ offset_days = 0, channels = ["push", "sms"] }},
  {{ offset_days = 1, channels = ["sms"], send_time = {value} }},
]
"""


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        (STEPS.format(value='"25:00"'), "cadence.default.steps[2].send_time",
         'expected HH:MM, got "25:00"'),
        (STEPS.format(value="1000"), "cadence.default.steps[2].send_time",
         "expected HH:MM, got 1000"),
        ("[caps]\nper_borrower_per_day = 0\n", "caps.per_borrower_per_day",
         "Input should be greater than or equal to 1, got 0"),
        ('[caps]\nmin_gap_minutes = "2h"\n', "caps.min_gap_minutes",
         'Input should be a valid integer, got "2h"'),
        ('[holidays]\noverdue_on_holidays = "skip"\n', "holidays.overdue_on_holidays",
         "Input should be 'defer' or 'send', got \"skip\""),
        ("[holidays]\nspring_festival_last_day = 16\n", "holidays.spring_festival_last_day",
         "Input should be less than or equal to 15, got 16"),
        ('[holidays]\nspring_festival_pause = "yes"\n', "holidays.spring_festival_pause",
         'Input should be a valid boolean, got "yes"'),
        ('[cadence.vip]\nsteps = [{ offset_days = 1, channels = ["email"] }]\n',
         "cadence.vip.steps[0].channels[0]", "Input should be 'sms' or 'push', got \"email\""),
        ("[cadence.vip]\nsteps = [{ offset_days = 1, channels = [] }]\n",
         "cadence.vip.steps[0].channels", "must not be empty"),
        ('[cadence.vip]\nsteps = [{ offset_days = 1, channels = ["sms", "sms"] }]\n',
         "cadence.vip.steps[0].channels", "a channel is listed twice: ['sms', 'sms']"),
        ('[cadence.vip]\nsteps = [{ channels = ["sms"] }]\n',
         "cadence.vip.steps[0].offset_days", "required"),
        ('[cadence.vip]\nsteps = [{ offset_days = -8, channels = ["sms"] }]\n',
         "cadence.vip.steps[0].offset_days", "Input should be greater than or equal to -7, got -8"),
        ('[cadence.vip]\nsteps = [\n {offset_days = 1, channels = ["sms"]},\n'
         ' {offset_days = 3, channels = ["sms"]},\n {offset_days = 1, channels = ["push"]},\n]\n',
         "cadence.vip.steps[2].offset_days", "offset 1 already used by steps[0]"),
        ("[cadence.vip]\nsteps = []\n", "cadence.vip.steps",
         "must not be empty"),
        ('[cadence."my vip"]\nsteps = [{ offset_days = 1, channels = ["fax"] }]\n',
         'cadence."my vip".steps[0].channels[0]', "Input should be 'sms' or 'push', got \"fax\""),
        ('[platform]\nname = "甲"\nsignature = "【甲乙】"\nhotline = "95500"\n'
         'app_name = "甲App"\nrepay_url = "https://a.cn"\n', "platform.signature",
         "write the signature without 【】; they are added when sending"),
        ('[platform]\nname = "甲"\nsignature = "12345"\nhotline = "95500"\n'
         'app_name = "甲App"\nrepay_url = "https://a.cn"\n', "platform.signature",
         "must not be all digits"),
        ('[platform]\nname = "甲"\nsignature = "甲 乙"\nhotline = "95500"\n'
         'app_name = "甲App"\nrepay_url = "https://a.cn"\n', "platform.signature",
         'letters, digits or Chinese characters only, got "甲 乙"'),
        ('[platform]\nname = "甲"\nsignature = "甲"\nhotline = "95500"\n'
         'app_name = "甲App"\nrepay_url = "https://a.cn"\n', "platform.signature",
         "must be 2–12 characters, got 1"),
        ('[platform]\nname = "甲"\nsignature = "甲乙"\nhotline = "95500"\n'
         'app_name = "甲App"\nrepay_url = "a.cn/r"\n', "platform.repay_url",
         'expected an http(s) URL, got "a.cn/r"'),
        ('[platform]\nname = "甲"\nsignature = "甲乙"\n', "platform.hotline",
         "required"),
        ('[providers]\nsms = ""\n', "providers.sms", "provider name must not be empty"),
        ('[providers]\nemail = "smtp"\n', "providers.email",
         'expected a table of provider options, got "smtp"'),
        ('[providers]\nsms = "carrier-pigeon"\n', "providers.sms",
         "unknown provider 'carrier-pigeon' (installed: console, fcm, file, http, recording, "
         "twilio)"),
        ('[providers.twillio]\nfrom = "+1"\n', "providers.twillio",
         "unknown provider 'twillio' (installed: console, fcm, file, http, recording, twilio)"),
        ('[store]\nurl = "mysql://x"\n', "store.url",
         "unsupported database 'mysql': remindkit stores to SQLite (sqlite:///PATH) or "
         "PostgreSQL (postgresql://USER@HOST/DB)"),
        ('[dispatch]\nworkers = 0\n', "dispatch.workers",
         "Input should be greater than or equal to 1, got 0"),
        ('[store]\nurl = "remindkit.db"\n', "store.url",
         "expected a database URL such as sqlite:///remindkit.db"),
        ('[templates]\nlocale = "zh-CN"\n', "templates.locale",
         "String should match pattern '^[a-z]{2}_[A-Z]{2}$', got \"zh-CN\""),
    ],
)  # fmt: skip
def test_bad_value_names_the_dotted_key(tmp_path: Path, text: str, key: str, reason: str) -> None:
    error = load_error(tmp_path, text)
    assert (error.key, error.reason) == (key, reason)
    assert str(error) == f"{key}: {reason}"


def test_unknown_key_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    error = load_error(tmp_path, "[caps]\nper_borrower_per_dya = 3\n")
    assert error.key == "caps.per_borrower_per_dya"
    assert error.reason == "unknown key (did you mean 'per_borrower_per_day'?)"


def test_unknown_key_inside_a_step(tmp_path: Path) -> None:
    text = '[cadence.default]\nsteps = [{ offset_days = 1, channels = ["sms"], hour = 9 }]\n'
    error = load_error(tmp_path, text)
    assert error.key == "cadence.default.steps[0].hour"
    assert error.reason == "unknown key (known: channels, offset_days, send_time)"


def test_unknown_section_lists_the_known_ones(tmp_path: Path) -> None:
    error = load_error(tmp_path, "[sms]\nsender = 1\n")
    assert error.key == "sms"
    assert error.reason == (
        "unknown key (known: cadence, caps, credit_notice, dispatch, feed, holidays, platform, "
        "providers, receipts, service, store, templates, window)"
    )


# --- the 22:00–08:00 hard limit -------------------------------------------------------------


@pytest.mark.parametrize(
    ("window", "key", "reason"),
    [
        ('end = "22:30"', "window.end", "22:30 reaches into the 22:00–08:00 no-contact period"),
        ('end = "23:59"', "window.end", "23:59 reaches into the 22:00–08:00 no-contact period"),
        ('start = "07:59"', "window.start", "07:59 is inside the 22:00–08:00 no-contact period"),
        ('start = "22:00"\nend = "21:00"', "window.start",
         "22:00 is inside the 22:00–08:00 no-contact period"),
        ('start = "20:00"\nend = "07:00"', "window.end",
         "07:00 reaches into the 22:00–08:00 no-contact period"),
    ],
)  # fmt: skip
def test_window_reaching_into_the_night_is_rejected_citing_the_rule(
    tmp_path: Path, window: str, key: str, reason: str
) -> None:
    error = load_error(tmp_path, f"[window]\n{window}\n")
    assert error.key == key
    assert error.reason == f"{reason}; hard limit: {NO_CONTACT_RULE}"
    assert (
        "no collection contact 22:00–08:00 local (NIFA 2024, national standard 2025, CBA 2026)"
        in str(error)
    )


def test_widest_legal_window_is_accepted(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, '[window]\nstart = "08:00"\nend = "22:00"\n'))
    assert settings.window == ContactWindow(start=time(8, 0), end=time(22, 0))


def test_toml_local_times_are_accepted(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "[window]\nstart = 09:30:00\nend = 21:00:00\n"))
    assert settings.window == ContactWindow(start=time(9, 30), end=time(21, 0))


def test_window_must_start_before_it_ends(tmp_path: Path) -> None:
    error = load_error(tmp_path, '[window]\nstart = "12:00"\nend = "11:00"\n')
    assert (error.key, error.reason) == (
        "window.end",
        "11:00 must be later than window.start (12:00)",
    )


@pytest.mark.parametrize("send_time", ["23:00", "22:00", "07:30", "00:00"])
def test_step_send_time_in_the_night_is_rejected(tmp_path: Path, send_time: str) -> None:
    error = load_error(tmp_path, STEPS.format(value=f'"{send_time}"'))
    assert error.key == "cadence.default.steps[2].send_time"
    assert error.reason == (
        f"{send_time} is inside the 22:00–08:00 no-contact period; hard limit: {NO_CONTACT_RULE}"
    )


def test_code_built_window_obeys_the_same_limit() -> None:
    with pytest.raises(ConfigError, match="22:00–08:00") as window:
        ContactWindow(start=time(9, 0), end=time(23, 0))
    assert window.value.key == "end"
    with pytest.raises(ConfigError, match="22:00–08:00") as step:
        Step(offset_days=1, channels=(Channel.SMS,), send_time=time(6, 0))
    assert step.value.key == "send_time"


def test_min_gap_is_bounded_by_the_shortest_night(tmp_path: Path) -> None:
    # A plan spaces messages within a local day; only a night of 22:00–08:00 (9 hours on a
    # daylight-saving night) keeps them apart across days, so a longer gap could not hold.
    error = load_error(tmp_path, "[caps]\nmin_gap_minutes = 541\n")
    assert error.key == "caps.min_gap_minutes"
    assert error.reason == (
        "at most 540 minutes, got 541: gaps are kept within a local day, and the 22:00–08:00 "
        "night keeps 9 hours between days at the least (10, less a daylight-saving hour)"
    )
    assert (
        load_settings(write(tmp_path, "[caps]\nmin_gap_minutes = 540\n")).caps.min_gap_minutes
        == 540
    )


# --- file-level errors, merging, paths ------------------------------------------------------


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[caps]\nper_borrower_per_day = 2\n[window]\nstart = "09:00\n')
    error = load_error(tmp_path, path.read_text(encoding="utf-8"))
    assert error.key == ""
    assert str(error).startswith(f"{path.resolve()}: line 4, column ")
    assert "invalid TOML: " in str(error)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "absent.toml")


def test_not_utf8_config_file(tmp_path: Path) -> None:
    path = tmp_path / "gbk.toml"
    path.write_bytes('[platform]\nname = "禾苗"\n'.encode("gbk"))
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        load_settings(path)


def test_segment_profiles_add_to_the_built_in_default(tmp_path: Path) -> None:
    settings = load_settings(
        write(tmp_path, '[cadence.vip]\nsteps = [{ offset_days = 2, channels = ["sms"] }]\n')
    )
    assert offsets(settings.cadence["default"]) == SPEC_DEFAULT_CADENCE
    assert offsets(settings.cadence["vip"]) == [(2, ("sms",), TEN)]


def test_steps_are_sorted_by_offset(tmp_path: Path) -> None:
    text = (
        "[cadence.default]\n"
        'steps = [{offset_days=3, channels=["sms"]}, {offset_days=-1, channels=["push"]}]\n'
    )
    settings = load_settings(write(tmp_path, text))
    assert [s.offset_days for s in settings.cadence["default"].steps] == [-1, 3]


def test_one_provider_overrides_keep_the_other_default(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, '[providers]\nsms = "file"\n'))
    assert settings.providers.for_channel(Channel.SMS) == "file"
    assert settings.providers.for_channel(Channel.PUSH) == "console"


def test_code_built_settings_need_a_default_profile() -> None:
    vip = CadenceProfile(steps=(Step(offset_days=1, channels=(Channel.SMS,)),))
    with pytest.raises(ConfigError, match='a profile named "default" is required'):
        Settings(cadence={"vip": vip})


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    (folder / "days.toml").write_text("", encoding="utf-8")
    path = write(folder, '[templates]\ndir = "../tpl"\n[holidays]\noverride_file = "days.toml"\n')
    settings = load_settings(path)
    assert settings.templates_dir == folder.resolve() / ".." / "tpl"
    assert settings.holidays.override_file == folder.resolve() / "days.toml"


def test_default_holidays_file_is_optional(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, ""))
    assert settings.holidays.override_file is None
    (tmp_path / "holidays.toml").write_text("", encoding="utf-8")
    assert load_settings(tmp_path / "remindkit.toml").holidays.override_file == (
        tmp_path.resolve() / "holidays.toml"
    )


def test_named_holidays_file_must_exist(tmp_path: Path) -> None:
    error = load_error(tmp_path, '[holidays]\noverride_file = "company.toml"\n')
    assert error.key == "holidays.override_file"
    assert error.reason == f"file not found: {tmp_path.resolve() / 'company.toml'}"


def test_empty_override_file_means_none(tmp_path: Path) -> None:
    (tmp_path / "holidays.toml").write_text("", encoding="utf-8")
    settings = load_settings(write(tmp_path, '[holidays]\noverride_file = ""\n'))
    assert settings.holidays.override_file is None


def test_settings_are_frozen() -> None:
    settings = default_settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.locale = "en_US"  # type: ignore[misc]


def test_dotted_key_quotes_unusual_names() -> None:
    assert dotted_key(("cadence", "default", "steps", 2, "send_time")) == (
        "cadence.default.steps[2].send_time"
    )
    assert dotted_key(("cadence", "a.b", "steps")) == 'cadence."a.b".steps'
