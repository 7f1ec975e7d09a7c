"""What numerics and standard replies mean, in words: one table for netcat and the client.

The server's plain dialect shows these sentences to netcat users (after
``*** `` or ``! ``), and the terminal client shows them in its buffers, so a
refusal reads the same on both ("No such nick or room: zed", "#a:b is not a
valid room name: ..."), in the words humans read everywhere: "room", slash
commands. Each wording gets a numeric's parameters after the recipient's
nick, the text last, already made safe by the caller; it returns the
sentence, or None when there is nothing worth saying.

``error`` decides between the table and the server's own text: an error
numeric's text is either IRC's fixed wording (``is unknown mode char to me``),
replaced by the sentence here, or a sentence the server wrote for this very
refusal (``Usage: /msg NICK|#room TEXT``), which is shown as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from ircish.protocol import numerics as n

Wording = Callable[[tuple[str, ...]], str | None]

_WHO_NOTES = (("G", "away"), ("*", "operator"), ("B", "bot"))


def _who(p: tuple[str, ...]) -> str:
    room, username, host, _server, nick, flags = p[:6]
    # Flags: H/G, then * (operator), status prefixes, B (bot).
    prefix = "".join(ch for ch in flags if ch in "@+")
    notes = "".join(f" [{word}]" for flag, word in _WHO_NOTES if flag in flags)
    where = f"{room}: " if room != "*" else ""
    return f"{where}{prefix}{nick} ({username}@{host}){notes}"


def nicks_of(targets: str) -> str:
    """``a!u@h,b`` (MONITOR numerics) -> ``a, b``."""
    return ", ".join(t.split("!", 1)[0] for t in targets.split(",") if t)


def _monitor(targets: str, state: str) -> str:
    nicks = nicks_of(targets)
    return f"{nicks} {'is' if ', ' not in nicks else 'are'} {state}"


#: How the WHOWAS reply's RPL_WHOISSERVER gives its time (``server.whowas_time``).
_WHOWAS_TIME = re.compile(r"[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d \d{4} UTC")


def _list_entry(kind: str, p: tuple[str, ...]) -> str:
    """A ban, ban exception or invite exception entry (367/348/346)."""
    room, mask = p[0], p[1]
    by = f" (set by {p[2].split('!', 1)[0]} on {timestamp(p[3])})" if len(p) > 3 else ""
    return f"{kind} in {room}: {mask}{by}"


def _count(raw: str, noun: str) -> str:
    return f"{raw} {noun}" if raw == "1" else f"{raw} {noun}s"


def timestamp(raw: str) -> str:
    """A numeric's Unix time as ``2024-05-01 12:30 UTC`` (the raw text if it is not one)."""
    try:
        return datetime.fromtimestamp(int(raw), UTC).strftime("%Y-%m-%d %H:%M UTC")
    except (ValueError, OverflowError, OSError):
        return raw


def _end_of_who(p: tuple[str, ...]) -> str:
    return who_found_nobody(p[0]) if p[-1] == n.ENDOFWHO_NOBODY else "End of /who"


def who_found_nobody(mask: str) -> str:
    """What a /who that listed nobody means, in one sentence."""
    if mask[:1] in "#&":
        # A room nobody can see into and one that does not exist read the same.
        return f"Nobody to show in {mask}: there is no such room, or nobody in it you can see"
    return f"Nobody online matches {mask}"


#: Replies, in words. Lines of a list start with two spaces (``  #rust (3 users)``).
REPLIES: dict[str, Wording] = {
    n.RPL_GLOBALUSERS: lambda p: f"{_count(p[0], 'user')} online",
    n.RPL_MOTD: lambda p: p[0].removeprefix("- "),
    n.RPL_AWAY: lambda p: f"{p[0]} is away: {p[1]}",
    n.RPL_UNAWAY: lambda p: "You are no longer marked as away",
    n.RPL_NOWAWAY: lambda p: "You are now marked as away",
    n.RPL_WHOISUSER: lambda p: f"{p[0]} is {p[1]}@{p[2]}" + (f" ({p[4]})" if p[4] else ""),
    n.RPL_WHOISCHANNELS: lambda p: f"{p[0]} is in {p[1]}",
    n.RPL_WHOISSERVER: lambda p: (
        f"  last seen on {p[1]} at {p[2]}"
        if _WHOWAS_TIME.fullmatch(p[2])
        else f"{p[0]} is connected to {p[1]}"
    ),
    n.RPL_WHOISIDLE: lambda p: f"{p[0]} has been idle {p[1]}s, online since {timestamp(p[2])}",
    n.RPL_WHOREPLY: _who,
    n.RPL_ENDOFWHO: _end_of_who,
    n.RPL_LISTSTART: lambda p: "Rooms:",
    n.RPL_LIST: lambda p: f"  {p[0]} ({_count(p[1], 'user')})" + (f": {p[2]}" if p[2] else ""),
    n.RPL_LISTEND: lambda p: "End of /list",
    n.RPL_CHANNELMODEIS: lambda p: f"Modes of {p[0]}: {' '.join(p[1:])}",
    n.RPL_UMODEIS: lambda p: f"Your modes: {p[0]}",
    n.RPL_NOTOPIC: lambda p: f"{p[0]} has no topic",
    n.RPL_TOPIC: lambda p: f"Topic of {p[0]}: {p[1]}",
    n.RPL_TOPICWHOTIME: lambda p: f"Topic set by {p[1].split('!')[0]} at {timestamp(p[2])}",
    n.RPL_INVITING: lambda p: f"Invited {p[0]} to {p[1]}",
    n.RPL_NAMREPLY: lambda p: f"Users in {p[1]}: {p[2]}",
    n.RPL_VERSION: lambda p: f"Server version {p[0]} on {p[1]}",
    n.RPL_TIME: lambda p: f"Server time: {p[1]}",
    n.RPL_USERHOST: lambda p: p[0],
    n.RPL_ISON: lambda p: f"Online: {p[0]}",
    n.RPL_WHOISBOT: lambda p: f"{p[0]} is a bot",
    n.RPL_MONONLINE: lambda p: _monitor(p[0], "online"),
    n.RPL_MONOFFLINE: lambda p: _monitor(p[0], "offline"),
    n.RPL_MONLIST: lambda p: f"You are monitoring: {nicks_of(p[0])}",
    n.RPL_ENDOFMONLIST: lambda p: "End of your monitor list",
    n.RPL_YOUREOPER: lambda p: "You are now an IRC operator",
    n.RPL_REHASHING: lambda p: f"Reloading {p[0]}",
    n.RPL_WHOISACCOUNT: lambda p: f"{p[0]} is logged in as {p[1]}",
    n.RPL_WHOISSECURE: lambda p: f"{p[0]} is using a secure connection",
    n.RPL_WHOISOPERATOR: lambda p: f"{p[0]} is an IRC operator",
    n.RPL_WHOISACTUALLY: lambda p: f"{p[0]} is really {p[1]}",
    n.RPL_STATSKLINE: lambda p: f"K-line {p[3]}@{p[1]}: {p[4]}",
    n.RPL_STATSDLINE: lambda p: f"D-line {p[1]}: {p[2]}",
    n.RPL_STATSOLINE: lambda p: f"Operator {p[3]} may connect from {p[1]}",
    n.RPL_STATSUPTIME: lambda p: p[0],
    n.RPL_ENDOFSTATS: lambda p: f"End of /stats {p[0]}",
    n.RPL_BANLIST: lambda p: _list_entry("Ban", p),
    n.RPL_ENDOFBANLIST: lambda p: f"End of the ban list of {p[0]}",
    n.RPL_EXCEPTLIST: lambda p: _list_entry("Ban exception", p),
    n.RPL_ENDOFEXCEPTLIST: lambda p: f"End of the ban exception list of {p[0]}",
    n.RPL_INVITELIST: lambda p: _list_entry("Invite exception", p),
    n.RPL_ENDOFINVITELIST: lambda p: f"End of the invite exception list of {p[0]}",
    n.RPL_WHOWASUSER: lambda p: f"{p[0]} was {p[1]}@{p[2]}" + (f" ({p[4]})" if p[4] else ""),
    n.RPL_ENDOFWHOWAS: lambda p: f"End of /whowas {p[0]}",
    n.RPL_STATSDEBUG: lambda p: p[-1],
    n.RPL_LINKS: lambda p: f"Server {p[0]}: {p[2].partition(' ')[2]}",
    n.RPL_INFO: lambda p: p[0],
}


#: How the core begins the text of a refused room name (the reason follows a colon).
_INVALID_ROOM = "Invalid channel name"


def _no_such_room(p: tuple[str, ...]) -> str:
    name, text = p[0], p[-1]
    if text.startswith(_INVALID_ROOM):
        reason = text[len(_INVALID_ROOM) :].lstrip(": ")
        return f"{name} is not a valid room name" + (f": {reason}" if reason else "")
    if text != n.ERROR_TEXT[n.ERR_NOSUCHCHANNEL]:
        return text
    return f"No such room: {name}"


#: Refusals with their usual text, in words.
ERRORS: dict[str, Wording] = {
    n.ERR_UNKNOWNERROR: lambda p: "Internal error; the command was not completed",
    n.ERR_NOSUCHNICK: lambda p: f"No such nick or room: {p[0]}",
    n.ERR_NOSUCHSERVER: lambda p: f"No such server: {p[0]}",
    n.ERR_NOSUCHCHANNEL: _no_such_room,
    n.ERR_CANNOTSENDTOCHAN: lambda p: (
        f"{p[0]} is moderated: only voiced users and operators may speak"
        if p[1].endswith("(+m)")
        else f"You are banned from speaking in {p[0]}"
        if p[1].endswith("(+b)")
        else f"You cannot send to {p[0]}: join it first"
    ),
    n.ERR_TOOMANYCHANNELS: lambda p: f"You are in too many rooms to join {p[0]}",
    n.ERR_WASNOSUCHNICK: lambda p: f"No one called {p[0]} was here recently",
    n.ERR_TOOMANYTARGETS: lambda p: f"Too many names: {p[0]} and the ones after it were skipped",
    n.ERR_INVALIDCAPCMD: lambda p: f"Unknown CAP subcommand {p[0]}",
    n.ERR_NORECIPIENT: lambda p: "Whom to? Usage: /msg NICK|#room TEXT",
    n.ERR_NOTEXTTOSEND: lambda p: "No text to send",
    n.ERR_INPUTTOOLONG: lambda p: "Line too long; it was not sent",
    n.ERR_UNKNOWNCOMMAND: lambda p: f"Unknown command {p[0]}. Type /help for the list of commands.",
    n.ERR_NOMOTD: lambda p: None,  # a server without a message of the day says nothing
    n.ERR_NONICKNAMEGIVEN: lambda p: "Type a nickname (or /nick NAME)",
    n.ERR_ERRONEUSNICKNAME: lambda p: f"{p[0]!r} is not a valid nickname",
    n.ERR_NICKNAMEINUSE: lambda p: f"The nickname {p[0]} is taken; pick another",
    n.ERR_USERNOTINCHANNEL: lambda p: f"{p[0]} is not in {p[1]}",
    n.ERR_NOTONCHANNEL: lambda p: f"You are not in {p[0]}",
    n.ERR_USERONCHANNEL: lambda p: f"{p[0]} is already in {p[1]}",
    n.ERR_NOTREGISTERED: lambda p: "Pick a nickname first: type it, or /nick NAME",
    n.ERR_NEEDMOREPARAMS: lambda p: f"{p[0]} needs more parameters (see /help)",
    n.ERR_ALREADYREGISTERED: lambda p: "You are already registered",
    # 464 with its usual text answers /oper (a wrong server password has its own text).
    n.ERR_PASSWDMISMATCH: lambda p: "Wrong operator name or password",
    n.ERR_CHANNELISFULL: lambda p: f"{p[0]} is full",
    n.ERR_UNKNOWNMODE: lambda p: f"Unknown mode letter {p[0]} (see /help modes)",
    n.ERR_INVITEONLYCHAN: lambda p: f"{p[0]} is invite-only: ask an operator for /invite",
    n.ERR_BANNEDFROMCHAN: lambda p: f"You are banned from {p[0]}",
    n.ERR_BADCHANNELKEY: lambda p: f"{p[0]} needs a key: /join {p[0]} key=KEY",
    n.ERR_BANLISTFULL: lambda p: f"The +{p[1]} list of {p[0]} is full",
    n.ERR_NOPRIVILEGES: lambda p: "Only server operators can do that (see /oper)",
    n.ERR_CHANOPRIVSNEEDED: lambda p: f"You need to be an operator of {p[0]} for that",
    n.ERR_CANTKILLSERVER: lambda p: "You cannot kill the server",
    n.ERR_NOOPERHOST: lambda p: "You may not become that operator from your address",
    n.ERR_UMODEUNKNOWNFLAG: lambda p: "Unknown user mode letter (see /help modes)",
    n.ERR_USERSDONTMATCH: lambda p: "You can only see or change your own user modes",
    n.ERR_HELPNOTFOUND: lambda p: f"No help for {p[0]}. Type /help for the list of commands.",
    n.ERR_INVALIDKEY: lambda p: (
        f"That key is not valid for {p[0]}: one word of at most 23 characters, no commas"
    ),
    n.ERR_INVALIDMODEPARAM: lambda p: (
        f"+{p[1]} on {p[0]} {p[-1]}" if p[2] == "*" else f"{p[-1]} for {p[0]}: +{p[1]} {p[2]}"
    ),
    n.ERR_MONLISTFULL: lambda p: (
        f"Your monitor list is full ({p[0]} nicknames): not added: {nicks_of(p[1])}"
    ),
    n.ERR_NICKLOCKED: lambda p: "You must use the nickname of your account",
    n.ERR_SASLFAIL: lambda p: "SASL authentication failed",
    n.ERR_SASLTOOLONG: lambda p: "The SASL message was too long",
    n.ERR_SASLABORTED: lambda p: "SASL authentication was aborted",
    n.ERR_SASLALREADY: lambda p: "You have already logged in with SASL",
}

#: Codes whose wording reads the server's text, whatever it is: the text says
#: why (``+m``, an invalid room name) in IRC's words, not in a sentence.
READS_TEXT = frozenset(
    {n.ERR_NOSUCHCHANNEL, n.ERR_CANNOTSENDTOCHAN, n.ERR_NORECIPIENT, n.ERR_INVALIDMODEPARAM}
)


def reply(code: str, params: tuple[str, ...]) -> str | None:
    """A reply numeric in words, or None when this table has no wording for it."""
    fmt = REPLIES.get(code)
    if fmt is None:
        return None
    try:
        return fmt(params)
    except IndexError:
        return None  # a server that sent fewer parameters: the caller shows them as they are


def error(code: str, params: tuple[str, ...], *, name_subject: bool = False) -> str | None:
    """One sentence for an error numeric, or None when there is nothing to say.

    ``name_subject``: when the server's own text does not name what it is
    about, say it first (``zed: No such nick``); for servers other than
    ircish, whose texts are IRC's fragments rather than sentences.
    """
    text = params[-1] if params else ""
    usual = n.ERROR_TEXT.get(code)
    if usual is None:
        return fallback(params)
    if text != usual and code not in READS_TEXT:
        if not text:
            return fallback(params)
        subject = " ".join(params[:-1])
        if name_subject and subject not in ("", "*") and subject not in text:
            return f"{subject}: {text}"
        return text
    fmt = ERRORS.get(code)
    if fmt is not None:
        try:
            return fmt(params)
        except IndexError:
            pass
    return fallback(params)


def fallback(params: tuple[str, ...]) -> str:
    """An error numeric without a wording (a new one): still one sentence."""
    *subjects, text = params or ("Error",)
    subject = " ".join(subjects)
    if not subject:
        return text
    if text[:1].islower():
        # IRC's fragments: "x :is unknown mode char to me".
        return f"{subject} {text}"
    return f"{text}: {subject}"


def standard_reply(params: tuple[str, ...]) -> str:
    """``FAIL <command> <code> [<context>...] :<description>`` (WARN, NOTE) in words.

    ircish writes the description as a sentence for the user, which is what
    both sides show; without one, the command and the code say what failed.
    """
    if len(params) >= 3 and params[-1]:
        return params[-1]
    return " ".join(params[:2]) + " failed" if params else "Failed"
