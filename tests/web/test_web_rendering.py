"""Hostile text through the web client's own renderer (format.js), in the browser.

Whatever a user sends, ``render`` makes text nodes, ``<span>`` elements
with formatting classes and ``<a>`` links to http(s) URLs, and nothing else:
no other element, no attribute but class/href/target/rel, no control
character left in the text. Hypothesis builds the texts from pieces that
hostile users send (markup, URLs of every scheme, mIRC and ANSI codes,
bidirectional overrides), mixed with any Unicode.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.web.browser_support import Page

PIECES = [
    '<img src=x onerror="window.pwned=1">',
    "<script>window.pwned=2</script>",
    "<a href='javascript:window.pwned=3'>x</a>",
    "javascript:window.pwned=4",
    "JaVaScRiPt:alert(5)",
    "data:text/html,<script>alert(6)</script>",
    "https://example.org/a?b=1&c=<d>",
    "http://",
    'https://x.org/"onmouseover="alert(7)',
    "vbscript:msgbox",
    "\x02",
    "\x03",
    "\x0304,01",
    "\x0399,99",
    "\x04ff0000",
    "\x04ff0000,00ff00",
    "\x0f",
    "\x11",
    "\x16",
    "\x1d",
    "\x1e",
    "\x1f",
    "\x01ACTION ",
    "\x1b[31m",
    "\x1b]0;title\x07",
    "\u202e",
    "\u2066",
    "\x00",
    "\r",
    "\x7f",
    "\x85",
    "&lt;&amp;",
    " ",
]

hostile = st.lists(st.sampled_from(PIECES) | st.text(max_size=8), max_size=12).map("".join)

RENDER = """
const [text, done] = arguments;
import('/format.js').then((f) => {
  const box = document.createElement('div');
  box.appendChild(f.render(text));
  const allowed = new Set(['class', 'href', 'target', 'rel']);
  const bad = [...box.querySelectorAll('*')].filter((e) =>
    !['SPAN', 'A'].includes(e.tagName)
    || [...e.attributes].some((a) => !allowed.has(a.name))
    || (e.tagName === 'A' && !/^https?:\\/\\//.test(e.getAttribute('href')))
    || (e.tagName === 'A' && e.rel !== 'noopener noreferrer')
    || (e.className && !/^(f-[a-z0-9]+ ?)+$/.test(e.className)));
  done([bad.map((e) => e.outerHTML), box.textContent, window.pwned === undefined]);
}, (err) => done([[String(err)], '', false]));
"""


def control(ch: str) -> bool:
    """Characters that must never reach the page (C0, DEL, C1, bidirectional controls)."""
    bidi = "\u202a" <= ch <= "\u202e" or "\u2066" <= ch <= "\u2069"
    return bidi or unicodedata.category(ch) == "Cc"


@pytest.fixture(scope="module")
def page(make_page: Callable[[], Page]) -> Page:
    p = make_page()
    p.open()  # the connect form: the modules are served, nothing connects
    return p


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=hostile)
def test_render_makes_only_text_formatting_and_safe_links(page: Page, text: str) -> None:
    result: Any = page.driver.execute_async_script(RENDER, text)
    bad, shown, clean = result
    assert bad == []
    assert clean, "a script ran"
    assert not [ch for ch in shown if control(ch)]
    if "\x04" not in text:  # hex colours consume their letters; nothing else does
        assert [c for c in shown if c.isalpha()] == [c for c in text if c.isalpha()]
