// The input line besides sending: Up/Down through what was sent, Tab completion.

/** The lines sent, and where Up and Down are among them (past the last: what is being typed). */
export class InputHistory {
  constructor() {
    this.lines = [];
    this.pos = 0;
    this.draft = "";
  }

  add(text) {
    if (this.lines[this.lines.length - 1] !== text) this.lines.push(text);
    this.pos = this.lines.length;
    this.draft = "";
  }

  /** What the input shows after Up (step -1) or Down (+1), or null at either end. */
  move(step, typed) {
    const next = this.pos + step;
    if (next < 0 || next > this.lines.length) return null;
    if (this.pos === this.lines.length) this.draft = typed;
    this.pos = next;
    return next === this.lines.length ? this.draft : this.lines[next];
  }
}

/**
 * Tab completion of the word before the caret: candidates(word, atStart) lists
 * what it may become; Tab again takes the next one (Shift+Tab the one before).
 * A nickname at the start of the line gets ": ", anything else a space.
 */
export class Completer {
  constructor(candidates, isNick) {
    this.candidates = candidates;
    this.isNick = isNick;
    this.state = null;
  }

  reset() {
    this.state = null;
  }

  complete(input, backwards) {
    let c = this.state;
    if (!c || input.value !== c.result) {
      const upto = input.value.slice(0, input.selectionStart);
      const start = upto.search(/\S*$/);
      const word = upto.slice(start);
      if (!word) return;
      const matches = this.candidates(word, start === 0);
      if (!matches.length) return;
      const after = input.value.slice(input.selectionStart);
      c = { start, matches, index: backwards ? matches.length : -1, after, result: "" };
    }
    c.index = (c.index + (backwards ? -1 : 1) + c.matches.length) % c.matches.length;
    let word = c.matches[c.index];
    word += this.isNick(word) && c.start === 0 ? ": " : c.after.startsWith(" ") ? "" : " ";
    const before = input.value.slice(0, c.start);
    c.result = before + word + c.after;
    input.value = c.result;
    const caret = (before + word).length;
    input.setSelectionRange(caret, caret);
    this.state = c;
  }
}
