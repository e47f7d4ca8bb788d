/**
 * Where a JSON text stops being valid. `JSON.parse` names the position of some
 * errors only ("Unexpected token '}', … is not valid JSON" has none), so when
 * parsing fails this small scanner walks the text once more, builds nothing, and
 * returns the offset of the first character that cannot continue a JSON value.
 */

/** A position in a text: 0-based offset, 1-based line and column. */
export interface TextPosition {
  readonly position: number;
  readonly line: number;
  readonly column: number;
}

class Stop {
  readonly at: number;
  constructor(at: number) {
    this.at = at;
  }
}

const WS = new Set([" ", "\t", "\n", "\r"]);

function scan(text: string): number | undefined {
  let i = 0;
  const n = text.length;
  const skip = (): void => {
    while (i < n && WS.has(text[i] as string)) i++;
  };
  const word = (w: string): void => {
    for (const ch of w) {
      if (text[i] !== ch) throw new Stop(i);
      i++;
    }
  };
  const digits = (): void => {
    const start = i;
    while (i < n && text[i] !== undefined && (text[i] as string) >= "0" && (text[i] as string) <= "9") i++;
    if (i === start) throw new Stop(i);
  };
  const number = (): void => {
    if (text[i] === "-") i++;
    if (text[i] === "0") i++;
    else digits();
    if (text[i] === ".") {
      i++;
      digits();
    }
    if (text[i] === "e" || text[i] === "E") {
      i++;
      if (text[i] === "+" || text[i] === "-") i++;
      digits();
    }
  };
  const string = (): void => {
    i++; // opening quote
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) throw new Stop(i);
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === "u") {
          i += 2;
          for (const end = i + 4; i < end; i++) if (!/[0-9a-fA-F]/.test(text[i] ?? "")) throw new Stop(i);
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else throw new Stop(i + 1);
      } else i++;
    }
    throw new Stop(i);
  };
  const value = (): void => {
    skip();
    const c = text[i];
    if (c === "{") {
      i++;
      skip();
      if (text[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        skip();
        if (text[i] !== '"') throw new Stop(i);
        string();
        skip();
        if (text[i] !== ":") throw new Stop(i);
        i++;
        value();
        skip();
        if (text[i] === ",") i++;
        else if (text[i] === "}") {
          i++;
          return;
        } else throw new Stop(i);
      }
    }
    if (c === "[") {
      i++;
      skip();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (;;) {
        value();
        skip();
        if (text[i] === ",") i++;
        else if (text[i] === "]") {
          i++;
          return;
        } else throw new Stop(i);
      }
    }
    if (c === '"') string();
    else if (c === "t") word("true");
    else if (c === "f") word("false");
    else if (c === "n") word("null");
    else if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) number();
    else throw new Stop(i);
  };
  try {
    value();
    skip();
    return i < n ? i : undefined;
  } catch (e) {
    if (e instanceof Stop) return e.at;
    return undefined; // e.g. nesting too deep for this recursive scanner
  }
}

/** The position of the first syntax error in `text`; undefined when it is valid JSON (or too deep to scan). */
export function locateJsonError(text: string): TextPosition | undefined {
  const position = scan(text);
  if (position === undefined) return undefined;
  let line = 1;
  let lineStart = 0;
  for (let k = text.indexOf("\n"); k !== -1 && k < position; k = text.indexOf("\n", k + 1)) {
    line++;
    lineStart = k + 1;
  }
  return { position, line, column: position - lineStart + 1 };
}
