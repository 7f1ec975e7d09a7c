// IRC lines in and out (IRCv3 message tags included), with no I/O of its own.
//
// parse() turns one line as the WebSocket delivers it (no CR LF) into
// {tags, source, nick, verb, params}; format() builds a line from a verb and
// parameters, putting a final parameter that needs it after ":".

const TAG_UNESCAPES = { ":": ";", s: " ", "\\": "\\", r: "\r", n: "\n" };

function unescapeTag(value) {
  return value.replace(/\\(.?)/g, (_, ch) => (ch in TAG_UNESCAPES ? TAG_UNESCAPES[ch] : ch));
}

function escapeTag(value) {
  return value.replace(/[\\; \r\n]/g, (ch) =>
    ({ "\\": "\\\\", ";": "\\:", " ": "\\s", "\r": "\\r", "\n": "\\n" })[ch],
  );
}

/** One received line as an object; throws on a line that has no verb. */
export function parse(line) {
  let rest = line;
  const tags = {};
  if (rest.startsWith("@")) {
    const end = rest.indexOf(" ");
    for (const item of rest.slice(1, end < 0 ? undefined : end).split(";")) {
      if (!item) continue;
      const eq = item.indexOf("=");
      if (eq < 0) tags[item] = "";
      else tags[item.slice(0, eq)] = unescapeTag(item.slice(eq + 1));
    }
    rest = end < 0 ? "" : rest.slice(end + 1).replace(/^ +/, "");
  }
  let source = "";
  if (rest.startsWith(":")) {
    const end = rest.indexOf(" ");
    source = rest.slice(1, end < 0 ? undefined : end);
    rest = end < 0 ? "" : rest.slice(end + 1).replace(/^ +/, "");
  }
  const params = [];
  while (rest) {
    if (rest.startsWith(":")) {
      params.push(rest.slice(1));
      break;
    }
    const end = rest.indexOf(" ");
    if (end < 0) {
      params.push(rest);
      break;
    }
    params.push(rest.slice(0, end));
    rest = rest.slice(end + 1).replace(/^ +/, "");
  }
  const verb = (params.shift() || "").toUpperCase();
  if (!verb) throw new Error("a line without a command");
  const bang = source.indexOf("!");
  const nick = bang < 0 ? source : source.slice(0, bang);
  return { tags, source, nick, verb, params };
}

/** A line to send: format("PRIVMSG", ["#a", "hi there"]) is "PRIVMSG #a :hi there". */
export function format(verb, params = [], tags = {}) {
  const parts = [];
  const tagText = Object.entries(tags)
    .map(([k, v]) => (v === "" ? k : `${k}=${escapeTag(v)}`))
    .join(";");
  if (tagText) parts.push("@" + tagText);
  parts.push(verb);
  params.forEach((p, i) => {
    // Nothing a user types may end the line early or start another.
    const clean = String(p).replace(/[\r\n\0]/g, " ");
    const last = i === params.length - 1;
    if (last && (clean === "" || clean.includes(" ") || clean.startsWith(":"))) {
      parts.push(":" + clean);
    } else {
      parts.push(clean);
    }
  });
  return parts.join(" ");
}

/** The CTCP inside a PRIVMSG/NOTICE text: {verb, arg}, or null for ordinary text. */
export function ctcp(text) {
  if (!text.startsWith("\x01")) return null;
  const body = text.endsWith("\x01") && text.length > 1 ? text.slice(1, -1) : text.slice(1);
  const space = body.indexOf(" ");
  return space < 0
    ? { verb: body.toUpperCase(), arg: "" }
    : { verb: body.slice(0, space).toUpperCase(), arg: body.slice(space + 1) };
}

/** IRCv3 server-time as a timestamp= selector value. */
export function isoTime(date) {
  return date.toISOString();
}

/** The lower-case form of a name for comparisons (close to the server's rfc8265 folding). */
export function fold(name) {
  return name.normalize("NFKC").toLowerCase();
}
