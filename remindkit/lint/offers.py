"""``unconfigured-offer``: a template promises only what the lender really offers (SPEC §13).

The platform configuration lists the offers (``[platform] offers``: 分期, 延期, 部分还款,
减免). A rendered message that names one the configuration does not list promises
something the borrower cannot get. Product names are taken out first: 「安心分期」 is a
name, not an offer of instalments.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from remindkit.models import OFFER_TERMS, Platform


@dataclass(frozen=True, slots=True)
class OfferIssue:
    term: str
    offer: str
    message: str


def unconfigured_offers(
    shown: str, platform: Platform, product_names: Iterable[str]
) -> Iterator[OfferIssue]:
    text = shown
    for name in sorted({name for name in product_names if name}, key=len, reverse=True):
        text = text.replace(name, "＿")
    configured = "、".join(platform.offers) or "没有配置任何安排"
    for offer, terms in OFFER_TERMS.items():
        if offer in platform.offers:
            continue
        for term in terms:
            if term in text:
                yield OfferIssue(
                    term,
                    offer,
                    f"模板承诺了「{term}」，但平台配置（[platform] offers）没有提供{offer}"
                    f"（现在提供：{configured}）。只写平台真正提供的安排，可用 "
                    "{{ platform.offers_text }}，或在配置中加上这一项。",
                )
                break
