// RE2 (cosign's regexp syntax) translated to JavaScript: each construct keeps its RE2
// meaning, the policy keeps its whole-value anchoring, and what RE2 lacks is refused by name.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { re2ToJavaScript, compilePolicy } from '../../src/verify/index.js';

/** Anchored as the policy anchors it. */
const whole = (re2: string): RegExp => new RegExp(`^(?:${re2ToJavaScript(re2)})$`, 'u');

function cases(re2: string, yes: string[], no: string[]): void {
  const re = whole(re2);
  for (const s of yes) assert.ok(re.test(s), `${re2} should match ${JSON.stringify(s)}`);
  for (const s of no) assert.ok(!re.test(s), `${re2} should not match ${JSON.stringify(s)}`);
}

describe('RE2 translation', () => {
  it('(?i) for the whole expression and (?i:...) for a group only', () => {
    cases('(?i)https://github\\.com/ACME/.*', ['https://GitHub.com/acme/x', 'HTTPS://github.com/Acme/'], ['https://github.org/acme/x']);
    cases('(?i:abc)DEF', ['AbCDEF', 'abcDEF'], ['abcdef']);
    cases('a(?i)b(?-i)c', ['aBc', 'abc'], ['AbC', 'abC']);
    cases('(?i)[a-c]x', ['Bx', 'cX'], ['dx']);
  });

  it('(?s): dot matches a newline only when asked; RE2 dot never matches \\n otherwise', () => {
    cases('a.b', ['a-b', 'a\rb'], ['a\nb']);
    cases('(?s)a.b', ['a\nb', 'a-b'], []);
  });

  it('(?m): ^ and $ at line boundaries', () => {
    cases('(?m)x$\\n^y', ['x\ny'], []);
    cases('x$\\n^y', [], ['x\ny']);
  });

  it('(?U): greedy and lazy swap', () => {
    // Measured by the capture: unanchored, first match.
    const greedy = new RegExp(re2ToJavaScript('(a+)'), 'u').exec('aaa')![1];
    const ungreedy = new RegExp(re2ToJavaScript('(?U)(a+)'), 'u').exec('aaa')![1];
    const lazyUngreedy = new RegExp(re2ToJavaScript('(?U)(a+?)'), 'u').exec('aaa')![1];
    assert.deepEqual([greedy, ungreedy, lazyUngreedy], ['aaa', 'a', 'aaa']);
  });

  it('\\A and \\z', () => {
    cases('\\Aabc\\z', ['abc'], ['abcd']);
  });

  it('POSIX classes, negated ones, and mixed with other items', () => {
    cases('[[:alpha:]]+', ['abcXYZ'], ['abc1']);
    cases('[[:digit:][:upper:]]+', ['A1B2'], ['a1']);
    cases('[[:^alpha:]]', ['1', '-'], ['a']);
    cases('[[:^alpha:]x]', ['1', 'x'], ['a']);
    cases('[^[:^alpha:]x]', ['a'], ['x', '1']);
    cases('[[:xdigit:]]{4}', ['00fF'], ['00fg']);
    cases('[[:space:]]', ['\v', ' '], ['x']);
  });

  it('Unicode classes: \\pL, \\p{Greek}, \\PN, \\p{^Greek}', () => {
    cases('\\pL+', ['héllo', 'Ωμέγα'], ['a1']);
    cases('\\p{Greek}+', ['Ωμέγα'], ['omega']);
    cases('\\PN', ['x'], ['5']);
    cases('\\p{^Greek}', ['x'], ['Ω']);
    cases('[\\p{Lu}\\d]+', ['A1'], ['a']);
  });

  it("RE2's ASCII \\d \\s \\w (JavaScript's \\s is wider)", () => {
    cases('\\s', [' ', '\t'], ['\u00a0', '\v']);
    cases('\\w+', ['a_Z9'], ['é']);
    cases('\\D\\W\\S', ['a-x'], ['1-x']);
  });

  it('literal text: \\Q...\\E, escaped punctuation, lone braces', () => {
    cases('\\Qa.b*c\\E', ['a.b*c'], ['aXbbc']);
    cases('x\\-y\\@z', ['x-y@z'], []);
    cases('a{b}', ['a{b}'], []);
    cases('a{2}', ['aa'], ['a']);
    cases('\\x41\\x{1F600}', ['A😀'], []);
  });

  it('named groups (?P<name>...)', () => {
    assert.equal(new RegExp(re2ToJavaScript('(?P<user>[a-z]+)@x'), 'u').exec('bob@x')!.groups!.user, 'bob');
  });

  it('refuses what RE2 has not, naming the construct', () => {
    for (const [re, what] of [
      ['(?=x)', /lookaround/],
      ['(?<!x)y', /lookaround/],
      ['(a)\\1', /backreference \\1/],
      ['[[:alphabet:]]', /unknown POSIX class \[:alphabet:\]/],
      ['\\p{Klingon}', /unknown Unicode class/],
      ['\\Z', /\\Z is not RE2/],
      ['\\C', /\\C/],
      ['a**', /nested repetition/],
      ['(a', /missing closing \)/],
      ['[a', /missing closing \]/],
      ['\\q', /unknown escape \\q/],
    ] as const) {
      assert.throws(
        () => re2ToJavaScript(re),
        (e: Error & { code?: string }) => e.code === 'POLICY_INVALID' && what.test(e.message),
        re,
      );
    }
  });

  it('the policy anchors the translation to the whole value', () => {
    const p = compilePolicy({
      certificateIdentityRegexp: '(?i)SIGNER@example\\.com',
      certificateOidcIssuer: 'https://issuer.example',
      regexpSyntax: 're2',
    });
    assert.ok(p.identity!.regexp!.test('signer@EXAMPLE.com'));
    assert.ok(!p.identity!.regexp!.test('xsigner@example.com'));
    assert.equal(p.identity!.text, '(?i)SIGNER@example\\.com');
    // JavaScript syntax stays the library default: (?i) is not JavaScript.
    assert.throws(() => compilePolicy({ certificateIdentityRegexp: '(?i)x', certificateOidcIssuer: 'https://i' }), {
      code: 'POLICY_INVALID',
    });
  });
});
