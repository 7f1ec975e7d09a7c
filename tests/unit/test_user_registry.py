"""The user registry's indexes: by nickname, by uid, and by look-alike skeleton."""

from __future__ import annotations

from ircish.core.users import User, UserRegistry


def _user(nick: str) -> User:
    user = User("host.example", 0.0)
    user.set_nick(nick)
    return user


def test_one_holder_per_skeleton_is_found_and_forgotten() -> None:
    users = UserRegistry()
    alice = _user("alice")
    users.add(alice)
    assert users.lookalike("\u0430lice") is alice  # a Cyrillic a
    assert users.lookalike("alice", by=alice) is None
    users.remove(alice)
    assert users.lookalike("alice") is None


def test_several_holders_of_one_skeleton_each_see_the_other() -> None:
    # NICK never lets two look-alikes in; users from elsewhere (another process) may be.
    users = UserRegistry()
    first, second, third = _user("Guest1000"), _user("GuestlOOO"), _user("Guest1OOO")
    for user in (first, second, third):
        users.add(user)
    assert users.lookalike("guest1000", by=first) is second
    users.remove(second)
    assert users.lookalike("guest1000", by=first) is third
    users.remove(third)
    assert users.lookalike("guest1000", by=first) is None
    assert users.lookalike("guest1000") is first
    users.rename(first, "bob")
    assert users.lookalike("guest1000") is None
    assert users.lookalike("B0B") is first


def test_the_skeleton_shares_the_folded_string_when_they_are_equal() -> None:
    user = _user("Alice")
    assert user.skeleton is user.folded
    assert _user("Guest1000").skeleton != _user("Guest1000").folded
