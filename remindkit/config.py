"""Settings: the only module that reads configuration files and the environment.

``load_settings`` reads ``config/remindkit.toml`` (TOML, see the documented example in the
repository) into frozen pydantic models. Every problem becomes a :class:`ConfigError`
whose key is the dotted TOML path, e.g. ``cadence.default.steps[2].send_time``. The
22:00–08:00 no-contact period is a hard limit no setting can lift (collection-rules §1).
Secrets never live here: provider credentials come from the environment.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from remindkit.authorities import RULE, authority_words
from remindkit.config_delivery import (
    DispatchSettings,
    FeedSettings,
    ProvidersSettings,
    StoreSettings,
)
from remindkit.config_errors import config_error, first_error, shown
from remindkit.config_service import ReceiptsSettings, ServiceSettings
from remindkit.errors import ConfigError
from remindkit.models import OFFER_TERMS, Channel, Platform
from remindkit.policy.window import (
    NO_CONTACT_END,
    NO_CONTACT_RULE,
    NO_CONTACT_START,
    in_no_contact_period,
)

DEFAULT_CONFIG_PATH = Path("config/remindkit.toml")
CONFIG_ENV_VAR = "REMINDKIT_CONFIG"
HOLIDAYS_FILE_NAME = "holidays.toml"

# The plan spaces one borrower's messages within a local day (SPEC §5.3); across days only
# the night does, and it lasts 10 hours, 9 when clocks spring forward.
MAX_MIN_GAP_MINUTES = 9 * 60

_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
_SIGNATURE = re.compile(r"[A-Za-z0-9\u3400-\u4dbf\u4e00-\u9fff]+")
_URL = re.compile(r"https?://\S+")


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M:%S" if value.second else "%H:%M")


def _parse_clock(value: object) -> time:
    """``"09:30"`` or a TOML local time (``09:30:00``); no time zones: windows are local."""
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise config_error(f"expected a local time HH:MM without offset, got {value}")
        return value
    match = _CLOCK.fullmatch(value.strip()) if isinstance(value, str) else None
    if match and int(match[1]) < 24 and int(match[2]) < 60:
        return time(int(match[1]), int(match[2]))
    raise config_error(f"expected HH:MM, got {shown(value)}")


def _contact_time(value: time) -> time:
    """A moment a message may go out at: the hard limit of SPEC §5.3 is never configurable."""
    if in_no_contact_period(value):
        raise config_error(
            f"{_hhmm(value)} is inside the 22:00–08:00 no-contact period; "
            f"hard limit: {NO_CONTACT_RULE}"
        )
    return value


ClockTime = Annotated[time, BeforeValidator(_parse_clock)]
ContactTime = Annotated[ClockTime, AfterValidator(_contact_time)]
Locale = Annotated[str, Field(pattern=r"^[a-z]{2}_[A-Z]{2}$")]


class _Frozen(BaseModel):
    """Frozen, no unknown keys; a bad value raises :class:`ConfigError` naming its key, never
    pydantic's ``ValidationError`` (``Settings(window={"start": "07:00"})`` → ``window.start``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise first_error(exc, type(self)) from exc

    # Tells pydantic this __init__ only wraps its own: nested models are still validated in
    # one pass (a bad key deep in a file keeps its whole dotted path), not through __init__.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def model_validate(cls, obj: Any, **options: Any) -> Self:
        try:
            return super().model_validate(obj, **options)
        except ValidationError as exc:
            raise first_error(exc, cls) from exc


class ContactWindow(_Frozen):
    """Local hours in which messages may go out (SPEC §5.3); never inside 22:00–08:00."""

    start: ContactTime = time(9, 0)
    end: ClockTime = time(20, 0)

    @field_validator("end")
    @classmethod
    def _end_allowed(cls, value: time) -> time:
        # The end is exclusive, so a window may end exactly at 22:00.
        if value > NO_CONTACT_START or value <= NO_CONTACT_END:
            raise config_error(
                f"{_hhmm(value)} reaches into the 22:00–08:00 no-contact period; "
                f"hard limit: {NO_CONTACT_RULE}"
            )
        return value

    @model_validator(mode="after")
    def _ordered(self) -> ContactWindow:
        if self.start >= self.end:
            raise config_error(
                f"{_hhmm(self.end)} must be later than window.start ({_hhmm(self.start)})",
                ("end",),
            )
        return self


class Caps(_Frozen):
    """Frequency caps (SPEC §5.3). No regulation gives SMS/push numbers: product defaults."""

    per_installment_per_day: StrictInt = Field(default=1, ge=1, le=5)
    per_borrower_per_day: StrictInt = Field(default=2, ge=1, le=10)
    min_gap_minutes: StrictInt = Field(default=120, ge=0)

    @field_validator("min_gap_minutes")
    @classmethod
    def _gap_fits_the_night(cls, value: int) -> int:
        if value > MAX_MIN_GAP_MINUTES:
            raise config_error(
                f"at most {MAX_MIN_GAP_MINUTES} minutes, got {value}: gaps are kept within a "
                "local day, and the 22:00–08:00 night keeps 9 hours between days at the least "
                "(10, less a daylight-saving hour)"
            )
        return value


class Step(_Frozen):
    """One cadence entry: at ``offset_days`` from the due date, via the first usable channel."""

    offset_days: StrictInt = Field(ge=-7, le=365)
    channels: tuple[Channel, ...] = Field(min_length=1)
    send_time: ContactTime = time(10, 0)

    @field_validator("channels")
    @classmethod
    def _distinct_channels(cls, value: tuple[Channel, ...]) -> tuple[Channel, ...]:
        if len(set(value)) != len(value):
            raise config_error(f"a channel is listed twice: {[c.value for c in value]}")
        return value


class CadenceProfile(_Frozen):
    """A named list of steps; offsets are unique and kept sorted (earliest first)."""

    steps: tuple[Step, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_sorted(self) -> CadenceProfile:
        seen: dict[int, int] = {}
        for index, step in enumerate(self.steps):
            if step.offset_days in seen:
                raise config_error(
                    f"offset {step.offset_days} already used by steps[{seen[step.offset_days]}]",
                    ("steps", index, "offset_days"),
                )
            seen[step.offset_days] = index
        ordered = tuple(sorted(self.steps, key=lambda step: step.offset_days))
        if ordered != self.steps:
            object.__setattr__(self, "steps", ordered)  # frozen model: set once, during validation
        return self


class HolidayPolicy(_Frozen):
    """Holiday behaviour (SPEC §5.3, collection-rules §6).

    ``override_file`` is the user's holidays.toml; loaders fill it with ``holidays.toml``
    beside the config file when that file exists, else leave it ``None``.
    """

    overdue_on_holidays: Literal["defer", "send"] = "defer"
    spring_festival_pause: StrictBool = True
    spring_festival_last_day: StrictInt = Field(default=3, ge=1, le=15)
    override_file: Path | None = None

    @field_validator("override_file", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value


Offer = Literal["分期", "延期", "部分还款", "减免"]
PLATFORM_MISSING = (
    "not configured. Nothing is planned or sent under the sample lender of the demo: add a "
    "[platform] table (name, signature, hotline, app_name, repay_url, offers) to the config, "
    "or pass Settings(platform=PlatformSettings(...))"
)


class PlatformSettings(_Frozen):
    """The lender as borrowers see it; ``signature`` is sent as 【signature】 before each SMS.

    Every field but ``offers`` and ``neutral_address`` is required: there is no default
    lender. ``offers`` lists what the lender really offers a borrower who cannot pay in full
    (分期, 延期, 部分还款, 减免); templates promise only these, and lint checks it (SPEC §13).
    Default: none. ``neutral_address`` is how a borrower of unknown gender is addressed
    (``尊敬的客户``; default empty: the message opens with 「您好」).
    """

    name: str = Field(min_length=1, max_length=40)
    signature: str
    hotline: str = Field(min_length=3, max_length=40)
    app_name: str = Field(min_length=1, max_length=40)
    repay_url: str
    offers: tuple[Offer, ...] = ()
    neutral_address: str = Field(default="", max_length=8)

    @field_validator("signature")
    @classmethod
    def _carrier_signature(cls, value: str) -> str:
        # Carrier rules (collection-rules §4): letters, digits or CJK; 2–12 chars; no 【】.
        if "【" in value or "】" in value:
            raise config_error("write the signature without 【】; they are added when sending")
        if not _SIGNATURE.fullmatch(value):
            raise config_error(f"letters, digits or Chinese characters only, got {shown(value)}")
        if not 2 <= len(value) <= 12:
            raise config_error(f"must be 2–12 characters, got {len(value)}")
        if value.isdigit():
            raise config_error("must not be all digits")
        return value

    @field_validator("name", "signature", "app_name")
    @classmethod
    def _own_name(cls, value: str) -> str:
        # Every message is signed with these: a lender may not sign as the police or a court.
        words = authority_words(value)
        if words:
            raise config_error(f"{shown(value)} names an authority ({'、'.join(words)}): {RULE}")
        return value

    @field_validator("repay_url")
    @classmethod
    def _web_url(cls, value: str) -> str:
        if not _URL.fullmatch(value):
            raise config_error(f"expected an http(s) URL, got {shown(value)}")
        return value

    @field_validator("neutral_address")
    @classmethod
    def _not_a_guess(cls, value: str) -> str:
        # SPEC §13: a borrower whose gender is unknown is never called 先生 or 女士.
        if "先生" in value or "女士" in value:
            raise config_error("must not guess a gender (no 先生/女士): e.g. 尊敬的客户, or empty")
        return value

    @field_validator("offers")
    @classmethod
    def _known_order(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise config_error(f"an offer is listed twice: {list(value)}")
        order = list(OFFER_TERMS)
        return tuple(sorted(value, key=order.index))

    def to_platform(self) -> Platform:
        return Platform(**self.model_dump())


class CreditNotice(_Frozen):
    """The credit-reporting notice (SPEC §13, 征信业管理条例 第十五条): where the lender reports
    overdue loans to the credit bureau, one truthful notice per loan before the first negative
    report, sent ``days_past_due`` days after the due date (set it before your first report).
    Off unless ``enabled``."""

    enabled: StrictBool = False
    days_past_due: StrictInt = Field(default=15, ge=1, le=365)
    channels: tuple[Channel, ...] = Field(default=(Channel.SMS,), min_length=1)
    send_time: ContactTime = time(10, 0)


def _sms(offset: int) -> Step:
    return Step(offset_days=offset, channels=(Channel.SMS,))


def default_cadence() -> CadenceProfile:
    """SPEC §5.2: −3 push, −1 sms, 0 push with sms fallback, +1/+3/+7/+15/+30 sms, 10:00."""
    return CadenceProfile(
        steps=(
            Step(offset_days=-3, channels=(Channel.PUSH,)),
            _sms(-1),
            Step(offset_days=0, channels=(Channel.PUSH, Channel.SMS)),
            *(_sms(offset) for offset in (1, 3, 7, 15, 30)),
        )
    )


def _platform_fields(value: object) -> object:
    """A :class:`Platform` value object is accepted where settings are built from code."""
    if isinstance(value, Platform):
        return {name: getattr(value, name) for name in PlatformSettings.model_fields}
    return value


class Settings(_Frozen):
    """Everything remindkit is configured with (SPEC §5, §6.5, §9).

    ``platform`` is ``None`` until the lender configures one: :meth:`require_platform`
    (used by ``Kit.plan`` and ``Kit.render``) then refuses with a :class:`ConfigError`.
    """

    platform: PlatformSettings | None = None
    window: ContactWindow = ContactWindow()
    caps: Caps = Caps()
    cadence: dict[str, CadenceProfile] = Field(
        default_factory=lambda: {"default": default_cadence()}
    )
    holidays: HolidayPolicy = HolidayPolicy()
    credit_notice: CreditNotice = CreditNotice()
    templates_dir: Path | None = None
    locale: Locale = "zh_CN"
    store: StoreSettings = StoreSettings()
    providers: ProvidersSettings = ProvidersSettings()
    dispatch: DispatchSettings = DispatchSettings()
    feed: FeedSettings = FeedSettings()
    service: ServiceSettings = ServiceSettings()
    receipts: ReceiptsSettings = ReceiptsSettings()
    source_path: Path | None = None

    @field_validator("platform", mode="before")
    @classmethod
    def _from_platform(cls, value: object) -> object:
        return _platform_fields(value)

    @field_validator("cadence")
    @classmethod
    def _has_default(cls, value: dict[str, CadenceProfile]) -> dict[str, CadenceProfile]:
        if "default" not in value:
            raise config_error('a profile named "default" is required')
        return _check_profile_names(value)

    @property
    def store_url(self) -> str:
        return self.store.url

    def require_platform(self) -> Platform:
        """The configured lender; :class:`ConfigError` (key ``platform``) when there is none."""
        if self.platform is None:
            raise ConfigError("platform", PLATFORM_MISSING)
        return self.platform.to_platform()


class _TemplatesSection(_Frozen):
    dir: Path | None = None
    locale: Locale = "zh_CN"

    @field_validator("dir", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value


class _ConfigFile(_Frozen):
    """The TOML file's shape; error locations are therefore the keys the operator wrote."""

    platform: PlatformSettings | None = None
    window: ContactWindow = ContactWindow()
    caps: Caps = Caps()
    cadence: dict[str, CadenceProfile] = Field(default_factory=dict)
    holidays: HolidayPolicy = HolidayPolicy()
    credit_notice: CreditNotice = CreditNotice()
    templates: _TemplatesSection = _TemplatesSection()
    store: StoreSettings = StoreSettings()
    providers: ProvidersSettings = ProvidersSettings()
    dispatch: DispatchSettings = DispatchSettings()
    feed: FeedSettings = FeedSettings()
    service: ServiceSettings = ServiceSettings()
    receipts: ReceiptsSettings = ReceiptsSettings()

    @field_validator("cadence")
    @classmethod
    def _profile_names(cls, value: dict[str, CadenceProfile]) -> dict[str, CadenceProfile]:
        return _check_profile_names(value)


def _check_profile_names(value: dict[str, CadenceProfile]) -> dict[str, CadenceProfile]:
    """A profile is picked by a feed row's segment, which is read stripped and printable:
    a name "" or " vip" could never be picked, so it is refused rather than ignored."""
    for name in value:
        if not name.strip():
            raise config_error(
                'a cadence profile needs a name (rows without a segment use "default")',
                (name,),
            )
        if name != name.strip() or not name.isprintable():
            raise config_error(
                f"profile name {shown(name)} has spaces at its ends or invisible characters: "
                "no feed segment could pick it",
                (name,),
            )
    return value


def default_settings() -> Settings:
    """Built-in defaults, as if an empty config file lived at ``./config/remindkit.toml``."""
    return _build(_ConfigFile(), {}, DEFAULT_CONFIG_PATH.parent, None)


def load_settings(path: Path | None = None) -> Settings:
    """Load ``path``; ``None`` → ``$REMINDKIT_CONFIG``, else ``./config/remindkit.toml`` if it
    exists, else built-in defaults. Raises :class:`ConfigError` naming the dotted key."""
    if path is None:
        env = os.environ.get(CONFIG_ENV_VAR)
        if env:
            path = Path(env)
        elif DEFAULT_CONFIG_PATH.is_file():
            path = DEFAULT_CONFIG_PATH
        else:
            return default_settings()
    path = path.expanduser().resolve()
    raw = _read_toml(path)
    try:
        parsed = _ConfigFile.model_validate(raw)
    except ValidationError as exc:
        raise first_error(exc, _ConfigFile) from None
    return _build(parsed, raw, path.parent, path)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError("", f"{path}: config file not found") from None
    except OSError as exc:
        raise ConfigError("", f"{path}: cannot read config file: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError("", f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("", f"{path}: {_toml_position(str(exc))}") from None


def _toml_position(message: str) -> str:
    """``Invalid value (at line 3, column 9)`` → ``line 3, column 9: invalid TOML: …``."""
    match = re.fullmatch(r"(.*) \(at (line \d+, column \d+|end of document)\)", message)
    if match is None:
        return f"invalid TOML: {message}"
    return f"{match[2]}: invalid TOML: {match[1]}"


def _resolve(base: Path, value: Path) -> Path:
    value = value.expanduser()
    return value if value.is_absolute() else base / value


def _override_file(parsed: _ConfigFile, raw: Mapping[str, Any], base: Path) -> Path | None:
    given = "override_file" in raw.get("holidays", {})
    if not given:
        candidate = base / HOLIDAYS_FILE_NAME
        return candidate if candidate.is_file() else None
    if parsed.holidays.override_file is None:
        return None
    resolved = _resolve(base, parsed.holidays.override_file)
    if not resolved.is_file():
        raise ConfigError("holidays.override_file", f"file not found: {resolved}")
    return resolved


def _build(
    parsed: _ConfigFile, raw: Mapping[str, Any], base: Path, source: Path | None
) -> Settings:
    """Turn the file's shape into ``Settings``: merge built-in defaults, resolve paths."""
    templates_dir = parsed.templates.dir
    holidays = parsed.holidays.model_copy(
        update={"override_file": _override_file(parsed, raw, base)}
    )
    # model_construct: every part was validated as part of _ConfigFile already.
    return Settings.model_construct(
        platform=parsed.platform,
        window=parsed.window,
        caps=parsed.caps,
        cadence={"default": default_cadence(), **parsed.cadence},
        holidays=holidays,
        credit_notice=parsed.credit_notice,
        templates_dir=None if templates_dir is None else _resolve(base, templates_dir),
        locale=parsed.templates.locale,
        store=parsed.store,
        providers=parsed.providers,
        dispatch=parsed.dispatch,
        feed=parsed.feed.model_copy(
            update={"path": None if parsed.feed.path is None else _resolve(base, parsed.feed.path)}
        ),
        service=parsed.service,
        receipts=parsed.receipts,
        source_path=source,
    )
