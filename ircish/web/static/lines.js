// One line of a buffer as DOM: its time, who, and what they wrote (through format.js).
//
// A line is {kind, time, msgid, nick, text, self, highlight}; kinds are msg,
// action, notice, join, part, quit, nick, kick, topic, mode, info, error.
// Joins, parts, quits, nick changes and kicks in a row share one node
// (node.events), summed up by foldSummary.

import { render } from "./format.js";

export const el = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};

export function timeText(date) {
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
}

function foldedText(l) {
  switch (l.kind) {
    case "join":
      return `${l.nick} joined`;
    case "part":
      return `${l.nick} left`;
    case "quit":
      return `${l.nick} quit`;
    case "nick":
      return `${l.nick} is now ${l.text}`;
    case "kick":
      return `${l.text} was kicked by ${l.nick}`;
    default:
      return l.text;
  }
}

export function renderFold(node) {
  node.replaceChildren();
  const first = node.events[0];
  const time = el("time", "time", timeText(first.time));
  time.dateTime = first.time.toISOString();
  node.appendChild(time);
  const body = el("span", "body");
  body.textContent = foldSummary(node.events);
  body.title = node.events.map(foldedText).join("\n");
  node.appendChild(body);
}

function nickList(nicks) {
  return nicks.length < 2 ? nicks.join("") : `${nicks.slice(0, -1).join(", ")} and ${nicks.at(-1)}`;
}

/** Joins, parts and quits in a row as who ended up where: "alice and bob joined · carol quit". */
function foldSummary(events) {
  const last = new Map();
  const others = [];
  for (const e of events) {
    if (e.kind === "join" || e.kind === "part" || e.kind === "quit") {
      last.delete(e.nick);
      last.set(e.nick, e.kind);
    } else {
      others.push(foldedText(e));
    }
  }
  const words = { join: "joined", part: "left", quit: "quit" };
  const parts = [];
  for (const kind of ["join", "part", "quit"]) {
    const nicks = [...last].filter(([, k]) => k === kind).map(([n]) => n);
    if (nicks.length) parts.push(`${nickList(nicks)} ${words[kind]}`);
  }
  return [...parts, ...others].join(" · ");
}

export function renderLine(l, nickNode) {
  const row = el("div", `line line-${l.kind}`);
  if (l.highlight) row.classList.add("highlight");
  if (l.self) row.classList.add("self");
  if (l.msgid) row.dataset.msgid = l.msgid;
  const time = el("time", "time", timeText(l.time));
  time.dateTime = l.time.toISOString();
  time.title = l.time.toLocaleString();
  row.appendChild(time);
  const body = el("span", "body");
  if (l.kind === "msg") {
    body.append(el("span", "bracket", "<"), nickNode(l.nick), el("span", "bracket", ">"), " ");
  } else if (l.kind === "action") {
    body.append("* ", nickNode(l.nick), " ");
  } else if (l.kind === "notice") {
    body.append("-", nickNode(l.nick), "- ");
  } else if (l.kind === "error") {
    body.append("! ");
  } else if (l.kind === "topic") {
    body.append(nickNode(l.nick), " changed the topic to: ");
  }
  body.appendChild(render(l.text));
  row.appendChild(body);
  return row;
}

export function divider(className, text) {
  const node = el("div", `divider ${className}`);
  node.append(el("span", "", text));
  return node;
}
