"""IRC messages: one frozen value type, a parser and a formatter.

Grammar (Modern IRC client protocol, IRCv3 message-tags)::

    [@tags SPACE] [:source SPACE] command *(SPACE param) [SPACE :trailing]

The parser is shared by the server's IRC dialect and by the terminal client.
It works on ``str``; decoding bytes (UTF-8 with replacement) is the caller's job.

>>> Message.parse("@time=x :nick!u@h PRIVMSG #room :hello there")
Message(verb='PRIVMSG', params=('#room', 'hello there'), source='nick!u@h', tags={'time': 'x'})
>>> Message("PRIVMSG", ("#room", "hi all")).format()
'PRIVMSG #room :hi all'
"""

from __future__ import annotations

from dataclasses import dataclass, field

_TAG_UNESCAPE = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}
_TAG_ESCAPE = str.maketrans({";": "\\:", " ": "\\s", "\\": "\\\\", "\r": "\\r", "\n": "\\n"})


class MessageParseError(ValueError):
    """The line is not an IRC message (for example, it has no command)."""


def unescape_tag_value(value: str) -> str:
    """Undo IRCv3 tag-value escaping; an unknown escape drops the backslash."""
    if "\\" not in value:
        return value
    out: list[str] = []
    i = 0
    n = len(value)
    while i < n:
        ch = value[i]
        if ch == "\\":
            i += 1
            if i < n:
                out.append(_TAG_UNESCAPE.get(value[i], value[i]))
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def escape_tag_value(value: str) -> str:
    """Escape a tag value for the wire."""
    return value.translate(_TAG_ESCAPE)


def parse_tags(raw: str) -> dict[str, str]:
    """Parse the part between ``@`` and the first space."""
    tags: dict[str, str] = {}
    for item in raw.split(";"):
        if not item:
            continue
        key, sep, value = item.partition("=")
        tags[key] = unescape_tag_value(value) if sep else ""
    return tags


def format_tags(tags: dict[str, str]) -> str:
    """Format tags without the leading ``@``; empty values are sent bare."""
    return ";".join(f"{k}={escape_tag_value(v)}" if v else k for k, v in tags.items())


def split_line(line: str) -> tuple[str, tuple[str, ...], str | None, dict[str, str]]:
    """A line's verb (upper case), parameters, source and tags: ``Message.parse`` in parts.

    The server's parser uses the parts directly: one object fewer per line.
    """
    tags: dict[str, str] = {}
    rest = line
    if rest.startswith("@"):
        end = rest.find(" ")
        if end < 0:
            raise MessageParseError("message has tags but no command")
        tags = parse_tags(rest[1:end])
        rest = rest[end:]
    rest = rest.lstrip(" ")
    source = None
    if rest.startswith(":"):
        end = rest.find(" ")
        if end < 0:
            raise MessageParseError("message has a source but no command")
        source = rest[1:end]
        rest = rest[end:].lstrip(" ")
    # str methods beat a character loop: " :" starts the trailing parameter,
    # since a middle parameter may contain a colon but never start with one.
    trail = rest.find(" :")
    head = rest if trail < 0 else rest[:trail]
    params = head.split(" ")
    if "" in params:
        params = [p for p in params if p]
    if trail >= 0:
        params.append(rest[trail + 2 :])
    if not params or not params[0]:
        raise MessageParseError("message has no command")
    return params[0].upper(), tuple(params[1:]), source, tags


@dataclass(frozen=True, slots=True)
class Message:
    """One IRC line, parsed."""

    verb: str
    params: tuple[str, ...] = ()
    source: str | None = None
    tags: dict[str, str] = field(default_factory=dict, compare=True)

    @classmethod
    def parse(cls, line: str) -> Message:
        """Parse one line (without its line ending)."""
        return cls(*split_line(line))

    def format(self) -> str:
        """Format for the wire (without the line ending).

        The last parameter is sent as a trailing one when it must be (empty,
        contains a space, or starts with a colon).
        """
        parts: list[str] = []
        if self.tags:
            parts.append("@" + format_tags(self.tags))
        if self.source:
            parts.append(":" + self.source)
        parts.append(self.verb)
        if self.params:
            parts.extend(self.params[:-1])
            last = self.params[-1]
            if not last or " " in last or last[0] == ":":
                last = ":" + last
            parts.append(last)
        return " ".join(parts)

    @property
    def nick(self) -> str | None:
        """The nickname part of the source, if any."""
        if self.source is None:
            return None
        return self.source.split("!", 1)[0].split("@", 1)[0]
