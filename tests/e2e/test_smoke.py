"""A first end-to-end check: netcat-style and IRC users in one room."""

from tests.helpers import RunningServer


def test_plain_and_irc_users_chat(server: RunningServer) -> None:
    alice = server.plain("alice")
    bob = server.irc("bob")
    bob.send("JOIN #lobby")
    alice.expect(r"^\*\*\* bob joined #lobby$")
    alice.send("hello bob")
    bob.expect(r"^:alice!~plain@localhost PRIVMSG #lobby :hello bob$")
    bob.send("PRIVMSG #lobby :hi alice")
    alice.expect(r"^\[#lobby\] <bob> hi alice$")
    alice.close()
    bob.expect(r"^:alice!\S+ QUIT :Connection closed$")
    bob.close()
