"""Every refusal a netcat user reads is one clean sentence (issue 13, bug 7).

Error numerics carry IRC's fixed text (``472 x :is unknown mode char to me``)
or a sentence the server wrote for that refusal (``461 /msg :Usage: /msg
NICK|#room TEXT``). The plain renderer once appended the numeric's other
parameters to either, which read ``! Usage: /msg NICK|#room TEXT: /msg`` and
``! is unknown mode char to me: x``. Here every error numeric the server knows
goes through the real renderer with the parameters the core gives it.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ircish.core import events as ev
from ircish.dialects.plain import PlainDialect
from ircish.errors import CommandError
from ircish.protocol import numerics as n
from tests.helpers import MemoryNetwork

#: The parameters before the text, as the core sends each error numeric.
TYPICAL: dict[str, tuple[str, ...]] = {
    n.ERR_UNKNOWNERROR: ("PRIVMSG",),
    n.ERR_NOSUCHNICK: ("bob",),
    n.ERR_NOSUCHSERVER: ("irc.example.org",),
    n.ERR_NOSUCHCHANNEL: ("#rust",),
    n.ERR_CANNOTSENDTOCHAN: ("#rust",),
    n.ERR_TOOMANYCHANNELS: ("#rust",),
    n.ERR_NORECIPIENT: (),
    n.ERR_NOTEXTTOSEND: (),
    n.ERR_INPUTTOOLONG: (),
    n.ERR_UNKNOWNCOMMAND: ("FROB",),
    n.ERR_NOMOTD: (),
    n.ERR_NONICKNAMEGIVEN: (),
    n.ERR_ERRONEUSNICKNAME: ("9bob",),
    n.ERR_NICKNAMEINUSE: ("bob",),
    n.ERR_USERNOTINCHANNEL: ("bob", "#rust"),
    n.ERR_NOTONCHANNEL: ("#rust",),
    n.ERR_USERONCHANNEL: ("bob", "#rust"),
    n.ERR_NOTREGISTERED: (),
    n.ERR_NEEDMOREPARAMS: ("KICK",),
    n.ERR_ALREADYREGISTERED: (),
    n.ERR_PASSWDMISMATCH: (),
    n.ERR_CHANNELISFULL: ("#rust",),
    n.ERR_UNKNOWNMODE: ("x",),
    n.ERR_INVITEONLYCHAN: ("#rust",),
    n.ERR_BADCHANNELKEY: ("#rust",),
    n.ERR_CHANOPRIVSNEEDED: ("#rust",),
    n.ERR_UMODEUNKNOWNFLAG: (),
    n.ERR_USERSDONTMATCH: (),
    n.ERR_HELPNOTFOUND: ("frob",),
    n.ERR_WASNOSUCHNICK: ("bob",),
    n.ERR_TOOMANYTARGETS: ("erin",),
    n.ERR_INVALIDCAPCMD: ("FROB",),
    n.ERR_BANNEDFROMCHAN: ("#rust",),
    n.ERR_BANLISTFULL: ("#rust", "b"),
    n.ERR_NOPRIVILEGES: (),
    n.ERR_CANTKILLSERVER: (),
    n.ERR_NOOPERHOST: (),
    n.ERR_INVALIDKEY: ("#rust",),
    n.ERR_INVALIDMODEPARAM: ("#rust", "l", "abc"),
    n.ERR_MONLISTFULL: ("100", "bob,carol"),
    n.ERR_NICKLOCKED: (),
    n.ERR_SASLFAIL: (),
    n.ERR_SASLTOOLONG: (),
    n.ERR_SASLABORTED: (),
    n.ERR_SASLALREADY: (),
}

Render = Callable[[str, tuple[str, ...]], list[str]]

#: Error numerics a netcat user is never shown.
SILENT = {n.ERR_NOMOTD}


@pytest.fixture
def render() -> Render:
    net = MemoryNetwork()
    client = net.plain("alice").client
    dialect: PlainDialect = net.dialects.plain

    def shown(code: str, params: tuple[str, ...]) -> list[str]:
        data = dialect.render(ev.Envelope(ev.Numeric(code, params), None, client), client)
        return data.decode().split("\r\n")[:-1]

    return shown


def test_every_error_numeric_has_typical_parameters() -> None:
    """A numeric added to ERROR_TEXT must be added here, and so get a plain wording."""
    assert set(TYPICAL) == set(n.ERROR_TEXT)


def assert_one_sentence(lines: list[str], params: tuple[str, ...], irc_text: str) -> None:
    assert len(lines) == 1, lines
    line = lines[0]
    assert line.startswith("! "), line
    body = line[2:]
    # A sentence: a capital (or a name the refusal is about) first; not IRC's fragment.
    starts_with_name = any(body.startswith((p, repr(p))) for p in params)
    assert body[:1].isupper() or starts_with_name, line
    assert irc_text not in body or irc_text[:1].isupper(), line
    assert not body.rstrip().endswith((":", ",", ";")), line
    # No parameter repeated after a colon at the end ("...: /msg" once it was said).
    for p in params:
        head, sep, tail = body.rpartition(": ")
        assert not (sep and tail == p and p in head), line
    # The words netcat users read everywhere.
    assert "channel" not in body.lower(), line


@pytest.mark.parametrize("code", sorted(n.ERROR_TEXT))
def test_error_numeric_with_its_usual_text_reads_as_one_sentence(render: Render, code: str) -> None:
    params = TYPICAL[code]
    lines = render(code, (*params, n.ERROR_TEXT[code]))
    if code in SILENT:
        assert lines == []
        return
    assert_one_sentence(lines, params, n.ERROR_TEXT[code])


@pytest.mark.parametrize("code", sorted(set(n.ERROR_TEXT) - SILENT))
def test_error_numeric_with_a_servers_sentence_shows_it_once(render: Render, code: str) -> None:
    """A text the server wrote for a refusal is the sentence: the parameters are not added."""
    params = TYPICAL[code]
    text = "That did not work because of reasons"
    lines = render(code, (*params, text))
    assert_one_sentence(lines, params, text)
    assert lines[0].count("reasons") <= 1


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (
            CommandError(n.ERR_NEEDMOREPARAMS, "/msg", text="Usage: /msg NICK|#room TEXT"),
            "! Usage: /msg NICK|#room TEXT",
        ),
        (
            CommandError(
                n.ERR_UNKNOWNCOMMAND,
                "/jion",
                text="Unknown command /jion. Type /help for the list of commands.",
            ),
            "! Unknown command /jion. Type /help for the list of commands.",
        ),
        (CommandError(n.ERR_UNKNOWNMODE, "x"), "! Unknown mode letter x (see /help modes)"),
        (
            CommandError(
                n.ERR_NOSUCHCHANNEL, "#a:b", text="Invalid channel name: it may not contain ':'"
            ),
            "! #a:b is not a valid room name: it may not contain ':'",
        ),
        (
            CommandError(n.ERR_CANNOTSENDTOCHAN, "#rust", text="Cannot send to channel (+m)"),
            "! #rust is moderated: only voiced users and operators may speak",
        ),
    ],
)
def test_the_reported_lines(render: Render, error: CommandError, shown: str) -> None:
    lines = render(error.code, (*error.params, error.text))
    assert lines == [shown]


@pytest.mark.parametrize(
    ("params", "shown"),
    [
        (("x", "is not something I know"), "! x is not something I know"),
        (("#rust", "Something went wrong"), "! Something went wrong: #rust"),
        (("Something went wrong",), "! Something went wrong"),
    ],
)
def test_an_error_numeric_without_a_plain_wording_is_still_a_sentence(
    render: Render, params: tuple[str, ...], shown: str
) -> None:
    assert render("499", params) == [shown]
