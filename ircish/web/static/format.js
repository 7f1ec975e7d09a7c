// What others wrote, made into DOM nodes safely.
//
// Every character a user sent reaches the page through createTextNode (never
// innerHTML), mIRC formatting becomes class names from a fixed list, and a
// link is made only for http: and https: URLs, with rel="noopener noreferrer".

const BOLD = "\x02";
const COLOR = "\x03";
const HEX_COLOR = "\x04";
const RESET = "\x0f";
const MONOSPACE = "\x11";
const REVERSE = "\x16";
const ITALIC = "\x1d";
const STRIKE = "\x1e";
const UNDERLINE = "\x1f";

const TOGGLES = {
  [BOLD]: "bold",
  [ITALIC]: "italic",
  [UNDERLINE]: "underline",
  [STRIKE]: "strike",
  [MONOSPACE]: "mono",
  [REVERSE]: "reverse",
};

const URL_RE = /\bhttps?:\/\/[^\s<>"'\x00-\x1f\x7f]+/gi;
// Punctuation that ends a sentence rather than the URL ("see https://x.org/a.").
const TRAILING = /[.,;:!?)\]}'"]+$/;

/** One run of text with the formatting in force: {text, classes}. */
function runs(text) {
  const out = [];
  let state = {};
  let fg = null;
  let bg = null;
  let buf = "";
  const flush = () => {
    if (!buf) return;
    const classes = Object.keys(state).filter((k) => state[k]);
    if (fg !== null) classes.push(`fg${fg}`);
    if (bg !== null) classes.push(`bg${bg}`);
    out.push({ text: buf, classes });
    buf = "";
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch in TOGGLES) {
      flush();
      state = { ...state, [TOGGLES[ch]]: !state[TOGGLES[ch]] };
    } else if (ch === RESET) {
      flush();
      state = {};
      fg = bg = null;
    } else if (ch === COLOR) {
      flush();
      const m = /^(\d{1,2})(?:,(\d{1,2}))?/.exec(text.slice(i + 1));
      if (!m) {
        fg = bg = null;
      } else {
        i += m[0].length;
        fg = Number(m[1]) % 16;
        if (m[2] !== undefined) bg = Number(m[2]) % 16;
      }
    } else if (ch === HEX_COLOR) {
      // Hex colours are dropped (their arguments too): the palette stays the page's.
      flush();
      const m = /^[0-9a-fA-F]{6}(?:,[0-9a-fA-F]{6})?/.exec(text.slice(i + 1));
      if (m) i += m[0].length;
    } else if (ch < " " || ch === "\x7f" || (ch >= "\x80" && ch <= "\x9f")) {
      // Other control characters (the CTCP \x01 included) are not shown.
    } else if (/[\u202a-\u202e\u2066-\u2069]/.test(ch)) {
      // Bidirectional overrides would let a line pretend to be another's.
    } else {
      buf += ch;
    }
  }
  flush();
  return out;
}

/** Text without any formatting or control characters (for titles and completion). */
export function plain(text) {
  return runs(text)
    .map((r) => r.text)
    .join("");
}

/** A safe link for one http(s) URL, or null when it is not one. */
export function link(url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return null;
  const a = document.createElement("a");
  a.href = parsed.href;
  a.textContent = url;
  a.target = "_blank";
  a.rel = "noopener noreferrer";
  return a;
}

function appendLinked(parent, text) {
  let last = 0;
  for (const m of text.matchAll(URL_RE)) {
    let url = m[0];
    const trail = TRAILING.exec(url);
    if (trail) url = url.slice(0, -trail[0].length);
    const a = link(url);
    if (!a) continue;
    if (m.index > last) parent.appendChild(document.createTextNode(text.slice(last, m.index)));
    parent.appendChild(a);
    last = m.index + url.length;
  }
  if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
}

/** A fragment showing an IRC message text: formatting as classes, links clickable. */
export function render(text) {
  const frag = document.createDocumentFragment();
  for (const run of runs(text)) {
    if (run.classes.length === 0) {
      appendLinked(frag, run.text);
    } else {
      const span = document.createElement("span");
      span.className = run.classes.map((c) => "f-" + c).join(" ");
      appendLinked(span, run.text);
      frag.appendChild(span);
    }
  }
  return frag;
}

/** The colour class of a nickname: the same nick always gets the same one of 12. */
export function nickClass(nick) {
  let h = 0;
  for (const ch of nick.toLowerCase()) h = (Math.imul(h, 31) + ch.codePointAt(0)) >>> 0;
  return `nc${h % 12}`;
}

/** Does the text mention the nickname as a word? */
export function mentions(text, nick) {
  if (!nick) return false;
  const body = plain(text).toLowerCase();
  const me = nick.toLowerCase();
  let at = body.indexOf(me);
  while (at >= 0) {
    const before = at === 0 ? "" : body[at - 1];
    const after = body[at + me.length] || "";
    if (!/[\p{L}\p{N}_\-[\]\\`^{|}]/u.test(before) && !/[\p{L}\p{N}_\-[\]\\`^{|}]/u.test(after)) {
      return true;
    }
    at = body.indexOf(me, at + 1);
  }
  return false;
}
