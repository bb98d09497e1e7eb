"""A loopback Chuanglan (创蓝) SMS gateway: ``POST /msg/v1/send/json`` as its API documents it.

The request is JSON with ``account``, ``password``, ``msg`` (the SMS with its 【signature】),
``phone`` (mainland numbers, comma-separated) and optional ``report``, ``uid``,
``sendtime``, ``extend``. The answer is always HTTP 200 with
``{"code", "msgId", "time", "errorMsg", "failNum", "successNum"}``: code ``"0"`` accepted,
otherwise one of the documented return codes, which this fake gives for the cases it can
check (101 unknown account, 102 wrong password, 107 bad number, 116 no signature) and for
any number scripted with :meth:`FakeChuanglan.script` (103 too fast, 104 busy, 105
sensitive words …), or no answer for a while (a read timeout on the client's side).

``hmac_secret``: the fake also requires an HMAC-SHA256 of ``timestamp\\n`` + body in
``X-Signature`` with ``X-Timestamp`` (as gateways that sign their requests do; Chuanglan's
own API authenticates with the password in the body), answering 401 when it is wrong.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

ACCOUNT = "N0000001"
PASSWORD = "fake-password-not-a-secret"
_MOBILE = re.compile(r"1[3-9]\d{9}")
MESSAGES = {
    "101": "无此用户",
    "102": "密码错",
    "103": "提交过快（提交速度超过流速限制）",
    "104": "系统忙（因平台侧原因，暂时无法处理提交的短信）",
    "105": "敏感短信（短信内容包含敏感词）",
    "106": "消息长度错",
    "107": "包含错误的手机号码",
    "109": "无发送额度（该用户可用短信数已使用完）",
    "116": "签名不合法或未带签名",
    "117": "IP地址认证错",
}


@dataclass(slots=True)
class FakeChuanglan:
    account: str = ACCOUNT
    password: str = PASSWORD
    hmac_secret: str | None = None
    requests: list[dict[str, object]] = field(default_factory=list)
    scripts: dict[str, tuple[str | None, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, phone: str, code: str | None = None, *, delay: float = 0.0) -> None:
        """Answer ``code`` for ``phone`` (``None``: accept), after ``delay`` seconds."""
        with self._lock:
            self.scripts[phone] = (code, delay)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.scripts.clear()
            self.hmac_secret = None

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/msg/v1/send/json", self._send, methods=["POST"])])

    async def _send(self, request: Request) -> Response:
        raw = await request.body()
        if self.hmac_secret is not None and not self._signed(request, raw):
            return JSONResponse({"code": "401", "errorMsg": "bad signature"}, status_code=401)
        try:
            body = json.loads(raw)
        except ValueError:
            return _answer("129", "JSON格式错误")
        with self._lock:
            self.requests.append(body)
            scripted = self.scripts.get(str(body.get("phone", "")))
        if scripted is not None and scripted[1]:
            await asyncio.sleep(scripted[1])
        code = self._check(body) or (scripted[0] if scripted else None)
        if code is not None:
            return _answer(code, MESSAGES.get(code, "错误"))
        return _answer("0", "", msg_id=secrets.token_hex(9))

    def _check(self, body: dict[str, object]) -> str | None:
        if body.get("account") != self.account:
            return "101"
        if not secrets.compare_digest(str(body.get("password", "")), self.password):
            return "102"
        message = str(body.get("msg", ""))
        if not re.match(r"【[^【】]{2,16}】", message):
            return "116"
        phones = str(body.get("phone", "")).split(",")
        if not all(_MOBILE.fullmatch(phone) for phone in phones):
            return "107"
        return None

    def _signed(self, request: Request, raw: bytes) -> bool:
        assert self.hmac_secret is not None
        stamp = request.headers.get("x-timestamp", "")
        expected = hmac.new(self.hmac_secret.encode(), stamp.encode() + b"\n" + raw, hashlib.sha256)
        return bool(stamp) and hmac.compare_digest(
            expected.hexdigest(), request.headers.get("x-signature", "")
        )


def _answer(code: str, message: str, msg_id: str = "") -> JSONResponse:
    accepted = code == "0"
    return JSONResponse(
        {
            "code": code,
            "msgId": msg_id,
            "time": datetime.now(UTC).strftime("%Y%m%d%H%M%S"),
            "errorMsg": message,
            "failNum": "0" if accepted else "1",
            "successNum": "1" if accepted else "0",
        }
    )
