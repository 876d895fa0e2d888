/**
 * Mango's `$regex`: CouchDB compiles the pattern with Erlang's `re` (PCRE)
 * and runs it on the raw UTF-8 bytes of the value (no `unicode` option), so
 * `.` matches one byte and `^.$` does not match `"é"`.
 *
 * Settee keeps those semantics by matching "byte strings" (each UTF-8 byte
 * as one UTF-16 unit, for pattern and subject alike) with a JavaScript
 * RegExp translated from the PCRE pattern:
 * - PCRE's `$` also matches before a final newline; `.` excludes only `\n`;
 *   `\s` is ASCII whitespace; `\A`, `\z`, `\Z`, `\h`, `\R`, `\Q…\E`, POSIX
 *   classes (`[[:alpha:]]`), `(?P<name>…)`, `(?#…)` and option settings
 *   `(?imsx)` / `(?i:…)` are translated (`i` applies to the whole pattern:
 *   JavaScript cannot scope it).
 * - Atomic groups `(?>…)` and possessive quantifiers (`a*+`) are matched as
 *   ordinary ones: the same strings match except in contrived backtracking cases.
 * - Recursion, callouts, `\p{…}` and verbs like `(*UTF8)` are refused, as
 *   is anything JavaScript cannot compile: the selector is then a bad argument.
 */

/** Thrown inside the translator; `compilePcre` turns it into "not compilable". */
class UnsupportedPattern extends Error {}

interface Flags {
  multiline: boolean;
  dotAll: boolean;
  extended: boolean;
}

const posixClasses: Readonly<Record<string, string>> = {
  alnum: 'a-zA-Z0-9',
  alpha: 'a-zA-Z',
  ascii: '\\x00-\\x7f',
  blank: ' \\t',
  cntrl: '\\x00-\\x1f\\x7f',
  digit: '0-9',
  graph: '\\x21-\\x7e',
  lower: 'a-z',
  print: '\\x20-\\x7e',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: 'a-zA-Z0-9_',
  xdigit: '0-9a-fA-F',
};

const asciiSpace = '\\t\\n\\v\\f\\r ';

/** The UTF-8 bytes of `text`, one UTF-16 unit each. */
export function byteString(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/** A RegExp over byte strings for a PCRE pattern, or undefined when it cannot be compiled. */
export function compilePcre(pattern: string): RegExp | undefined {
  try {
    const { source, ignoreCase } = translate(byteString(pattern));
    return new RegExp(source, ignoreCase ? 'i' : '');
  } catch (error) {
    if (error instanceof UnsupportedPattern || error instanceof SyntaxError) return undefined;
    throw error;
  }
}

/** Whether `regex` (from `compilePcre`) matches anywhere in `value`. */
export function pcreMatches(regex: RegExp, value: string): boolean {
  return regex.test(byteString(value));
}

function translate(pattern: string): { source: string; ignoreCase: boolean } {
  let out = '';
  let ignoreCase = false;
  let flags: Flags = { multiline: false, dotAll: false, extended: false };
  const saved: Flags[] = [];
  let i = 0;
  const n = pattern.length;
  const quantifierFollows = (): void => {
    if (pattern[i] === '+') i++; // possessive: matched as greedy
  };
  while (i < n) {
    const c = pattern[i] as string;
    if (flags.extended && (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v')) {
      i++;
      continue;
    }
    if (flags.extended && c === '#') {
      while (i < n && pattern[i] !== '\n') i++;
      continue;
    }
    switch (c) {
      case '\\': {
        const escape = translateEscape(pattern, i, false);
        out += escape.text;
        i = escape.next;
        break;
      }
      case '[': {
        const klass = translateClass(pattern, i);
        out += klass.text;
        i = klass.next;
        break;
      }
      case '(': {
        if (pattern[i + 1] === '*') throw new UnsupportedPattern('verbs');
        if (pattern[i + 1] !== '?') {
          saved.push({ ...flags });
          out += '(';
          i++;
          break;
        }
        const backReference = /^\(\?P=([A-Za-z_][A-Za-z0-9_]*)\)/.exec(pattern.slice(i));
        if (backReference !== null) {
          out += `\\k<${backReference[1]}>`;
          i += backReference[0].length;
          break;
        }
        const group = translateGroupStart(pattern, i, flags);
        if (group.comment) {
          i = group.next;
          break;
        }
        if (group.setsIgnoreCase) ignoreCase = true;
        if (group.optionsOnly) {
          flags = group.flags; // applies to the rest of the enclosing group
        } else {
          saved.push({ ...flags });
          flags = group.flags;
          out += group.text;
        }
        i = group.next;
        break;
      }
      case ')':
        flags = saved.pop() ?? flags;
        out += ')';
        i++;
        break;
      case '.':
        out += flags.dotAll ? '[\\s\\S]' : '[^\\n]';
        i++;
        break;
      case '^':
        out += flags.multiline ? '(?:^|(?<=\\n)(?=[\\s\\S]))' : '^';
        i++;
        break;
      case '$':
        out += flags.multiline ? '(?=\\n|$)' : '(?=\\n?$)';
        i++;
        break;
      case '*':
      case '+':
      case '?':
        out += c;
        i++;
        if (pattern[i] === '?') {
          out += '?';
          i++;
        } else {
          quantifierFollows();
        }
        break;
      case '{': {
        const match = /^\{\d+(?:,\d*)?\}/.exec(pattern.slice(i));
        if (match === null) {
          out += '\\{';
          i++;
          break;
        }
        out += match[0];
        i += match[0].length;
        if (pattern[i] === '?') {
          out += '?';
          i++;
        } else {
          quantifierFollows();
        }
        break;
      }
      default:
        out += c;
        i++;
    }
  }
  return { source: out, ignoreCase };
}

interface GroupStart {
  readonly text: string;
  readonly next: number;
  readonly flags: Flags;
  readonly optionsOnly: boolean;
  readonly setsIgnoreCase: boolean;
  readonly comment: boolean;
}

/** `(?…` at `at`: groups, assertions, names, comments and option settings. */
function translateGroupStart(pattern: string, at: number, flags: Flags): GroupStart {
  const rest = pattern.slice(at + 2);
  const plain = (text: string, length: number): GroupStart => ({
    text,
    next: at + 2 + length,
    flags,
    optionsOnly: false,
    setsIgnoreCase: false,
    comment: false,
  });
  if (rest.startsWith('#')) {
    const end = pattern.indexOf(')', at);
    if (end < 0) throw new UnsupportedPattern('unterminated comment');
    return { ...plain('', 0), next: end + 1, comment: true };
  }
  if (rest.startsWith(':') || rest.startsWith('=') || rest.startsWith('!')) return plain(`(?${rest[0]}`, 1);
  if (rest.startsWith('<=') || rest.startsWith('<!')) return plain(`(?${rest.slice(0, 2)}`, 2);
  if (rest.startsWith('>') || rest.startsWith('|')) return plain('(?:', 1); // atomic / branch reset: approximated
  const named = /^(?:P?<([A-Za-z_][A-Za-z0-9_]*)>|'([A-Za-z_][A-Za-z0-9_]*)')/.exec(rest);
  if (named !== null) return plain(`(?<${named[1] ?? named[2]}>`, named[0].length);
  const options = /^([imsxJUX]*)(?:-([imsxJUX]*))?([:)])/.exec(rest);
  if (options === null) throw new UnsupportedPattern('group');
  const on = options[1] ?? '';
  const off = options[2] ?? '';
  if (/[JUX]/.test(on + off)) throw new UnsupportedPattern('options');
  const next: Flags = {
    multiline: off.includes('m') ? false : on.includes('m') ? true : flags.multiline,
    dotAll: off.includes('s') ? false : on.includes('s') ? true : flags.dotAll,
    extended: off.includes('x') ? false : on.includes('x') ? true : flags.extended,
  };
  const optionsOnly = options[3] === ')';
  return {
    text: optionsOnly ? '' : '(?:',
    next: at + 2 + options[0].length,
    flags: next,
    optionsOnly,
    setsIgnoreCase: on.includes('i'),
    comment: false,
  };
}

/** An escape at `at` (outside or inside a class) → JavaScript text. */
function translateEscape(pattern: string, at: number, inClass: boolean): { text: string; next: number } {
  const c = pattern[at + 1];
  if (c === undefined) throw new UnsupportedPattern('trailing backslash');
  const next = at + 2;
  switch (c) {
    case 's':
      return { text: inClass ? asciiSpace : `[${asciiSpace}]`, next };
    case 'S':
      return { text: inClass ? '\\S' : `[^${asciiSpace}]`, next };
    case 'h':
      return { text: inClass ? ' \\t\\xa0' : '[ \\t\\xa0]', next };
    case 'H':
      return { text: inClass ? '\\S' : '[^ \\t\\xa0]', next };
    case 'e':
      return { text: '\\x1b', next };
    case 'a':
      return { text: '\\x07', next };
    case 'E':
      return { text: '', next };
    case 'Q': {
      const end = pattern.indexOf('\\E', next);
      const literal = pattern.slice(next, end < 0 ? pattern.length : end);
      return { text: literal.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&'), next: end < 0 ? pattern.length : end + 2 };
    }
    case 'x': {
      const braced = /^\{([0-9a-fA-F]{1,2})\}/.exec(pattern.slice(next));
      if (braced !== null) return { text: `\\x${(braced[1] as string).padStart(2, '0')}`, next: next + braced[0].length };
      const plain = /^[0-9a-fA-F]{0,2}/.exec(pattern.slice(next))?.[0] ?? '';
      return { text: `\\x${plain.padStart(2, '0')}`, next: next + plain.length };
    }
    case 'g': {
      const reference = /^(?:\{(\d+)\}|(\d+))/.exec(pattern.slice(next));
      if (reference === null) throw new UnsupportedPattern('\\g');
      return { text: `\\${reference[1] ?? reference[2]}`, next: next + reference[0].length };
    }
    default:
      break;
  }
  if (!inClass) {
    if (c === 'A') return { text: '^', next };
    if (c === 'z') return { text: '$', next };
    if (c === 'Z') return { text: '(?=\\n?$)', next };
    if (c === 'R') return { text: '(?:\\r\\n|[\\n\\v\\f\\r\\x85])', next };
  }
  if ('pPXCKGNu'.includes(c)) throw new UnsupportedPattern(`\\${c}`);
  return { text: `\\${c}`, next };
}

/** A class at `at` (`[`): PCRE's leading `]` is literal; POSIX names expand. */
function translateClass(pattern: string, at: number): { text: string; next: number } {
  let i = at + 1;
  let out = '[';
  if (pattern[i] === '^') {
    out += '^';
    i++;
  }
  if (pattern[i] === ']') {
    out += '\\]';
    i++;
  }
  while (i < pattern.length) {
    const c = pattern[i] as string;
    if (c === ']') return { text: `${out}]`, next: i + 1 };
    if (c === '\\') {
      const escape = translateEscape(pattern, i, true);
      out += escape.text;
      i = escape.next;
      continue;
    }
    if (c === '[') {
      const posix = /^\[:(\^?)([a-z]+):\]/.exec(pattern.slice(i));
      if (posix !== null) {
        const range = posixClasses[posix[2] as string];
        if (range === undefined || posix[1] === '^') throw new UnsupportedPattern('POSIX class');
        out += range;
        i += posix[0].length;
        continue;
      }
      out += '\\[';
      i++;
      continue;
    }
    out += c;
    i++;
  }
  throw new UnsupportedPattern('missing terminating ] for character class');
}
