"""A classic thread-per-client IRC server: the design most first chat servers have.

One thread per connection reads lines with a blocking ``recv``; one global
lock guards nicknames and channels; a message to a channel is written with a
blocking ``sendall`` to every member in turn, from the sender's own thread
(each socket has a lock so two senders never interleave half lines). It speaks
just enough IRC for the benchmark and for a stock client: CAP (none), NICK,
USER, PING, JOIN, PART, PRIVMSG, NOTICE, QUIT.

Deliberate choices, so it is a fair baseline rather than a strawman:
TCP_NODELAY on every socket (no Nagle delay), a listen backlog of 1024, and a
256 KiB thread stack (the 8 MiB default only costs address space, not RSS).

Run: ``python bench/peers/threaded_ircd.py --port 6668``.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import threading

SERVER = "threaded.bench"


class Client:
    """One connection and its identity."""

    __slots__ = ("alive", "channels", "host", "lock", "nick", "sock", "user")

    def __init__(self, sock: socket.socket, host: str) -> None:
        self.sock = sock
        self.host = host
        self.nick = ""
        self.user = ""
        self.channels: set[str] = set()
        self.lock = threading.Lock()
        self.alive = True

    @property
    def prefix(self) -> str:
        return f"{self.nick}!~{self.user}@{self.host}"

    def send(self, data: bytes) -> None:
        """Blocking write of whole lines; a dead peer just stops receiving."""
        if not self.alive:
            return
        with self.lock:
            try:
                self.sock.sendall(data)
            except OSError:
                self.alive = False


class State:
    """Everything shared between the client threads, behind one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.nicks: dict[str, Client] = {}
        self.channels: dict[str, set[Client]] = {}


def numeric(client: Client, code: str, text: str) -> bytes:
    return f":{SERVER} {code} {client.nick or '*'} {text}\r\n".encode()


def register(state: State, client: Client) -> None:
    lines = [
        numeric(client, "001", f":Welcome to the bench network {client.prefix}"),
        numeric(client, "002", f":Your host is {SERVER}"),
        numeric(client, "003", ":This server was created today"),
        numeric(client, "004", f"{SERVER} threaded-1 i nt"),
        numeric(client, "005", "CHANTYPES=# NICKLEN=30 :are supported by this server"),
        numeric(client, "375", f":- {SERVER} Message of the day -"),
        numeric(client, "372", ":- A thread per client."),
        numeric(client, "376", ":End of /MOTD command."),
    ]
    client.send(b"".join(lines))


def broadcast(members: list[Client], data: bytes, skip: Client | None = None) -> None:
    """The classic loop: one blocking send to every member in turn."""
    for member in members:
        if member is not skip:
            member.send(data)


def handle_line(state: State, client: Client, line: str) -> bool:
    """Run one command; False when the connection should end."""
    if not line:
        return True
    if line.startswith(":"):
        line = line.split(" ", 1)[1] if " " in line else ""
    head, sep, trailing = line.partition(" :")
    words = head.split()
    if not words:
        return True
    verb = words[0].upper()
    params = words[1:] + ([trailing] if sep else [])
    registered = bool(client.nick and client.user)
    if verb == "CAP":
        if params and params[0].upper() == "LS":
            client.send(f":{SERVER} CAP * LS :\r\n".encode())
    elif verb == "NICK" and params:
        with state.lock:
            if params[0].lower() in state.nicks:
                client.send(numeric(client, "433", f"{params[0]} :Nickname is already in use"))
                return True
            if client.nick:
                state.nicks.pop(client.nick.lower(), None)
            state.nicks[params[0].lower()] = client
        client.nick = params[0]
        if not registered and client.user:
            register(state, client)
    elif verb == "USER" and params:
        if not registered:
            client.user = params[0][:10]
            if client.nick:
                register(state, client)
    elif verb == "PING":
        client.send(f":{SERVER} PONG {SERVER} :{params[0] if params else ''}\r\n".encode())
    elif verb == "QUIT":
        return False
    elif not registered:
        client.send(numeric(client, "451", ":You have not registered"))
    elif verb == "JOIN" and params:
        for name in params[0].split(","):
            if not name.startswith("#") or name in client.channels:
                continue
            with state.lock:
                members = state.channels.setdefault(name, set())
                members.add(client)
                snapshot = list(members)
            client.channels.add(name)
            broadcast(snapshot, f":{client.prefix} JOIN {name}\r\n".encode())
            names = " ".join(m.nick for m in snapshot)
            client.send(
                numeric(client, "353", f"= {name} :{names}")
                + numeric(client, "366", f"{name} :End of /NAMES list.")
            )
    elif verb == "PART" and params:
        for name in params[0].split(","):
            if name not in client.channels:
                continue
            with state.lock:
                snapshot = list(state.channels.get(name, ()))
                state.channels.get(name, set()).discard(client)
            client.channels.discard(name)
            broadcast(snapshot, f":{client.prefix} PART {name}\r\n".encode())
    elif verb in ("PRIVMSG", "NOTICE") and len(params) >= 2:
        target, text = params[0], params[1]
        data = f":{client.prefix} {verb} {target} :{text}\r\n".encode()
        if target.startswith("#"):
            with state.lock:
                snapshot = list(state.channels.get(target, ()))
            broadcast(snapshot, data, skip=client)
        else:
            with state.lock:
                other = state.nicks.get(target.lower())
            if other is not None:
                other.send(data)
            elif verb == "PRIVMSG":
                client.send(numeric(client, "401", f"{target} :No such nick"))
    else:
        client.send(numeric(client, "421", f"{verb} :Unknown command"))
    return True


def serve_client(state: State, client: Client) -> None:
    buf = b""
    reason = "Connection closed"
    try:
        while client.alive:
            try:
                data = client.sock.recv(4096)
            except OSError:
                break
            if not data:
                break
            buf += data
            *lines, buf = buf.split(b"\n")
            for raw in lines:
                text = raw.rstrip(b"\r").decode("utf-8", "replace")
                if not handle_line(state, client, text):
                    reason = "Quit"
                    client.send(f"ERROR :Closing Link: {client.host} ({reason})\r\n".encode())
                    return
    finally:
        quit_client(state, client, reason)


def quit_client(state: State, client: Client, reason: str) -> None:
    with state.lock:
        if client.nick and state.nicks.get(client.nick.lower()) is client:
            del state.nicks[client.nick.lower()]
        peers: set[Client] = set()
        for name in client.channels:
            members = state.channels.get(name)
            if members is not None:
                members.discard(client)
                peers |= members
                if not members:
                    del state.channels[name]
    client.channels.clear()
    if client.nick:
        broadcast(list(peers), f":{client.prefix} QUIT :{reason}\r\n".encode())
    client.alive = False
    with contextlib.suppress(OSError):
        client.sock.shutdown(socket.SHUT_RDWR)
    client.sock.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6668)
    args = parser.parse_args(argv)
    threading.stack_size(256 * 1024)
    state = State()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.host, args.port))
    listener.listen(1024)
    try:
        while True:
            sock, addr = listener.accept()
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            client = Client(sock, addr[0])
            threading.Thread(target=serve_client, args=(state, client), daemon=True).start()
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
