"""irc.js, the web client's IRC line parser and formatter, against the server's own.

Lines the Python side formats (``ircish.protocol.message``) must parse the
same in the browser, and lines the browser formats must parse the same in
Python: tags with every character their values may hold, sources, middle
and trailing parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ircish.protocol.message import Message
from tests.web.browser_support import Page

# Any text an IRC line can carry: no NUL, CR or LF (which end or break a line).
line_text = st.text(st.characters(blacklist_characters="\x00\r\n", codec="utf-8"), max_size=12)
middle = st.text(
    st.characters(blacklist_characters="\x00\r\n :", codec="utf-8"), min_size=1, max_size=8
)
tag_key = st.sampled_from(["time", "msgid", "label", "batch", "+typing", "+draft/reply", "bot"])
messages = st.builds(
    Message,
    verb=st.sampled_from(["PRIVMSG", "NOTICE", "TAGMSG", "JOIN", "001", "353", "BATCH"]),
    params=st.one_of(st.just(()), st.tuples(line_text), st.tuples(middle, middle, line_text)),
    source=st.none() | st.sampled_from(["ircish.local", "alice!~alice@localhost", "bob"]),
    tags=st.dictionaries(tag_key, line_text, max_size=3),
)

ROUND_TRIP = """
const [line, verb, params, tags, done] = arguments;
import('/irc.js').then((irc) => {
  const m = irc.parse(line);
  done([m.verb, m.params, m.source, m.tags, irc.format(verb, params, tags)]);
}, (err) => done([String(err)]));
"""


@pytest.fixture(scope="module")
def page(make_page: Callable[[], Page]) -> Page:
    p = make_page()
    p.open()
    return p


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(message=messages)
def test_lines_mean_the_same_in_the_browser_and_in_python(page: Page, message: Message) -> None:
    result: Any = page.driver.execute_async_script(
        ROUND_TRIP, message.format(), message.verb, list(message.params), message.tags
    )
    verb, params, source, tags, formatted = result
    assert (verb, tuple(params), source or None, tags) == (
        message.verb,
        message.params,
        message.source,
        message.tags,
    )
    again = Message.parse(formatted)
    assert (again.verb, again.params, again.tags) == (message.verb, message.params, message.tags)
