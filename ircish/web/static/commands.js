// The slash-command language of ircish (ircish/protocol/slash.py), in the browser.
//
// The same commands, aliases, usage lines and sentences as the server's
// netcat dialect and the terminal client (whose own commands /query, /switch
// and /close, and /part closing a private buffer, come from
// ircish/client/commands.py). tests/web checks this table against the Python
// one, word for word. parseLine() answers one of
//   {irc: [verb, ...params]}   an IRC command to send,
//   {local: name, args: [...]} something the page does itself (help, query...),
//   null                       for a blank line,
// or throws SlashError with the sentence to show.

export class SlashError extends Error {}
class Usage extends Error {}

// The client's words (ircish/client/commands.py) where the server's would not fit.
export const NO_ROOM = "This is not a room: name one (#room) or /switch to one";
export const NO_TARGET = "Nobody to talk to here: /join #room or /query NICK first";
export const QUIT_MESSAGE = "Leaving";

function isRoom(word, ctx) {
  return Boolean(word) && ctx.chantypes.includes(word[0]);
}

function currentRoom(ctx) {
  if (ctx.room === null) throw new SlashError(ctx.noRoom);
  return ctx.room;
}

function currentTarget(ctx) {
  if (ctx.target === null) throw new SlashError(ctx.noTarget);
  return ctx.target;
}

function roomArg(word, ctx) {
  return isRoom(word, ctx) ? word : "#" + word;
}

function words(args) {
  return args.split(/\s+/).filter(Boolean);
}

function partition(text, sep = " ") {
  const at = text.indexOf(sep);
  return at < 0 ? [text, ""] : [text.slice(0, at), text.slice(at + sep.length)];
}

function splitRoom(args, ctx) {
  const [first, rest] = partition(args);
  if (isRoom(first, ctx)) return [first, rest.trim()];
  return [currentRoom(ctx), args];
}

// -- builders shaped like slash.py's helpers --------------------------------------

const oneWord = (verb) => (args) => {
  const w = words(args);
  if (w.length !== 1) throw new Usage();
  return { irc: [verb, w[0]] };
};

const noArgs = (verb) => () => ({ irc: [verb] });

const rest = (verb, optional = false) => (args) => {
  if (!args) {
    if (optional) return { irc: [verb] };
    throw new Usage();
  }
  return { irc: [verb, args] };
};

const targetAndText = (verb) => (args) => {
  const [target, text] = partition(args.trim());
  if (!target || !text.trim()) throw new Usage();
  return { irc: [verb, target, text.trim()] };
};

const allWords = (verb) => (args) => ({ irc: [verb, ...words(args)] });

const nameAndRest = (verb) => (args) => {
  const [name, more] = partition(args);
  if (!name || !more.trim()) throw new Usage();
  return { irc: [verb, name, more.trim()] };
};

const local =
  (name, needsArgs = false) =>
  (args) => {
    if (needsArgs && !args) throw new Usage();
    return { local: name, args: args ? [args] : [] };
  };

function join(args, ctx) {
  const list = words(args.replaceAll(",", " "));
  const rooms = [];
  const keys = new Map();
  for (const word of list) {
    if (word.slice(0, 4).toLowerCase() === "key=") {
      if (!rooms.length || !word.slice(4) || keys.has(rooms.length - 1)) throw new Usage();
      keys.set(rooms.length - 1, word.slice(4));
      continue;
    }
    if (rooms.length && isRoom(list[0], ctx) && !isRoom(word, ctx)) {
      const other = roomArg(word, ctx);
      throw new SlashError(
        `To join ${list[0]} with the key ${word}, type /join ${list[0]} key=${word}; ` +
          `to join ${list[0]} and ${other}, type /join ${list[0]} ${other}`,
      );
    }
    rooms.push(roomArg(word, ctx));
  }
  if (!rooms.length) throw new Usage();
  if (!keys.size) return { irc: ["JOIN", rooms.join(",")] };
  const order = [...keys.keys()].sort((a, b) => a - b);
  const keyed = order.map((i) => rooms[i]);
  const others = rooms.filter((_, i) => !keys.has(i));
  return { irc: ["JOIN", [...keyed, ...others].join(","), order.map((i) => keys.get(i)).join(",")] };
}

function part(args, ctx) {
  // In a private buffer, /part closes it (as the terminal client does).
  if (ctx.room === null && ctx.target !== null && !isRoom(partition(args)[0], ctx)) {
    return { local: "close", args: [] };
  }
  const [room, reason] = splitRoom(args, ctx);
  return { irc: reason ? ["PART", room, reason] : ["PART", room] };
}

function me(args, ctx) {
  if (!args) throw new Usage();
  return { irc: ["PRIVMSG", currentTarget(ctx), `\x01ACTION ${args}\x01`] };
}

function who(args, ctx) {
  const w = words(args);
  if (w.length > 1) throw new Usage();
  return { irc: ["WHO", w.length ? w[0] : ctx.room || "*"] };
}

function whois(args, ctx) {
  let w = words(args);
  if (!w.length && ctx.target !== null && !isRoom(ctx.target, ctx)) w = [ctx.target];
  if (w.length !== 1) throw new Usage();
  return { irc: ["WHOIS", w[0]] };
}

function whowas(args) {
  const w = words(args);
  if (w.length < 1 || w.length > 2 || (w.length === 2 && !/^\d+$/.test(w[1]))) throw new Usage();
  return { irc: ["WHOWAS", ...w] };
}

function names(args, ctx) {
  const w = words(args);
  if (w.length > 1) throw new Usage();
  return { irc: ["NAMES", w.length ? roomArg(w[0], ctx) : currentRoom(ctx)] };
}

function listWord(word) {
  const negated = word.startsWith("!");
  const body = negated ? word.slice(1) : word;
  if (!body || body[0] === "#" || body.includes("*") || body.includes("?")) return word;
  if (!negated && /^[CcTt]?[<>]/.test(word)) return word;
  return (negated ? "!" : "") + `*${body}*`;
}

function list(args) {
  const w = words(args.replaceAll(",", " "));
  return { irc: w.length ? ["LIST", w.map(listWord).join(",")] : ["LIST"] };
}

function topic(args, ctx) {
  const [room, text] = splitRoom(args, ctx);
  if (text === "-delete") return { irc: ["TOPIC", room, ""] };
  return { irc: text ? ["TOPIC", room, text] : ["TOPIC", room] };
}

function kick(args, ctx) {
  const [room, more] = splitRoom(args, ctx);
  const [nick, reason] = partition(more);
  if (!nick) throw new Usage();
  return { irc: reason.trim() ? ["KICK", room, nick, reason.trim()] : ["KICK", room, nick] };
}

function canonicalMask(mask) {
  if (mask.includes("!")) {
    const [nick, more] = partition(mask, "!");
    const [user, host] = partition(more, "@");
    return `${nick || "*"}!${user || "*"}@${host || "*"}`;
  }
  if (mask.includes("@")) {
    const [user, host] = partition(mask, "@");
    return `*!${user || "*"}@${host || "*"}`;
  }
  return mask.includes(".") || mask.includes(":") ? `*!*@${mask}` : `${mask}!*@*`;
}

const maskList = (sign) => (args, ctx) => {
  const [room, more] = splitRoom(args, ctx);
  const w = words(more);
  if (!w.length) {
    if (sign === "+") return { irc: ["MODE", room, "+b"] };
    throw new Usage();
  }
  if (w.length > 4) throw new Usage();
  return { irc: ["MODE", room, sign + "b".repeat(w.length), ...w.map(canonicalMask)] };
};

function mode(args, ctx) {
  const w = words(args);
  if (!w.length) return { irc: ["MODE", currentRoom(ctx)] };
  if ("+-".includes(w[0][0])) {
    const letters = new Set(w[0].replace(/[+-]/g, ""));
    if (w.length === 1 && letters.size && [...letters].every((l) => "Bw".includes(l)) && ctx.nick) {
      return { irc: ["MODE", ctx.nick, w[0]] };
    }
    return { irc: ["MODE", currentRoom(ctx), ...w] };
  }
  return { irc: ["MODE", ...w] };
}

function invite(args, ctx) {
  const w = words(args);
  if (!w.length || w.length > 2) throw new Usage();
  return { irc: ["INVITE", w[0], w.length === 2 ? roomArg(w[1], ctx) : currentRoom(ctx)] };
}

function setname(args) {
  if (!args.trim()) throw new Usage();
  return { irc: ["SETNAME", args.trim()] };
}

function register(args) {
  const w = words(args);
  if (w.length !== 1 && w.length !== 2) throw new Usage();
  return { irc: ["REGISTER", "*", w.length === 2 ? w[1] : "*", w[0]] };
}

function login(args) {
  const w = words(args);
  if (w.length !== 1 && w.length !== 2) throw new Usage();
  return { irc: ["LOGIN", ...w] };
}

function logout(args) {
  if (args) throw new Usage();
  return { irc: ["LOGOUT"] };
}

function passwd(args) {
  const w = words(args);
  if (w.length !== 2) throw new Usage();
  return { irc: ["PASSWD", ...w] };
}

const MONITOR_WORDS = { "": "L", list: "L", status: "S", clear: "C" };

function monitor(args) {
  const w = words(args.replaceAll(",", " "));
  const sub = MONITOR_WORDS[w.join(" ").toLowerCase()];
  if (sub !== undefined) return { irc: ["MONITOR", sub] };
  let sign;
  let list = w;
  if (w[0] === "+" || w[0] === "-") {
    [sign, ...list] = w;
  } else {
    sign = w[0].startsWith("-") ? "-" : "+";
  }
  const nicks = list.map((x) => ("+-".includes(x[0]) ? x.slice(1) : x));
  const mixed = list.some((x) => "+-".includes(x[0]) && x[0] !== sign);
  if (!nicks.length || mixed || !nicks.every(Boolean)) throw new Usage();
  return { irc: ["MONITOR", sign, nicks.join(",")] };
}

function chghost(args) {
  const w = words(args);
  if (w.length !== 2 && w.length !== 3) throw new Usage();
  return { irc: ["CHGHOST", ...w] };
}

function stats(args) {
  if (!args.trim()) throw new Usage();
  return { irc: ["STATS", words(args)[0]] };
}

// A duration (10m, 1d12h, 3600), not a mask or an address (ircish/protocol/words.py).
const looksLikeDuration = (word) => /^\d/.test(word) && !/[@!.:/*?]/.test(word);

/** [ANDKILL] [MYSELF] [DURATION] TARGET [reason...]: the reason is one parameter. */
const banCommand = (verb) => (args) => {
  const w = words(args);
  let i = 0;
  while (i < w.length && ["ANDKILL", "MYSELF"].includes(w[i].toUpperCase())) i++;
  if (i < w.length && looksLikeDuration(w[i])) i++;
  if (i >= w.length) throw new Usage();
  const reason = w.slice(i + 1).join(" ");
  return { irc: [verb, ...w.slice(0, i + 1), ...(reason ? [reason] : [])] };
};

function help(args) {
  const w = words(args);
  return { local: "help", args: w.length ? [w[0].replace(/^\/+/, "")] : [] };
}

function query(args) {
  const [nick, text] = partition(args);
  if (!nick) throw new Usage();
  return { local: "query", args: [nick, text.trim()] };
}

const c = (build, usage, summary, aliases = []) => ({ build, usage, summary, aliases });

/** The commands, in the order /help lists them (slash.py's order, then the client's). */
export const COMMANDS = {
  nick: c(oneWord("NICK"), "/nick NAME", "change your nickname"),
  join: c(join, "/join #room [key=KEY] [#room2 ...]", "join rooms, or switch to one", ["j"]),
  part: c(
    part,
    "/part [#room] [reason]",
    "leave a room (default: this one), or close a query",
    ["leave"],
  ),
  msg: c(targetAndText("PRIVMSG"), "/msg NICK|#room TEXT", "send a private or room message", [
    "m",
    "query",
    "privmsg",
  ]),
  me: c(me, "/me ACTION", "describe an action in the current room", ["action"]),
  notice: c(targetAndText("NOTICE"), "/notice NICK|#room TEXT", "send a notice"),
  who: c(who, "/who [#room|NICK]", "list the users of a room", ["users"]),
  whois: c(whois, "/whois NICK", "show who someone is"),
  whowas: c(whowas, "/whowas NICK [COUNT]", "show who used a nickname recently"),
  names: c(names, "/names [#room]", "show the nicknames in a room"),
  list: c(
    list,
    "/list [FILTER ...]",
    "list rooms; filters: dev !dev >5 <5 (users) C<60 C>60 (created) T<60 T>60 (topic)",
  ),
  topic: c(topic, "/topic [#room] [TEXT|-delete]", "show, set or clear a topic"),
  away: c(rest("AWAY", true), "/away [TEXT]", "mark yourself away (no text: back)"),
  setname: c(setname, "/setname REALNAME", "change your real name", ["realname"]),
  monitor: c(
    monitor,
    "/monitor [+NICK|-NICK|status|clear]",
    "be told when someone comes online or leaves (no argument: your list)",
    ["notify"],
  ),
  chghost: c(
    chghost,
    "/chghost NICK [USERNAME] HOST",
    "change a user's shown host (server operators)",
  ),
  kick: c(kick, "/kick [#room] NICK [reason]", "remove someone (operators)"),
  ban: c(
    maskList("+"),
    "/ban [#room] [NICK|MASK ...]",
    "ban nick or nick!user@host (none: the ban list)",
  ),
  unban: c(maskList("-"), "/unban [#room] NICK|MASK ...", "lift bans"),
  mode: c(mode, "/mode [#room|NICK] [+-modes [args]]", "show or change modes"),
  invite: c(invite, "/invite NICK [#room]", "invite someone into a room"),
  register: c(register, "/register PASSWORD [EMAIL]", "register your nickname as an account"),
  login: c(login, "/login [NAME] PASSWORD", "log in to your account", ["identify"]),
  logout: c(logout, "/logout", "log out of your account"),
  passwd: c(passwd, "/passwd OLD NEW", "change your account's password"),
  unregister: c(
    oneWord("UNREGISTER"),
    "/unregister PASSWORD",
    "delete your account (give its password)",
  ),
  ghost: c(oneWord("GHOST"), "/ghost NICK", "disconnect a stale connection using your nick"),
  ns: c(allWords("NS"), "/ns COMMAND ...", "talk to NickServ (/ns help)", ["nickserv"]),
  cs: c(allWords("CS"), "/cs COMMAND ...", "talk to ChanServ: register rooms (/cs help)", [
    "chanserv",
  ]),
  oper: c(nameAndRest("OPER"), "/oper NAME PASSWORD", "become a server operator"),
  kill: c(nameAndRest("KILL"), "/kill NICK REASON", "disconnect a user (server operators)"),
  wallops: c(rest("WALLOPS"), "/wallops TEXT", "message users with mode +w (operators)"),
  rehash: c(noArgs("REHASH"), "/rehash", "reload the configuration file (operators)"),
  stats: c(
    stats,
    "/stats LETTER",
    "server statistics: u uptime; k K-lines, d D-lines, o operators, z memory (operators)",
  ),
  kline: c(
    banCommand("KLINE"),
    "/kline [DURATION] MASK|NICK [reason]",
    "ban a user@host mask or a nick's address for DURATION (30m, 2h, 1d; none: for ever)",
  ),
  dline: c(
    banCommand("DLINE"),
    "/dline [DURATION] IP|CIDR [reason]",
    "ban an address or network (server operators)",
  ),
  unkline: c(oneWord("UNKLINE"), "/unkline MASK", "lift a K-line (server operators)"),
  undline: c(oneWord("UNDLINE"), "/undline IP|CIDR", "lift a D-line (server operators)"),
  quit: c(rest("QUIT", true), "/quit [reason]", "leave the server and exit", ["exit", "bye"]),
  info: c(noArgs("INFO"), "/info", "what this server is"),
  help: c(help, "/help [COMMAND]", "this help", ["?", "helpop"]),
  query: c(query, "/query NICK [TEXT]", "open a private buffer and go there", ["q"]),
  switch: c(local("switch", true), "/switch NAME|NUMBER", "go to a buffer (also Alt+1..9)", [
    "buffer",
    "window",
    "b",
    "w",
  ]),
  close: c(local("close"), "/close [NAME]", "close a buffer (parts a room)"),
  raw: c(local("raw", true), "/raw LINE", "send a raw IRC line (for experts)", ["quote"]),
};

/** alias -> command; a command's own name wins over another's alias (/query). */
export const ALIASES = {};
for (const [name, spec] of Object.entries(COMMANDS)) {
  for (const alias of spec.aliases) if (!(alias in COMMANDS)) ALIASES[alias] = name;
}

export function lookup(name) {
  const found = ALIASES[name] || name;
  return Object.hasOwn(COMMANDS, found) ? found : null;
}

// difflib.SequenceMatcher's ratio (Ratcliff/Obershelp), for "did you mean".
function ratio(a, b) {
  const matches = (s, t) => {
    if (!s || !t) return 0;
    let best = 0;
    let bi = 0;
    let bj = 0;
    for (let i = 0; i < s.length; i++) {
      for (let j = 0; j < t.length; j++) {
        let k = 0;
        while (i + k < s.length && j + k < t.length && s[i + k] === t[j + k]) k++;
        if (k > best) [best, bi, bj] = [k, i, j];
      }
    }
    if (!best) return 0;
    return (
      best +
      matches(s.slice(0, bi), t.slice(0, bj)) +
      matches(s.slice(bi + best), t.slice(bj + best))
    );
  };
  return (2 * matches(a, b)) / (a.length + b.length || 1);
}

function unknown(name) {
  let best = null;
  let bestScore = 0.75;
  for (const candidate of [...Object.keys(COMMANDS), ...Object.keys(ALIASES)]) {
    const score = ratio(name, candidate);
    if (score >= bestScore && (best === null || score > bestScore)) [best, bestScore] = [candidate, score];
  }
  const hint = best ? ` (did you mean /${best}?)` : "";
  return new SlashError(`Unknown command /${name}${hint}. Type /help for the list of commands.`);
}

/** What one typed line means (see the top of this file). */
export function parseLine(line, ctx) {
  let text = line.replace(/[\r\n]+$/, "");
  if (!text.trim()) return null;
  if (!text.startsWith("/") || text.startsWith("//")) {
    if (text.startsWith("//")) text = text.slice(1);
    return { irc: ["PRIVMSG", currentTarget(ctx), text] };
  }
  const [word, args] = partition(text.slice(1));
  const name = lookup(word.toLowerCase());
  if (name === null) throw unknown(word.toLowerCase());
  try {
    return COMMANDS[name].build(args.trim(), ctx);
  } catch (err) {
    if (err instanceof Usage) throw new SlashError(`Usage: ${COMMANDS[name].usage}`);
    throw err;
  }
}

/** What a command does, with its other names: "join rooms, or switch to one (also /j)". */
export function summary(name) {
  const aliases = COMMANDS[name].aliases.filter((a) => ALIASES[a] === name);
  const also = aliases.length ? ` (also ${aliases.map((a) => "/" + a).join(", ")})` : "";
  return COMMANDS[name].summary + also;
}

/** "/help join": "usage: summary", or null when no command is called that. */
export function helpTopic(topicName) {
  const name = lookup(topicName.toLowerCase().replace(/^\/+/, ""));
  return name === null ? null : `${COMMANDS[name].usage}: ${summary(name)}`;
}
