"""How a page is rendered: one Jinja2 environment, the reader's language, and the helpers every template uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from policies.rules import RULES
from web.pages import i18n

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html", "j2"], default_for_string=True, default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def url_with(request: Request, **changes: Any) -> str:
    """The current path with some query parameters changed (None removes one); relative, so it works behind proxies."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    query = urlencode(params)
    return request.url.path + (f"?{query}" if query else "")


def rule_title(t: i18n.Translator, rule_id: str | None) -> str:
    """A rule's title in the reader's language; the rulebook's English one when the catalogue has none."""
    if not rule_id:
        return ""
    if t.has(f"rule.{rule_id}"):
        return t(f"rule.{rule_id}")
    found = RULES.get(rule_id)
    return found.title if found else rule_id


def page_language(request: Request) -> str:
    """The language of this request, negotiated once and kept on the request."""
    lang = getattr(request.state, "page_lang", None)
    if lang is None:
        lang, remember = i18n.negotiate(request)
        request.state.page_lang, request.state.remember_lang = lang, remember
    return lang


def render(request: Request, template: str, context: dict[str, Any] | None = None, *, status_code: int = 200,
           principal: Any = None, headers: dict[str, str] | None = None) -> HTMLResponse:
    """Render ``template`` in the reader's language; remember an explicit ``?lang=`` choice in a cookie."""
    from web.pages.access import csrf_field_value  # late: access imports the backbone's auth module

    lang = page_language(request)
    t = i18n.translator(lang)
    values = {
        "request": request, "t": t, "lang": lang, "languages": i18n.LANGUAGES, "principal": principal,
        "url_with": lambda **kw: url_with(request, **kw), "rule_title": lambda rid: rule_title(t, rid),
        "csrf_token": lambda: csrf_field_value(request), "path": request.url.path,
    }
    values.update(context or {})
    html = env.get_template(template).render(values)
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    response.headers.setdefault("Content-Language", lang)
    response.headers.setdefault("Vary", "Accept-Language, Cookie")
    if getattr(request.state, "remember_lang", False):
        response.set_cookie(i18n.COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
    return response
