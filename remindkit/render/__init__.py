"""Rendering: the template catalog, the sandboxed renderer, zh filters and SMS length."""

from __future__ import annotations

from remindkit.render.catalog import (
    DEFAULT_LOCALE,
    TemplateCatalog,
    TemplateFile,
    TemplateMeta,
    locale_chain,
)
from remindkit.render.renderer import MessageContext, Rendered, Renderer, collapse_whitespace
from remindkit.render.segments import SmsLength, measure_sms
from remindkit.resources import shipped_templates_dir

__all__ = [
    "DEFAULT_LOCALE",
    "MessageContext",
    "Rendered",
    "Renderer",
    "SmsLength",
    "TemplateCatalog",
    "TemplateFile",
    "TemplateMeta",
    "collapse_whitespace",
    "locale_chain",
    "measure_sms",
    "shipped_templates_dir",
]
