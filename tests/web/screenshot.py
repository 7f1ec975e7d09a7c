"""Take docs/web.png: a real session in the web client, as alice sees it.

    python -m tests.web.screenshot docs/web.png [--width 1200 --height 700] [--dark]

Starts the real server, two browser users (alice and bob), a netcat user
(carol) and an IRC client (dave) in #ircish, has them talk, and saves alice's
page. ``--dark`` asks the page for the system's dark preference.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from selenium.webdriver.common.by import By

from tests.web.browser_support import Page, WebServer, chromium


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("--width", type=int, default=1200)
    parser.add_argument("--height", type=int, default=700)
    parser.add_argument("--dark", action="store_true")
    args = parser.parse_args()

    server = WebServer()
    profiles = [Path(tempfile.mkdtemp(prefix="ircish-chromium-")) for _ in range(2)]
    alice = Page(chromium(profiles[0], args.width, args.height), server)
    bob = Page(chromium(profiles[1]), server)
    try:
        if args.dark:
            alice.driver.execute_cdp_cmd(
                "Emulation.setEmulatedMedia",
                {"features": [{"name": "prefers-color-scheme", "value": "dark"}]},
            )
        alice.join_deep_link("alice", "#ircish")
        alice.type("/topic Everyday chat about ircish. Be kind.")
        bob.join_deep_link("bob", "#ircish,#rust")
        carol = server.plain("carol")
        carol.send("/join #ircish")
        carol.expect(r"Now talking in #ircish")
        dave = server.irc("dave")
        dave.send("JOIN #ircish")
        dave.expect(r" 366 dave #ircish ")
        alice.wait_member("dave")
        alice.type("morning all! coffee is ready")
        carol.send("/me grabs a mug")
        alice.wait_line("carol grabs a mug")
        carol.send("morning alice, I'm on netcat today")
        dave.send(
            "PRIVMSG #ircish :and I'm on plain IRC; the release notes: https://example.org/0.1"
        )
        bob.wait_line("release notes")
        bob.type("alice: did you see the new web client? it speaks IRCv3")
        alice.wait_line("new web client")
        alice.type("bob: yes, I'm in it right now")
        bob.type("/msg alice lunch later?")
        alice.wait(lambda: alice.unread("bob") == "1", "no private buffer from bob")
        bob.driver.find_element(By.ID, "input").send_keys("typing a reply")
        alice.wait(lambda: alice.driver.find_element(By.ID, "typing").text, "bob is not typing")
        alice.driver.save_screenshot(str(args.output))
        carol.close()
        dave.close()
    finally:
        alice.driver.quit()
        bob.driver.quit()
        server.stop()
        for profile in profiles:
            shutil.rmtree(profile, ignore_errors=True)
        shutil.rmtree(server.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
