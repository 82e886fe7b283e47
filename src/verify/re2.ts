// RE2 (Go regexp) syntax, as cosign users write identity expressions, translated to a
// JavaScript RegExp source for the `u` flag. What JavaScript lacks is rewritten: inline
// flags (?i) (?s) (?m) (?U) and their scoped forms, \A \z, POSIX classes, \pL, \Q…\E,
// RE2's ASCII \d \s \w. Constructs RE2 does not have (lookaround, backreferences) or that
// cannot be expressed are refused with an error naming them.
import { KeylessError } from '../core/errors.js';
import { VerifyCode } from './checks.js';

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
  U: boolean;
}

type Range = [number, number];

const DIGIT: Range[] = [[0x30, 0x39]];
const WORD: Range[] = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
];
// RE2's \s: no vertical tab (POSIX [[:space:]] has it).
const PERL_SPACE: Range[] = [
  [0x09, 0x0a],
  [0x0c, 0x0d],
  [0x20, 0x20],
];

const POSIX: Record<string, Range[]> = {
  alnum: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  alpha: [
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  ascii: [[0x00, 0x7f]],
  blank: [
    [0x09, 0x09],
    [0x20, 0x20],
  ],
  cntrl: [
    [0x00, 0x1f],
    [0x7f, 0x7f],
  ],
  digit: DIGIT,
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [
    [0x21, 0x2f],
    [0x3a, 0x40],
    [0x5b, 0x60],
    [0x7b, 0x7e],
  ],
  space: [
    [0x09, 0x0d],
    [0x20, 0x20],
  ],
  upper: [[0x41, 0x5a]],
  word: WORD,
  xdigit: [
    [0x30, 0x39],
    [0x41, 0x46],
    [0x61, 0x66],
  ],
};

const GENERAL_CATEGORIES = new Set(
  'C Cc Cf Co Cs L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps S Sc Sk Sm So Z Zl Zp Zs'.split(' '),
);

/** Ranges in a case-insensitive scope are expanded code point by code point up to this size. */
const MAX_FOLDED_RANGE = 0x3000;

/** The RE2 construct `what` cannot be used; a usage problem naming it. */
function unsupported(what: string, pattern: string): KeylessError {
  return new KeylessError(VerifyCode.POLICY_INVALID, `regular expression ${JSON.stringify(pattern)}: ${what}`, { check: 'policy' });
}

const hex = (cp: number): string => `\\u{${cp.toString(16)}}`;

/** A literal outside a class, escaped for JavaScript's `u` mode. */
function literal(cp: number): string {
  const c = String.fromCodePoint(cp);
  if ('^$\\.*+?()[]{}|/'.includes(c)) return `\\${c}`;
  if (cp < 0x20 || cp === 0x7f) return hex(cp);
  return c;
}

/** The other cases of a code point (simple case mapping, both directions). */
function caseVariants(cp: number): number[] {
  const c = String.fromCodePoint(cp);
  const out = new Set<number>([cp]);
  for (const v of [c.toLowerCase(), c.toUpperCase()]) if ([...v].length === 1) out.add(v.codePointAt(0)!);
  return [...out];
}

function foldRanges(ranges: Range[], pattern: string): Range[] {
  const out: Range[] = [...ranges];
  for (const [lo, hi] of ranges) {
    if (hi - lo > MAX_FOLDED_RANGE)
      throw unsupported(`a case-insensitive character range wider than ${MAX_FOLDED_RANGE} code points is not supported`, pattern);
    for (let cp = lo; cp <= hi; cp++) for (const v of caseVariants(cp)) if (v !== cp) out.push([v, v]);
  }
  return out;
}

const rangesText = (ranges: Range[]): string => ranges.map(([lo, hi]) => (lo === hi ? hex(lo) : `${hex(lo)}-${hex(hi)}`)).join('');

/** One translation; `pos` walks the pattern. */
class Translator {
  private pos = 0;
  private flags: Flags = { i: false, m: false, s: false, U: false };
  private readonly groups: Flags[] = [];

  constructor(private readonly src: string) {}

  translate(): string {
    let out = '';
    while (this.pos < this.src.length) out += this.atom();
    if (this.groups.length > 0) throw this.fail('missing closing )');
    return out;
  }

  private fail(what: string): KeylessError {
    return unsupported(what, this.src);
  }

  private peek(offset = 0): string | undefined {
    return this.src[this.pos + offset];
  }

  private atom(): string {
    const c = this.src[this.pos]!;
    switch (c) {
      case '\\':
        return this.escape();
      case '[':
        return this.charClass();
      case '(':
        return this.groupOpen();
      case ')':
        this.pos++;
        if (this.groups.length === 0) throw this.fail('unexpected )');
        this.flags = this.groups.pop()!;
        return ')';
      case '.':
        this.pos++;
        return this.flags.s ? '[^]' : '[^\\n]';
      case '^':
        this.pos++;
        return this.flags.m ? '(?<![^\\n])' : '^';
      case '$':
        this.pos++;
        return this.flags.m ? '(?![^\\n])' : '$';
      case '|':
        this.pos++;
        return '|';
      case '*':
      case '+':
      case '?':
        this.pos++;
        return this.quantifier(c);
      case '{': {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.pos));
        if (!m) {
          this.pos++;
          return '\\{';
        }
        this.pos += m[0].length;
        return this.quantifier(m[0]);
      }
      default: {
        const cp = this.src.codePointAt(this.pos)!;
        this.pos += cp > 0xffff ? 2 : 1;
        return this.char(cp);
      }
    }
  }

  /** A literal code point, in both cases inside a case-insensitive scope. */
  private char(cp: number): string {
    if (this.flags.i) {
      const variants = caseVariants(cp);
      if (variants.length > 1) return `[${variants.map(hex).join('')}]`;
    }
    return literal(cp);
  }

  /** A repetition; a following `?` makes it lazy, and (?U) swaps lazy and greedy. */
  private quantifier(q: string): string {
    let lazy = false;
    if (this.peek() === '?') {
      lazy = true;
      this.pos++;
    }
    const next = this.peek();
    if (next === '*' || next === '+' || next === '?') throw this.fail(`nested repetition operator ${q}${lazy ? '?' : ''}${next}`);
    return q + (lazy !== this.flags.U ? '?' : '');
  }

  private groupOpen(): string {
    const rest = this.src.slice(this.pos);
    const saved = { ...this.flags };
    if (!rest.startsWith('(?')) {
      this.pos++;
      this.groups.push(saved);
      return '(';
    }
    const named = /^\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest);
    if (named) {
      this.pos += named[0].length;
      this.groups.push(saved);
      return `(?<${named[1]}>`;
    }
    if (rest.startsWith('(?:')) {
      this.pos += 3;
      this.groups.push(saved);
      return '(?:';
    }
    if (/^\(\?(=|!|<=|<!)/.test(rest)) throw this.fail(`lookaround ${rest.slice(0, rest[2] === '<' ? 4 : 3)}…) is not RE2 syntax`);
    if (rest.startsWith('(?P=')) throw this.fail('backreference (?P=name) is not RE2 syntax');
    const flagGroup = /^\(\?([imsU]*)(?:-([imsU]*))?(:|\))/.exec(rest);
    if (!flagGroup || (flagGroup[1] === '' && (flagGroup[2] ?? '') === '')) throw this.fail(`unknown group syntax ${rest.slice(0, 4)}`);
    this.pos += flagGroup[0].length;
    const next = { ...this.flags };
    for (const f of flagGroup[1]!) next[f as keyof Flags] = true;
    for (const f of flagGroup[2] ?? '') next[f as keyof Flags] = false;
    if (flagGroup[3] === ':') {
      // (?flags:re): the flags hold inside this group only.
      this.groups.push(saved);
      this.flags = next;
      return '(?:';
    }
    // (?flags): the flags hold until the end of the enclosing group.
    this.flags = next;
    return '';
  }

  /** An escape outside a character class. */
  private escape(): string {
    const e = this.peek(1);
    if (e === undefined) throw this.fail('trailing backslash');
    this.pos += 2;
    switch (e) {
      case 'A':
        return '^';
      case 'z':
        return '$';
      case 'b':
      case 'B':
        return `\\${e}`;
      case 'd':
      case 'D':
      case 's':
      case 'S':
      case 'w':
      case 'W':
        return this.classText([], [this.perlClass(e)], false);
      case 'p':
      case 'P':
        return this.unicodeClass(e === 'P');
      case 'Q': {
        const end = this.src.indexOf('\\E', this.pos);
        const text = end < 0 ? this.src.slice(this.pos) : this.src.slice(this.pos, end);
        this.pos = end < 0 ? this.src.length : end + 2;
        return [...text].map((ch) => this.char(ch.codePointAt(0)!)).join('');
      }
      case 'C':
        throw this.fail('\\C (any byte) is not supported');
      case 'Z':
        throw this.fail('\\Z is not RE2 syntax (use \\z)');
      default: {
        const cp = this.escapedCodePoint(e);
        return this.char(cp);
      }
    }
  }

  /** \d \s \w and their negations as a set: `negated` says whether the set is excluded. */
  private perlClass(e: string): { ranges: Range[]; negated: boolean } {
    const lower = e.toLowerCase();
    const ranges = lower === 'd' ? DIGIT : lower === 's' ? PERL_SPACE : WORD;
    return { ranges, negated: e !== lower };
  }

  /** \pL, \p{Greek}, \PL, \p{^Greek}: JavaScript's \p{…} (general category or Script=…). */
  private unicodeClass(negated: boolean): string {
    let name: string;
    if (this.peek() === '{') {
      const end = this.src.indexOf('}', this.pos);
      if (end < 0) throw this.fail('\\p{ without closing }');
      name = this.src.slice(this.pos + 1, end);
      this.pos = end + 1;
    } else {
      name = this.peek() ?? '';
      if (!/^[A-Za-z]$/.test(name)) throw this.fail('\\p needs a class name');
      this.pos++;
    }
    if (name.startsWith('^')) {
      negated = !negated;
      name = name.slice(1);
    }
    if (name === 'Any') return negated ? '[^\\u{0}-\\u{10ffff}]' : '[\\u{0}-\\u{10ffff}]';
    const js = GENERAL_CATEGORIES.has(name) ? name : `Script=${name}`;
    const text = `\\${negated ? 'P' : 'p'}{${js}}`;
    try {
      new RegExp(text, 'u');
    } catch {
      throw this.fail(`unknown Unicode class \\p{${name}}`);
    }
    return text;
  }

  /** The code point of an escape that stands for one character. */
  private escapedCodePoint(e: string): number {
    const simple: Record<string, number> = { a: 7, f: 12, t: 9, n: 10, r: 13, v: 11 };
    if (simple[e] !== undefined) return simple[e];
    if (e === 'x') {
      const m = /^\{([0-9A-Fa-f]{1,6})\}|^([0-9A-Fa-f]{2})/.exec(this.src.slice(this.pos));
      if (!m) throw this.fail('\\x needs two hex digits or {hex}');
      this.pos += m[0].length;
      const cp = parseInt(m[1] ?? m[2]!, 16);
      if (cp > 0x10ffff) throw this.fail(`\\x{${m[1]}} is beyond U+10FFFF`);
      return cp;
    }
    if (e >= '0' && e <= '7') {
      // Octal \0, \012: RE2 allows them; \1…\9 would be backreferences, which RE2 lacks.
      if (e !== '0') throw this.fail(`backreference \\${e} is not RE2 syntax`);
      const m = /^[0-7]{0,2}/.exec(this.src.slice(this.pos))!;
      this.pos += m[0].length;
      return parseInt(`0${m[0]}`, 8);
    }
    if (e === '8' || e === '9') throw this.fail(`backreference \\${e} is not RE2 syntax`);
    if (/[A-Za-z0-9]/.test(e)) throw this.fail(`unknown escape \\${e}`);
    return e.codePointAt(0)!;
  }

  /** `[...]`, `[^...]`, with ranges, escapes, POSIX classes `[:alpha:]` / `[:^alpha:]`, \p classes. */
  private charClass(): string {
    this.pos++;
    let negated = false;
    if (this.peek() === '^') {
      negated = true;
      this.pos++;
    }
    const ranges: Range[] = [];
    const excluded: { ranges: Range[]; negated: boolean }[] = [];
    const unicode: string[] = [];
    let first = true;
    for (;;) {
      const c = this.peek();
      if (c === undefined) throw this.fail('missing closing ]');
      if (c === ']' && !first) {
        this.pos++;
        break;
      }
      first = false;
      const posix = /^\[:(\^?)([a-z]+):\]/.exec(this.src.slice(this.pos));
      if (posix) {
        const set = POSIX[posix[2]!];
        if (!set) throw this.fail(`unknown POSIX class [:${posix[2]}:]`);
        this.pos += posix[0].length;
        if (posix[1]) excluded.push({ ranges: set, negated: true });
        else ranges.push(...set);
        continue;
      }
      if (c === '\\' && /[dDsSwW]/.test(this.peek(1) ?? '')) {
        const set = this.perlClass(this.peek(1)!);
        this.pos += 2;
        if (set.negated) excluded.push(set);
        else ranges.push(...set.ranges);
        continue;
      }
      if (c === '\\' && (this.peek(1) === 'p' || this.peek(1) === 'P')) {
        const negatedP = this.peek(1) === 'P';
        this.pos += 2;
        const text = this.unicodeClass(negatedP);
        if (text.startsWith('[')) {
          if (negatedP) excluded.push({ ranges: [[0, 0x10ffff]], negated: true });
          else ranges.push([0, 0x10ffff]);
        } else unicode.push(text);
        continue;
      }
      const lo = this.classChar();
      if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== undefined) {
        this.pos++;
        const hi = this.classChar();
        if (hi < lo) throw this.fail(`invalid character class range ${String.fromCodePoint(lo)}-${String.fromCodePoint(hi)}`);
        ranges.push([lo, hi]);
      } else ranges.push([lo, lo]);
    }
    const folded = this.flags.i ? foldRanges(ranges, this.src) : ranges;
    const foldedExcluded = excluded.map((x) => ({ ...x, ranges: this.flags.i ? foldRanges(x.ranges, this.src) : x.ranges }));
    return this.classText(unicode, foldedExcluded, negated, folded);
  }

  /** One character inside a class (a literal or a single-character escape). */
  private classChar(): number {
    const c = this.peek()!;
    if (c === '\\') {
      const e = this.peek(1);
      if (e === undefined) throw this.fail('trailing backslash');
      this.pos += 2;
      if (e === 'Q' || e === 'A' || e === 'z' || e === 'b' || e === 'B') throw this.fail(`\\${e} inside a character class`);
      return this.escapedCodePoint(e);
    }
    const cp = this.src.codePointAt(this.pos)!;
    this.pos += cp > 0xffff ? 2 : 1;
    return cp;
  }

  /**
   * A class as JavaScript text. Sets that are themselves negated ([:^alpha:], \D, \S, \W)
   * cannot sit inside a `u`-mode class, so the class becomes an alternation (or, when
   * negated, lookaheads) over plain classes.
   */
  private classText(unicode: string[], excluded: { ranges: Range[]; negated: boolean }[], negated: boolean, ranges: Range[] = []): string {
    const plain = rangesText(ranges) + unicode.join('');
    const parts = excluded.map((x) => ({ text: rangesText(x.ranges), negated: x.negated }));
    if (parts.length === 0) return `[${negated ? '^' : ''}${plain}]`;
    if (!negated) {
      const alternatives = [...(plain ? [`[${plain}]`] : []), ...parts.map((p) => `[${p.negated ? '^' : ''}${p.text}]`)];
      return alternatives.length === 1 ? alternatives[0]! : `(?:${alternatives.join('|')})`;
    }
    // Not in `plain` and in none of the excluded sets' complements: in each excluded set.
    const must = parts.map((p) => `[${p.negated ? '' : '^'}${p.text}]`);
    const last = must.pop()!;
    return `(?:${plain ? `(?![${plain}])` : ''}${must.map((m) => `(?=${m})`).join('')}${last})`;
  }
}

/**
 * Translates an RE2 pattern to the source of an equivalent JavaScript RegExp (use the `u`
 * flag). Throws POLICY_INVALID naming the construct that RE2 lacks or that cannot be
 * translated.
 */
export function re2ToJavaScript(pattern: string): string {
  const source = new Translator(pattern).translate();
  try {
    new RegExp(source, 'u');
  } catch (e) {
    throw unsupported(`not a valid regular expression (${(e as Error).message})`, pattern);
  }
  return source;
}
