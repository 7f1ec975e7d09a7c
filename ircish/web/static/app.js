// The ircish web client: IRC over a WebSocket to the server that served this page.
//
// Theory of operation. One `state` object holds the connection (caps, nick,
// ISUPPORT), the buffers (the server's, rooms, private conversations) and
// what is in progress (batches, labels). Lines from the server go through
// handle(), which changes the state and asks the view to show what changed;
// the view (show*, render*) only reads the state. Everything others wrote is
// put on the page by format.js, as text nodes.
//
// History: a room's latest lines are fetched when it is joined (CHATHISTORY
// LATEST), older ones when the view is scrolled to the top (BEFORE), and
// after a reconnect what came after the last line seen (LATEST msgid=...).
// Lines are kept sorted by server time and deduplicated by msgid, so live
// lines and history can arrive in any order.

import { parse, format, ctcp, fold } from "./irc.js";
import { render, plain, nickClass, mentions } from "./format.js";
import { el, divider, renderFold, renderLine } from "./lines.js";
import { Completer, InputHistory } from "./input.js";
import * as slash from "./commands.js";

const WANTED_CAPS = [
  "account-notify",
  "away-notify",
  "batch",
  "chghost",
  "draft/account-registration",
  "draft/chathistory",
  "draft/event-playback",
  "draft/read-marker",
  "echo-message",
  "labeled-response",
  "message-tags",
  "multi-prefix",
  "server-time",
  "setname",
];
const HISTORY_PAGE = 50;
// What a reconnection fetches of each conversation: pages of this many, at most this many pages.
const CATCH_UP_PAGE = 100;
const CATCH_UP_PAGES = 10;
const RECONNECT_MAX_DELAY = 30000;
const TYPING_SEND_EVERY = 3000;
const TYPING_SHOWN_FOR = 6000;
const MARKREAD_DELAY = 1000;
const TARGETS_SINCE = 7 * 24 * 3600 * 1000;
// How many "_" a taken nickname may get while connecting.
const NICK_RETRIES = 3;
const SAVED_LOGIN = "ircish.login";
// The part of a PRIVMSG line a message may use, in UTF-8 bytes (512 less the relay's prefix).
const MESSAGE_BYTES = 400;
const FOLDED = new Set(["join", "part", "quit", "nick", "kick"]);

const $ = (id) => document.getElementById(id);

const state = {
  ws: null,
  nick: "",
  // The account to log in to: the nickname asked for (a taken one is changed while registering).
  login: "",
  password: "",
  mode: "login",
  autojoin: [],
  registered: false,
  nickTries: 0,
  wantedNick: "",
  quitting: false,
  caps: new Set(),
  offered: new Map(),
  account: null,
  isupport: { CHANTYPES: "#", PREFIX: "(ov)@+", NETWORK: "" },
  buffers: new Map(),
  current: "",
  batches: new Map(),
  labels: new Map(),
  nextLabel: 1,
  reconnectDelay: 1000,
  reconnectTimer: null,
  focusOnJoin: false,
  lastTypingSent: 0,
  lastSeen: null,
};

// -- buffers -------------------------------------------------------------------------

const SERVER = "";

function isRoomName(name) {
  return Boolean(name) && state.isupport.CHANTYPES.includes(name[0]);
}

function prefixes() {
  const m = /^\(([^)]*)\)(.*)$/.exec(state.isupport.PREFIX) || [null, "ov", "@+"];
  return { modes: m[1], symbols: m[2] };
}

function newBuffer(name, kind) {
  return {
    name,
    kind,
    lines: [],
    msgids: new Set(),
    members: new Map(),
    namesDone: true,
    topic: "",
    joined: false,
    wanted: false,
    unread: 0,
    highlights: 0,
    marker: null,
    typing: new Map(),
    historyDone: false,
    loading: false,
    markTimer: null,
  };
}

function buffer(name, kind) {
  const key = name === SERVER ? SERVER : fold(name);
  let buf = state.buffers.get(key);
  if (!buf) {
    buf = newBuffer(name, kind || (isRoomName(name) ? "room" : "query"));
    state.buffers.set(key, buf);
    showBufferList();
  }
  return buf;
}

function findBuffer(name) {
  return state.buffers.get(name === SERVER ? SERVER : fold(name)) || null;
}

function currentBuffer() {
  return state.buffers.get(state.current) || state.buffers.get(SERVER);
}

function switchTo(buf) {
  state.current = buf.name === SERVER ? SERVER : fold(buf.name);
  // "New messages" goes above the first of the lines that were unread.
  const counted = buf.lines.filter((l) => l.counts && !l.self);
  buf.divider = buf.unread ? counted[Math.max(0, counted.length - buf.unread)] : null;
  buf.unread = 0;
  buf.highlights = 0;
  document.body.classList.remove("show-sidebar");
  showBufferList();
  showBuffer();
  scheduleMarkRead(buf);
  $("input").focus();
}

function closeBuffer(buf) {
  state.buffers.delete(fold(buf.name));
  if (state.current === fold(buf.name)) {
    const rest = [...state.buffers.values()];
    switchTo(rest[rest.length - 1] || state.buffers.get(SERVER));
  } else {
    showBufferList();
  }
}

// -- lines ---------------------------------------------------------------------------

function lineTime(msg) {
  const t = msg && msg.tags.time ? new Date(msg.tags.time) : new Date();
  return Number.isNaN(t.getTime()) ? new Date() : t;
}

/** Add lines to a buffer (sorted by time, one per msgid); live lines count as unread. */
function addLines(buf, lines, live) {
  const fresh = lines.filter((l) => !(l.msgid && buf.msgids.has(l.msgid)));
  if (!fresh.length) return;
  for (const l of fresh) if (l.msgid) buf.msgids.add(l.msgid);
  const last = buf.lines[buf.lines.length - 1];
  const inOrder = fresh.every((l, i) => i === 0 || fresh[i - 1].time <= l.time);
  const appended = inOrder && (!last || last.time <= fresh[0].time);
  if (appended) buf.lines.push(...fresh);
  else buf.lines = [...buf.lines, ...fresh].sort((a, b) => a.time - b.time);
  if (fresh.some((l) => l.msgid)) {
    const seen = fresh.filter((l) => l.msgid).map((l) => l.time);
    const newest = new Date(Math.max(...seen));
    if (!state.lastSeen || newest > state.lastSeen) state.lastSeen = newest;
  }
  const isCurrent = currentBuffer() === buf;
  for (const l of fresh) {
    if (l.self || !l.counts) continue;
    if (buf.marker && l.time <= buf.marker) continue;
    if (isCurrent && document.visibilityState !== "hidden") continue;
    if (!live && !buf.marker) continue; // old history, with no marker to compare: not news
    buf.unread += 1;
    if (l.highlight || buf.kind === "query") buf.highlights += 1;
  }
  for (const l of fresh) if (l.nick) stopTyping(buf, l.nick);
  if (isCurrent) {
    if (appended) fresh.forEach(appendLine);
    else showLines(buf);
    scheduleMarkRead(buf);
  }
  showBufferList();
}

/** A line for what a message from the server says happened (its time, msgid and sender). */
function eventLine(kind, msg, fields = {}) {
  return line(kind, { time: lineTime(msg), msgid: msg.tags.msgid || "", nick: msg.nick, ...fields });
}

function line(kind, fields) {
  return { kind, time: new Date(), msgid: "", nick: "", text: "", counts: false, ...fields };
}

/** A line of the page's own (no server time): never before what the buffer shows already,
 * even when this computer's clock is behind the server's. */
function localLine(buf, kind, fields) {
  const last = buf.lines[buf.lines.length - 1];
  const now = new Date();
  return line(kind, { time: last && last.time > now ? last.time : now, ...fields });
}

function info(text, buf) {
  const target = buf || currentBuffer();
  addLines(target, [localLine(target, "info", { text })], false);
}

function error(text, buf) {
  const target = buf || currentBuffer();
  addLines(target, [localLine(target, "error", { text })], false);
}

// -- the view --------------------------------------------------------------------------

function nickNode(nick) {
  const node = el("span", `nick ${nickClass(nick)}`, nick);
  node.addEventListener("click", () => {
    if (!isMe(nick)) switchTo(buffer(nick, "query"));
  });
  return node;
}

// What the view has shown so far: the day of its last line, and the line "New messages" goes above.
const shown = { day: "", divider: null };

function appendLine(l) {
  const view = $("messages");
  const atBottom = view.scrollHeight - view.scrollTop - view.clientHeight < 40;
  const day = l.time.toDateString();
  if (day !== shown.day) {
    // Times are hours and minutes: a line from another day says which day first.
    if (shown.day || day !== new Date().toDateString()) {
      view.appendChild(divider("day", l.time.toLocaleDateString([], { dateStyle: "full" })));
    }
    shown.day = day;
  }
  if (l === shown.divider) view.appendChild(divider("new", "New messages"));
  const lastNode = view.lastElementChild;
  if (FOLDED.has(l.kind) && lastNode && lastNode.events) {
    lastNode.events.push(l);
    renderFold(lastNode);
  } else if (FOLDED.has(l.kind)) {
    const node = el("div", "line line-fold");
    node.events = [l];
    renderFold(node);
    view.appendChild(node);
  } else {
    view.appendChild(renderLine(l, nickNode));
  }
  if (atBottom) view.scrollTop = view.scrollHeight;
}

function showLines(buf, keepScroll) {
  const view = $("messages");
  const fromBottom = view.scrollHeight - view.scrollTop;
  view.replaceChildren();
  shown.day = "";
  shown.divider = buf.divider || null;
  buf.lines.forEach(appendLine);
  if (keepScroll) view.scrollTop = view.scrollHeight - fromBottom;
  else view.scrollTop = view.scrollHeight;
}

function showBuffer() {
  const buf = currentBuffer();
  $("buffer-name").textContent = buf.name || serverName();
  $("topic").replaceChildren(render(buf.topic));
  $("topic").title = plain(buf.topic);
  document.body.classList.toggle("has-members", buf.kind === "room");
  showLines(buf);
  showMembers();
  showTyping();
  // A short room needs no scrolling to reach its top: fetch older lines now.
  maybeLoadOlder();
}

function serverName() {
  return state.isupport.NETWORK || location.hostname || "server";
}

function showBufferList() {
  const list = $("buffers");
  list.replaceChildren();
  const bufs = [...state.buffers.values()];
  const order = { server: 0, room: 1, query: 2 };
  bufs.sort((a, b) => order[a.kind] - order[b.kind] || fold(a.name).localeCompare(fold(b.name)));
  for (const buf of bufs) {
    const item = el("li", `buffer buffer-${buf.kind}`);
    item.dataset.name = buf.name;
    if (currentBuffer() === buf) item.classList.add("current");
    if (buf.kind === "room" && !buf.joined) item.classList.add("parted");
    const button = el("button", "buffer-button");
    button.type = "button";
    button.append(el("span", "buffer-label", buf.name || serverName()));
    if (buf.unread) {
      const badge = el("span", "unread", String(buf.unread));
      if (buf.highlights) badge.classList.add("highlighted");
      badge.title = buf.highlights
        ? `${buf.unread} unread, ${buf.highlights} for you`
        : `${buf.unread} unread`;
      button.append(badge);
    }
    button.addEventListener("click", () => switchTo(buf));
    item.append(button);
    list.append(item);
  }
}

function memberRank(prefix) {
  const { symbols } = prefixes();
  const i = prefix ? symbols.indexOf(prefix[0]) : -1;
  return i < 0 ? symbols.length : i;
}

function showMembers() {
  const buf = currentBuffer();
  const list = $("members");
  list.replaceChildren();
  if (buf.kind !== "room") return;
  const members = [...buf.members.entries()].sort(
    ([a, ma], [b, mb]) =>
      memberRank(ma.prefix) - memberRank(mb.prefix) || fold(a).localeCompare(fold(b)),
  );
  $("members-title").textContent = `${members.length} ${members.length === 1 ? "member" : "members"}`;
  for (const [nick, m] of members) {
    const item = el("li", "member");
    if (m.away) {
      item.classList.add("away");
      item.title = `${nick} is away`;
    }
    item.append(el("span", "prefix", m.prefix ? m.prefix[0] : ""), nickNode(nick));
    item.addEventListener("click", () => {
      document.body.classList.remove("show-members");
      if (!isMe(nick)) switchTo(buffer(nick, "query"));
    });
    list.append(item);
  }
}

function showTyping() {
  const buf = currentBuffer();
  const nicks = [...buf.typing.keys()];
  $("typing").textContent =
    nicks.length === 0
      ? ""
      : nicks.length === 1
        ? `${nicks[0]} is typing…`
        : `${nicks.join(", ")} are typing…`;
}

function showStatus(text) {
  $("status").textContent = text;
}

// -- sending -----------------------------------------------------------------------------

function send(verb, params = [], tags = {}) {
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN) return false;
  state.ws.send(format(verb, params, tags));
  return true;
}

/** Send a command whose answer (numerics, errors) belongs in buf (labeled-response). */
function sendFor(buf, verb, params) {
  const tags = {};
  if (state.caps.has("labeled-response") && state.caps.has("batch")) {
    const label = `w${state.nextLabel++}`;
    state.labels.set(label, buf.name);
    tags.label = label;
  }
  return send(verb, params, tags);
}

function utf8Length(text) {
  return new TextEncoder().encode(text).length;
}

/** Split a message into pieces that fit one line each, at spaces where possible. */
function pieces(text, room) {
  const out = [];
  let restText = text;
  while (utf8Length(restText) > room) {
    let cut = 0;
    let bytes = 0;
    for (const ch of restText) {
      bytes += utf8Length(ch);
      if (bytes > room) break;
      cut += ch.length;
    }
    const space = restText.lastIndexOf(" ", cut);
    if (space > cut / 2) cut = space;
    out.push(restText.slice(0, cut));
    restText = restText.slice(cut).replace(/^ /, "");
  }
  out.push(restText);
  return out;
}

function say(target, text, verb = "PRIVMSG") {
  const action = ctcp(text);
  const isAction = action && action.verb === "ACTION";
  const body = isAction ? action.arg : text;
  const room = MESSAGE_BYTES - utf8Length(target) - (isAction ? 9 : 0);
  const buf = buffer(target);
  for (const piece of pieces(body, room)) {
    const wire = isAction ? `\x01ACTION ${piece}\x01` : piece;
    if (!send(verb, [target, wire])) {
      error("Not connected: the message was not sent", buf);
      return;
    }
    if (!state.caps.has("echo-message")) {
      const kind = verb === "NOTICE" ? "notice" : isAction ? "action" : "msg";
      addLines(buf, [localLine(buf, kind, { nick: state.nick, text: piece, self: true })], true);
    }
  }
  state.lastTypingSent = 0;
}

function markRead(buf) {
  buf.markTimer = null;
  const last = [...buf.lines].reverse().find((l) => l.msgid);
  if (!last || !state.account || !state.caps.has("draft/read-marker")) return;
  if (buf.kind === "server" || (buf.marker && last.time <= buf.marker)) return;
  buf.marker = last.time;
  send("MARKREAD", [buf.name, `timestamp=${last.time.toISOString()}`]);
}

function scheduleMarkRead(buf) {
  if (buf.markTimer || document.visibilityState === "hidden") return;
  buf.markTimer = setTimeout(() => markRead(buf), MARKREAD_DELAY);
}

function fetchHistory(buf, selector, limit, how = "LATEST") {
  if (!state.caps.has("draft/chathistory")) return;
  buf.loading = true;
  buf.request = { how, limit };
  send("CHATHISTORY", [how, buf.name, selector, String(limit)]);
}

/** Fetch what was missed in buf: everything after its newest line, or its latest lines. */
function catchUp(buf) {
  const last = [...buf.lines].reverse().find((l) => l.msgid);
  buf.catchUpPages = 0;
  if (last) fetchHistory(buf, `msgid=${last.msgid}`, CATCH_UP_PAGE, "AFTER");
  else fetchHistory(buf, "*", HISTORY_PAGE);
}

/** After a full page of missed lines, the next page (AFTER its newest line), up to a bound. */
function continueCatchUp(buf, batchLines) {
  const newest = [...batchLines].reverse().find((m) => m.tags.msgid);
  const full = buf.request && buf.request.how === "AFTER" && batchLines.length >= buf.request.limit;
  buf.request = null;
  if (!full || !newest || ++buf.catchUpPages >= CATCH_UP_PAGES) return;
  fetchHistory(buf, `msgid=${newest.tags.msgid}`, CATCH_UP_PAGE, "AFTER");
}

function maybeLoadOlder() {
  const buf = currentBuffer();
  const view = $("messages");
  if (buf.kind === "server" || buf.loading || buf.historyDone) return;
  if (buf.kind === "room" && !buf.joined) return;
  if (view.scrollTop > 60) return;
  const oldest = buf.lines.find((l) => l.msgid);
  if (!oldest) return;
  fetchHistory(buf, `msgid=${oldest.msgid}`, HISTORY_PAGE, "BEFORE");
}

// -- typing indicators -----------------------------------------------------------------

function stopTyping(buf, nick) {
  const timer = buf.typing.get(nick);
  if (timer === undefined) return;
  clearTimeout(timer);
  buf.typing.delete(nick);
  if (currentBuffer() === buf) showTyping();
}

function typingFrom(buf, nick, value) {
  stopTyping(buf, nick);
  if (value === "active") {
    buf.typing.set(
      nick,
      setTimeout(() => stopTyping(buf, nick), TYPING_SHOWN_FOR),
    );
  }
  if (currentBuffer() === buf) showTyping();
}

function typed() {
  const buf = currentBuffer();
  const text = $("input").value;
  if (!state.caps.has("message-tags") || buf.kind === "server") return;
  if (buf.kind === "room" && !buf.joined) return;
  const now = Date.now();
  if (!text || text.startsWith("/")) {
    if (state.lastTypingSent) send("TAGMSG", [buf.name], { "+typing": "done" });
    state.lastTypingSent = 0;
  } else if (now - state.lastTypingSent > TYPING_SEND_EVERY) {
    state.lastTypingSent = now;
    send("TAGMSG", [buf.name], { "+typing": "active" });
  }
}

// -- the connection ------------------------------------------------------------------------

function socketUrl() {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/socket`;
}

function connect() {
  clearTimeout(state.reconnectTimer);
  state.reconnectTimer = null;
  state.registered = false;
  state.nickTries = 0;
  state.caps = new Set();
  state.offered = new Map();
  state.batches = new Map();
  state.labels = new Map();
  showStatus("connecting…");
  const ws = new WebSocket(socketUrl(), ["text.ircv3.net"]);
  state.ws = ws;
  ws.addEventListener("open", () => {
    showStatus("registering…");
    send("CAP", ["LS", "302"]);
    send("NICK", [state.nick]);
    // A username is at most 10 of these characters (docs/protocol.md); the realname is free.
    const user = state.nick.replace(/[^A-Za-z0-9._-]/g, "").slice(0, 10) || "web";
    send("USER", [user, "0", "*", state.nick]);
  });
  ws.addEventListener("message", (event) => {
    if (typeof event.data !== "string") return;
    for (const text of event.data.split(/\r?\n/)) {
      if (!text) continue;
      let msg;
      try {
        msg = parse(text);
      } catch {
        continue;
      }
      try {
        handle(msg);
      } catch (err) {
        console.error("could not handle a line", msg.verb, err);
      }
    }
  });
  ws.addEventListener("close", () => {
    if (state.ws !== ws) return;
    state.ws = null;
    lostConnection();
  });
}

function lostConnection() {
  state.registered = false;
  for (const buf of state.buffers.values()) {
    if (buf.kind === "room" && buf.joined) {
      buf.joined = false;
      buf.wanted = true;
    }
    buf.typing.forEach((t) => clearTimeout(t));
    buf.typing.clear();
    buf.loading = false;
  }
  showBufferList();
  if (state.quitting) {
    showStatus("disconnected");
    info("Disconnected. Reload the page to connect again.", state.buffers.get(SERVER));
    return;
  }
  const delay = Math.round(state.reconnectDelay * (0.75 + Math.random() * 0.5));
  state.reconnectDelay = Math.min(state.reconnectDelay * 2, RECONNECT_MAX_DELAY);
  showStatus(`disconnected: reconnecting in ${Math.ceil(delay / 1000)} s`);
  error(`Disconnected from the server; reconnecting in ${Math.ceil(delay / 1000)} s`);
  state.reconnectTimer = setTimeout(connect, delay);
}

function endRegistration() {
  send("CAP", ["END"]);
}

function capLs(params) {
  // CAP * LS * :a b=c ... (more to come) or CAP * LS :...
  const more = params[2] === "*";
  const list = params[more ? 3 : 2] || "";
  for (const item of list.split(" ").filter(Boolean)) {
    const eq = item.indexOf("=");
    state.offered.set(eq < 0 ? item : item.slice(0, eq), eq < 0 ? "" : item.slice(eq + 1));
  }
  if (more || state.registered) return;
  const wanted = WANTED_CAPS.filter((c) => state.offered.has(c));
  if (state.password && state.mode === "login" && state.offered.has("sasl")) wanted.push("sasl");
  if (wanted.length) send("CAP", ["REQ", wanted.join(" ")]);
  else endRegistration();
}

function capAck(params) {
  for (const name of (params[2] || "").split(" ").filter(Boolean)) {
    if (name.startsWith("-")) state.caps.delete(name.slice(1));
    else state.caps.add(name);
  }
  if (state.registered) return;
  if (state.caps.has("sasl") && state.password && state.mode === "login") {
    send("AUTHENTICATE", ["PLAIN"]);
  } else {
    endRegistration();
  }
}

function saslPlain() {
  const bytes = new TextEncoder().encode(`${state.login}\0${state.login}\0${state.password}`);
  let binary = "";
  bytes.forEach((b) => {
    binary += String.fromCharCode(b);
  });
  const encoded = btoa(binary);
  // AUTHENTICATE carries at most 400 bytes a line; a full last chunk is followed by "+".
  for (let i = 0; i < encoded.length; i += 400) send("AUTHENTICATE", [encoded.slice(i, i + 400)]);
  if (encoded.length % 400 === 0) send("AUTHENTICATE", ["+"]);
}

function welcome(msg) {
  state.registered = true;
  state.nick = msg.params[0];
  state.reconnectDelay = 1000;
  showStatus(`connected as ${state.nick}`);
  if (!location.search.includes("nick=")) rememberInUrl();
  if (state.password && state.mode === "register") {
    if (state.caps.has("draft/account-registration")) {
      sendFor(state.buffers.get(SERVER), "REGISTER", ["*", "*", state.password]);
    } else {
      sendFor(state.buffers.get(SERVER), "PRIVMSG", ["NickServ", `REGISTER ${state.password}`]);
    }
  } else if (state.password && !state.caps.has("sasl")) {
    send("PRIVMSG", ["NickServ", `IDENTIFY ${state.login} ${state.password}`]);
  }
  const rooms = [...state.buffers.values()].filter((b) => b.kind === "room" && b.wanted);
  const names = [...new Set([...rooms.map((b) => b.name), ...state.autojoin])];
  // The first room of a link or the form comes into view; a reconnection leaves the view be.
  state.focusOnJoin = state.autojoin.length > 0;
  state.autojoin = [];
  if (names.length) send("JOIN", [names.join(",")]);
  for (const buf of state.buffers.values()) if (buf.kind === "query") catchUp(buf);
  if (state.caps.has("draft/chathistory")) {
    // Private conversations of the last week (or since we were last here) with new lines.
    const since = state.lastSeen || new Date(Date.now() - TARGETS_SINCE);
    const now = new Date(Date.now() + 1000).toISOString();
    send("CHATHISTORY", ["TARGETS", `timestamp=${since.toISOString()}`, `timestamp=${now}`, "50"]);
  }
}

function rememberInUrl() {
  const rooms = [...state.buffers.values()].filter((b) => b.kind === "room" && (b.joined || b.wanted));
  const join = [...rooms.map((b) => b.name), ...state.autojoin];
  const query = new URLSearchParams({ nick: state.nick });
  if (join.length) query.set("join", join.join(","));
  history.replaceState(null, "", `?${query}`);
}

// -- what the server sends ------------------------------------------------------------------

function isMe(nick) {
  return fold(nick) === fold(state.nick);
}

function stripStatus(target) {
  const { symbols } = prefixes();
  let t = target;
  while (t && symbols.includes(t[0]) && isRoomName(t.slice(1))) t = t.slice(1);
  return t;
}

/** The buffer a message belongs in: the room, or the other person of a private one. */
function conversation(msg) {
  const target = stripStatus(msg.params[0] || "");
  if (isRoomName(target)) return target;
  return isMe(msg.nick) ? target : msg.nick;
}

function messageLine(msg) {
  let text = msg.params[1] || "";
  let kind = msg.verb === "NOTICE" ? "notice" : "msg";
  const request = ctcp(text);
  if (request) {
    if (request.verb !== "ACTION") return null;
    kind = "action";
    text = request.arg;
  }
  const self = isMe(msg.nick);
  return line(kind, {
    time: lineTime(msg),
    msgid: msg.tags.msgid || "",
    nick: msg.nick,
    text,
    self,
    counts: true,
    highlight: !self && mentions(text, state.nick),
  });
}

/** A line of a chathistory batch (event-playback included); null for what is not shown. */
function historyLine(msg) {
  switch (msg.verb) {
    case "PRIVMSG":
    case "NOTICE":
      return messageLine(msg);
    case "JOIN":
      return eventLine("join", msg);
    case "PART":
      return eventLine("part", msg);
    case "QUIT":
      return eventLine("quit", msg);
    case "NICK":
      return eventLine("nick", msg, { text: msg.params[0] });
    case "KICK":
      return eventLine("kick", msg, { text: msg.params[1] });
    case "TOPIC":
      return eventLine("topic", msg, { text: msg.params[1] || "" });
    default:
      return null;
  }
}

function batchOf(msg) {
  return msg.tags.batch ? state.batches.get(msg.tags.batch) : undefined;
}

/** The buffer where the answer to a labeled command goes (else the one in view). */
function replyBuffer(msg) {
  let label = msg.tags.label;
  let batch = batchOf(msg);
  while (!label && batch) {
    label = batch.label;
    batch = batch.parent;
  }
  const name = label ? state.labels.get(label) : undefined;
  if (name !== undefined) return findBuffer(name) || state.buffers.get(SERVER);
  return state.registered ? currentBuffer() : state.buffers.get(SERVER);
}

function startBatch(msg) {
  const ref = msg.params[0].slice(1);
  state.batches.set(ref, {
    type: msg.params[1] || "",
    params: msg.params.slice(2),
    label: msg.tags.label,
    parent: batchOf(msg),
    lines: [],
  });
}

function endBatch(msg) {
  const ref = msg.params[0].slice(1);
  const batch = state.batches.get(ref);
  state.batches.delete(ref);
  if (!batch) return;
  if (batch.type === "chathistory") {
    const buf = buffer(batch.params[0]);
    const wasEmpty = buf.lines.every((l) => !l.msgid);
    const lines = batch.lines.map(historyLine).filter(Boolean);
    buf.loading = false;
    const wasBefore = buf.request && buf.request.how === "BEFORE";
    if (!batch.lines.length && wasBefore) buf.historyDone = true;
    continueCatchUp(buf, batch.lines);
    const view = $("messages");
    const atTop = currentBuffer() === buf && view.scrollTop < 60 && !wasEmpty;
    const before = buf.lines.length;
    addLines(buf, lines, false);
    if (atTop && buf.lines.length !== before) showLines(buf, true);
  } else if (batch.type === "draft/chathistory-targets") {
    for (const m of batch.lines) {
      const name = m.params[1];
      if (m.verb !== "CHATHISTORY" || !name || isRoomName(name)) continue;
      const buf = buffer(name, "query");
      catchUp(buf);
    }
  }
  if (batch.label) state.labels.delete(batch.label);
}

const HANDLERS = {
  PING: (msg) => send("PONG", msg.params),
  CAP: (msg) => {
    const sub = (msg.params[1] || "").toUpperCase();
    if (sub === "LS") capLs(msg.params);
    else if (sub === "ACK") capAck(msg.params);
    else if (sub === "NAK" && !state.registered) endRegistration();
    else if (sub === "NEW") {
      // cap-notify (implied by CAP LS 302): ask for the new ones we want.
      const added = (msg.params[2] || "").split(" ").map((c) => c.split("=")[0]);
      const wanted = added.filter((c) => WANTED_CAPS.includes(c) && !state.caps.has(c));
      if (wanted.length) send("CAP", ["REQ", wanted.join(" ")]);
    } else if (sub === "DEL") {
      for (const name of (msg.params[2] || "").split(" ")) state.caps.delete(name);
    }
  },
  AUTHENTICATE: (msg) => {
    if (msg.params[0] === "+") saslPlain();
  },
  BATCH: (msg) => {
    if (msg.params[0].startsWith("+")) startBatch(msg);
    else endBatch(msg);
  },
  PRIVMSG: (msg) => {
    const l = messageLine(msg);
    if (!l) return;
    addLines(buffer(conversation(msg)), [l], true);
  },
  NOTICE: (msg) => {
    const l = messageLine(msg);
    if (!l) return;
    const target = stripStatus(msg.params[0] || "");
    if (!msg.source.includes("!") || !state.registered) {
      addLines(state.buffers.get(SERVER), [l], true);
    } else if (isRoomName(target)) {
      addLines(buffer(target), [l], true);
    } else {
      // A notice (NickServ, someone's reply) goes where one is, or to an open conversation.
      const other = findBuffer(isMe(msg.nick) ? target : msg.nick);
      addLines(other || currentBuffer(), [l], true);
    }
  },
  TAGMSG: (msg) => {
    const value = msg.tags["+typing"] || msg.tags["+draft/typing"];
    if (!value || isMe(msg.nick)) return;
    const buf = findBuffer(conversation(msg));
    if (buf) typingFrom(buf, msg.nick, value);
  },
  JOIN: (msg) => {
    const room = msg.params[0];
    const buf = buffer(room, "room");
    if (isMe(msg.nick)) {
      buf.joined = true;
      buf.wanted = false;
      buf.members.clear();
      buf.historyDone = false;
      catchUp(buf);
      if (state.focusOnJoin || buf.switchOnJoin || currentBuffer().kind === "server") {
        state.focusOnJoin = false;
        buf.switchOnJoin = false;
        switchTo(buf);
      }
      rememberInUrl();
      showBufferList();
    } else {
      buf.members.set(msg.nick, { prefix: "", away: false, account: msg.params[1] || null });
      addLines(buf, [eventLine("join", msg)], true);
      if (currentBuffer() === buf) showMembers();
    }
  },
  PART: (msg) => left(msg, msg.params[0], "part", msg.nick),
  KICK: (msg) => left(msg, msg.params[0], "kick", msg.params[1]),
  QUIT: (msg) => {
    for (const buf of state.buffers.values()) {
      if (buf.members.delete(msg.nick) || (buf.kind === "query" && fold(buf.name) === fold(msg.nick))) {
        addLines(buf, [eventLine("quit", msg)], true);
        stopTyping(buf, msg.nick);
      }
    }
    showMembers();
  },
  NICK: (msg) => {
    const old = msg.nick;
    const nick = msg.params[0];
    if (isMe(old)) {
      state.nick = nick;
      showStatus(`connected as ${nick}`);
      rememberInUrl();
    }
    for (const buf of state.buffers.values()) {
      const m = buf.members.get(old);
      if (m) {
        buf.members.delete(old);
        buf.members.set(nick, m);
      }
      const private_ = buf.kind === "query" && fold(buf.name) === fold(old);
      if (m || private_ || (isMe(old) && buf.kind !== "server")) {
        addLines(buf, [eventLine("nick", msg, { text: nick })], true);
      }
      if (private_ && !findBuffer(nick)) {
        state.buffers.delete(fold(buf.name));
        const wasCurrent = state.current === fold(buf.name);
        buf.name = nick;
        state.buffers.set(fold(nick), buf);
        if (wasCurrent) state.current = fold(nick);
      }
    }
    showBufferList();
    showBuffer();
  },
  TOPIC: (msg) => {
    const buf = buffer(msg.params[0], "room");
    buf.topic = msg.params[1] || "";
    addLines(buf, [eventLine("topic", msg, { text: buf.topic })], true);
    if (currentBuffer() === buf) showBuffer();
  },
  MODE: (msg) => {
    const target = msg.params[0];
    if (!isRoomName(target)) return;
    const buf = buffer(target, "room");
    const { modes, symbols } = prefixes();
    let sign = "+";
    let arg = 2;
    const withArg = new Set([...modes, ..."beIk"]);
    for (const letter of msg.params[1] || "") {
      if (letter === "+" || letter === "-") {
        sign = letter;
        continue;
      }
      const takes = withArg.has(letter) || (letter === "l" && sign === "+");
      const value = takes ? msg.params[arg++] : undefined;
      const at = modes.indexOf(letter);
      if (at >= 0 && value && buf.members.has(value)) {
        const m = buf.members.get(value);
        const symbol = symbols[at];
        let prefix = m.prefix.replace(symbol, "");
        if (sign === "+") prefix += symbol;
        m.prefix = [...prefix].sort((a, b) => symbols.indexOf(a) - symbols.indexOf(b)).join("");
      }
    }
    const text = `${msg.nick} sets mode ${msg.params.slice(1).join(" ")}`;
    addLines(buf, [eventLine("mode", msg, { nick: "", text })], true);
    if (currentBuffer() === buf) showMembers();
  },
  AWAY: (msg) => {
    for (const buf of state.buffers.values()) {
      const m = buf.members.get(msg.nick);
      if (m) m.away = msg.params.length > 0;
    }
    showMembers();
  },
  ACCOUNT: (msg) => {
    for (const buf of state.buffers.values()) {
      const m = buf.members.get(msg.nick);
      if (m) m.account = msg.params[0] === "*" ? null : msg.params[0];
    }
  },
  MARKREAD: (msg) => {
    const buf = findBuffer(msg.params[0]);
    const value = msg.params[1] || "";
    if (!buf || !value.startsWith("timestamp=")) return;
    const marker = new Date(value.slice("timestamp=".length));
    if (Number.isNaN(marker.getTime()) || (buf.marker && marker <= buf.marker)) return;
    buf.marker = marker;
    // Read on another device: what is older than the marker is no longer unread.
    const unread = buf.lines.filter((l) => l.counts && !l.self && l.time > marker);
    buf.unread = currentBuffer() === buf ? 0 : unread.length;
    buf.highlights = currentBuffer() === buf ? 0 : unread.filter((l) => l.highlight || buf.kind === "query").length;
    showBufferList();
  },
  INVITE: (msg) => info(`${msg.nick} invites you to ${msg.params[1]} (/join ${msg.params[1]})`),
  ERROR: (msg) => error(msg.params[0] || "The server closed the connection", state.buffers.get(SERVER)),
  FAIL: (msg) => {
    // A history request that failed is not in flight any more.
    if (msg.params[0] === "CHATHISTORY") state.buffers.forEach((b) => (b.loading = false));
    error(msg.params[msg.params.length - 1], replyBuffer(msg));
  },
  WARN: (msg) => info(msg.params[msg.params.length - 1], replyBuffer(msg)),
  NOTE: (msg) => info(msg.params[msg.params.length - 1], replyBuffer(msg)),
  REGISTER: (msg) => info(msg.params[msg.params.length - 1], replyBuffer(msg)),
  "001": (msg) => {
    welcome(msg);
    info(msg.params[1], state.buffers.get(SERVER));
  },
  "005": (msg) => {
    for (const token of msg.params.slice(1, -1)) {
      const [key, value] = token.split("=", 2);
      state.isupport[key] = value === undefined ? "" : value;
    }
    showBufferList();
  },
  "301": (msg) => {
    const buf = findBuffer(msg.params[1]) || replyBuffer(msg);
    info(`${msg.params[1]} is away: ${msg.params[2] || ""}`, buf);
  },
  "311": (msg) => info(`${msg.params[1]} is ${msg.params[2]}@${msg.params[3]} (${msg.params[5] || ""})`, replyBuffer(msg)),
  "319": (msg) => info(`${msg.params[1]} is in ${msg.params[2]}`, replyBuffer(msg)),
  "330": (msg) => info(`${msg.params[1]} is logged in as ${msg.params[2]}`, replyBuffer(msg)),
  "331": (msg) => {
    const buf = buffer(msg.params[1], "room");
    buf.topic = "";
    info(`${msg.params[1]}: ${msg.params[2] || "No topic is set"}`, buf);
    if (currentBuffer() === buf) showBuffer();
  },
  "332": (msg) => {
    const buf = buffer(msg.params[1], "room");
    buf.topic = msg.params[2] || "";
    info(`Topic of ${msg.params[1]}: ${buf.topic}`, buf);
    if (currentBuffer() === buf) showBuffer();
  },
  "333": () => {},
  "353": (msg) => {
    const buf = findBuffer(msg.params[2]);
    if (!buf) return;
    if (buf.namesDone) {
      buf.members.clear();
      buf.namesDone = false;
    }
    const { symbols } = prefixes();
    for (const item of (msg.params[3] || "").split(" ").filter(Boolean)) {
      let i = 0;
      while (i < item.length && symbols.includes(item[i])) i++;
      const nick = item.slice(i).split("!")[0];
      const old = buf.members.get(nick);
      buf.members.set(nick, { prefix: item.slice(0, i), away: old ? old.away : false, account: old ? old.account : null });
    }
  },
  "366": (msg) => {
    const buf = findBuffer(msg.params[1]);
    if (!buf) {
      return;
    }
    buf.namesDone = true;
    if (currentBuffer() === buf) showMembers();
  },
  "900": (msg) => {
    state.account = msg.params[2];
    // Registered (or logged in): a reconnection logs in to it, and so does a reload of
    // this tab (sessionStorage: this tab only, gone when it closes).
    state.mode = "login";
    if (state.password) {
      sessionStorage.setItem(SAVED_LOGIN, JSON.stringify({ nick: state.login, password: state.password }));
    }
    info(msg.params[3] || `You are now logged in as ${state.account}`, state.buffers.get(SERVER));
  },
  "901": (msg) => {
    state.account = null;
    sessionStorage.removeItem(SAVED_LOGIN);
    info(msg.params[msg.params.length - 1], state.buffers.get(SERVER));
  },
  "903": () => endRegistration(),
  "904": saslFailed,
  "905": saslFailed,
  "906": () => {},
  "907": () => {},
  "908": () => {},
  "433": (msg) => nickRefused(msg),
  "432": (msg) => nickRefused(msg),
  "004": () => {},
  "318": () => {},
  "315": () => {},
  "369": () => {},
  "376": () => {},
  "422": () => {},
};

function saslFailed(msg) {
  // A wrong password while connecting: back to the form to try again, rather than
  // chatting without the account that was asked for.
  sessionStorage.removeItem(SAVED_LOGIN);
  backToForm(msg.params[msg.params.length - 1]);
}

function nickRefused(msg) {
  const text = msg.params[msg.params.length - 1];
  if (state.registered) {
    error(text, replyBuffer(msg));
    return;
  }
  // Still registering. A taken nickname (or our own, just before a reload let it go)
  // gets a "_" or two; one that cannot be a nickname goes back to the form.
  error(text, state.buffers.get(SERVER));
  if (msg.verb === "433" && state.nickTries < NICK_RETRIES) {
    state.nickTries += 1;
    state.nick = `${state.nick}_`;
    send("NICK", [state.nick]);
  } else {
    backToForm(text);
  }
}

/** Stop connecting and show the form again, saying why. */
function backToForm(text) {
  state.quitting = true;
  if (state.ws) state.ws.close();
  state.ws = null;
  state.buffers.clear();
  $("chat").hidden = true;
  $("connect").hidden = false;
  $("f-nick").value = state.wantedNick;
  $("f-join").value = state.autojoin.join(",");
  showConnectError(text);
  $("f-nick").focus();
}

function left(msg, room, kind, nick) {
  const buf = findBuffer(room);
  if (!buf) return;
  const l = eventLine(kind, msg, { text: kind === "kick" ? nick : "" });
  if (isMe(nick)) {
    buf.joined = false;
    buf.members.clear();
    if (buf.closing) {
      closeBuffer(buf);
      return;
    }
    addLines(buf, [l], true);
    if (kind === "kick") error(`You were kicked from ${room} by ${msg.nick}: ${msg.params[2] || ""}`, buf);
    showBufferList();
  } else {
    buf.members.delete(nick);
    stopTyping(buf, nick);
    addLines(buf, [l], true);
  }
  if (currentBuffer() === buf) showMembers();
  rememberInUrl();
}

function numeric(msg) {
  // Errors read as one sentence starting with "!" (as for netcat users); the rest as text.
  const code = Number(msg.verb);
  const about = msg.params.slice(1, -1).filter((p) => p !== "*");
  const text = msg.params[msg.params.length - 1] || "";
  const shown = about.length ? `${about.join(" ")}: ${text}` : text;
  if (code >= 400 && code < 600) error(shown, replyBuffer(msg));
  else if (TEXT_ONLY.has(msg.verb)) info(text, replyBuffer(msg));
  else info(msg.params.slice(1).join(" "), replyBuffer(msg));
}

// Numerics whose numbers are repeated in their text ("1 1 :Current local users 1, max 1").
const TEXT_ONLY = new Set(["265", "266"]);

function handle(msg) {
  const batch = batchOf(msg);
  if (batch && (batch.type === "chathistory" || batch.type === "draft/chathistory-targets")) {
    batch.lines.push(msg);
    return;
  }
  const handler = HANDLERS[msg.verb];
  if (handler) handler(msg);
  else if (/^\d{3}$/.test(msg.verb)) numeric(msg);
  if (msg.tags.label && msg.verb !== "BATCH") state.labels.delete(msg.tags.label);
}

// -- what the user types -------------------------------------------------------------------

function slashContext() {
  const buf = currentBuffer();
  let target = buf.kind === "server" ? null : buf.name;
  let noTarget = slash.NO_TARGET;
  if (buf.kind === "room" && !buf.joined) {
    target = null;
    noTarget = `You are not in ${buf.name}: /join ${buf.name}`;
  }
  return {
    room: buf.kind === "room" ? buf.name : null,
    target,
    nick: state.nick,
    chantypes: state.isupport.CHANTYPES,
    noRoom: slash.NO_ROOM,
    noTarget,
  };
}

const LOCAL = {
  help(topic) {
    const buf = currentBuffer();
    if (topic) {
      const shown = slash.helpTopic(topic);
      if (shown === null) sendFor(buf, "HELP", [topic]);
      else info(shown, buf);
      return;
    }
    info("Commands (a line without / goes to the current buffer; //text sends /text)", buf);
    for (const name of Object.keys(slash.COMMANDS)) {
      info(`${slash.COMMANDS[name].usage} — ${slash.summary(name)}`, buf);
    }
    info("Keys: Enter send · Up/Down history · Tab complete · Alt+1..9 switch buffers", buf);
  },
  query(nick, text) {
    const buf = buffer(nick, isRoomName(nick) ? "room" : "query");
    switchTo(buf);
    if (text) say(nick, text);
  },
  switch(name) {
    const bufs = [...$("buffers").children].map((li) => findBuffer(li.dataset.name));
    const buf = /^\d+$/.test(name)
      ? bufs[Number(name) - 1]
      : findBuffer(name) || findBuffer("#" + name);
    if (!buf) throw new slash.SlashError(`No buffer called ${name}; /join it or /query it first`);
    switchTo(buf);
  },
  close(name) {
    const buf = name ? findBuffer(name) : currentBuffer();
    if (!buf) throw new slash.SlashError(`No buffer called ${name}`);
    if (buf.kind === "server") throw new slash.SlashError("The server buffer stays open; /quit to leave");
    if (buf.kind === "room" && buf.joined) {
      buf.closing = true;
      send("PART", [buf.name]);
      return;
    }
    closeBuffer(buf);
    rememberInUrl();
  },
  raw(text) {
    const buf = currentBuffer();
    if (!send(...rawParts(text))) error("Not connected", buf);
  },
};

function rawParts(text) {
  const msg = parse(text);
  return [msg.verb, msg.params, msg.tags];
}

const SENDERS = {
  PRIVMSG: (params) => say(params[0], params[1]),
  NOTICE: (params) => say(params[0], params[1], "NOTICE"),
  JOIN: (params) => {
    const rooms = params[0].split(",");
    const joined = rooms.map(findBuffer).filter((b) => b && b.joined);
    if (joined.length === rooms.length) {
      switchTo(joined[0]);
      return;
    }
    for (const room of rooms) {
      const buf = buffer(room, "room");
      buf.switchOnJoin = room === rooms[0];
    }
    sendFor(currentBuffer(), "JOIN", params);
  },
  PART: (params) => {
    const buf = findBuffer(params[0]);
    if (buf && buf.kind === "room" && !buf.joined) {
      closeBuffer(buf);
      return;
    }
    if (buf) buf.closing = true;
    sendFor(currentBuffer(), "PART", params);
  },
  QUIT: (params) => {
    state.quitting = true;
    send("QUIT", [params[0] || slash.QUIT_MESSAGE]);
  },
};

function execute(text) {
  const buf = currentBuffer();
  let out;
  try {
    out = slash.parseLine(text, slashContext());
    if (out === null) return;
    if (out.local) {
      LOCAL[out.local](...out.args);
      return;
    }
  } catch (err) {
    if (err instanceof slash.SlashError) {
      error(err.message, buf);
      return;
    }
    throw err;
  }
  const [verb, ...params] = out.irc;
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN) {
    error("Not connected: wait for the reconnection", buf);
    return;
  }
  if (SENDERS[verb]) SENDERS[verb](params);
  else sendFor(buf, verb, params);
}

function completions(word, atStart) {
  const buf = currentBuffer();
  const lower = fold(word);
  if (word.startsWith("/") && atStart) {
    const names = [...Object.keys(slash.COMMANDS), ...Object.keys(slash.ALIASES)];
    return names.map((n) => "/" + n).filter((n) => n.startsWith(lower)).sort();
  }
  if (isRoomName(word)) {
    return [...state.buffers.values()]
      .filter((b) => b.kind === "room" && fold(b.name).startsWith(lower))
      .map((b) => b.name)
      .sort();
  }
  const nicks = new Set(buf.members.keys());
  for (const b of state.buffers.values()) if (b.kind === "query") nicks.add(b.name);
  nicks.delete(state.nick);
  return [...nicks].filter((n) => fold(n).startsWith(lower)).sort((a, b) => fold(a).localeCompare(fold(b)));
}

const inputHistory = new InputHistory();
const completer = new Completer(completions, (word) => !word.startsWith("/") && !isRoomName(word));

function onKey(event) {
  const input = $("input");
  if (event.key === "Tab") {
    event.preventDefault();
    completer.complete(input, event.shiftKey);
    return;
  }
  completer.reset();
  if (event.key === "ArrowUp" || event.key === "ArrowDown") {
    const shown = inputHistory.move(event.key === "ArrowUp" ? -1 : 1, input.value);
    if (shown !== null) {
      event.preventDefault();
      input.value = shown;
    }
  } else if (event.altKey && /^[1-9]$/.test(event.key)) {
    event.preventDefault();
    const item = $("buffers").children[Number(event.key) - 1];
    if (item) switchTo(findBuffer(item.dataset.name));
  }
}

function submit(event) {
  event.preventDefault();
  const input = $("input");
  const text = input.value;
  if (!text.trim()) return;
  input.value = "";
  completer.reset();
  inputHistory.add(text);
  execute(text);
}

// -- start-up ----------------------------------------------------------------------------------

function showConnectError(text) {
  $("connect-error").textContent = text;
}

function start(nick, rooms, password, mode, login = nick) {
  showConnectError("");
  state.quitting = false;
  state.reconnectDelay = 1000;
  state.lastSeen = null;
  state.nick = nick;
  state.wantedNick = nick;
  state.login = login;
  state.password = password;
  state.mode = mode;
  state.autojoin = rooms;
  state.buffers.set(SERVER, newBuffer(SERVER, "server"));
  state.current = SERVER;
  $("connect").hidden = true;
  $("chat").hidden = false;
  showBufferList();
  showBuffer();
  connect();
}

/** The account this tab logged in to before a reload, and its password (or null). */
function savedLogin() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(SAVED_LOGIN) || "null");
    return saved && saved.nick && saved.password ? { nick: String(saved.nick), password: String(saved.password) } : null;
  } catch {
    return null;
  }
}

function roomList(text) {
  return text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((r) => (isRoomName(r) ? r : "#" + r));
}

function init() {
  const query = new URLSearchParams(location.search);
  $("input-form").addEventListener("submit", submit);
  $("input").addEventListener("keydown", onKey);
  $("input").addEventListener("input", typed);
  $("messages").addEventListener("scroll", maybeLoadOlder);
  $("toggle-sidebar").addEventListener("click", () => document.body.classList.toggle("show-sidebar"));
  $("toggle-members").addEventListener("click", () => document.body.classList.toggle("show-members"));
  // On a phone the lists cover the messages: a tap on what shows of them puts the lists away.
  for (const id of ["messages", "input-form", "typing"]) {
    $(id).addEventListener("pointerdown", () =>
      document.body.classList.remove("show-sidebar", "show-members"),
    );
  }
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && state.buffers.size) {
      const buf = currentBuffer();
      buf.unread = 0;
      buf.highlights = 0;
      showBufferList();
      scheduleMarkRead(buf);
    }
  });
  window.addEventListener("pagehide", () => {
    // A reload reconnects with the same nickname: free it now rather than at the timeout.
    if (state.ws && state.ws.readyState === WebSocket.OPEN) {
      state.quitting = true;
      send("QUIT", [slash.QUIT_MESSAGE]);
    }
  });
  $("connect-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const mode = document.querySelector("input[name=mode]:checked").value;
    start($("f-nick").value.trim(), roomList($("f-join").value), $("f-password").value, mode);
  });
  const nick = (query.get("nick") || "").trim();
  const rooms = roomList(query.get("join") || "");
  if (nick) {
    const saved = savedLogin();
    start(nick, rooms, saved ? saved.password : "", "login", saved ? saved.nick : nick);
    return;
  }
  $("connect").hidden = false;
  if (query.has("join")) $("f-join").value = rooms.join(",");
  $("f-nick").focus();
}

init();
