import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkSpecificationValues, patternProblem, SPECIFICATION_TYPES, type SpecificationRule } from './specification-values.ts';

// Names a product may give specifications, including ones that are also Object.prototype keys.
const NAMES = ['vat', 'seats', 'site', 'contact', 'flag', 'constructor', 'toString', 'hasOwnProperty'] as const;
const SAFE_PATTERNS = ['^[A-Za-z0-9 .@:/_-]*$', '^\\d+$', '^[a-z]', 'x', '^(true|false)$', '\\.com$', '^-?\\d+(\\.\\d+)?$'];

const ruleArb = fc.record({
  name: fc.constantFrom(...NAMES),
  type: fc.constantFrom(...SPECIFICATION_TYPES),
  required: fc.boolean(),
  pattern: fc.option(fc.constantFrom(...SAFE_PATTERNS), { nil: null }),
});
const rulesArb = fc.uniqueArray(ruleArb, { selector: (rule) => rule.name, maxLength: NAMES.length });

// Values of every shape a tenant could send, many of them valid for some type.
const valueArb = fc.oneof(
  fc.jsonValue(),
  fc.string(),
  fc.integer().map(String),
  fc.double({ noNaN: true }),
  fc.constantFrom('true', 'false', true, false, '', null, ' 42 ', '1e3', '-0', '0x10', '42.0', '007', 'x.com', 'a@b.com'),
  fc.emailAddress(),
  fc.webUrl(),
);
// Object.fromEntries makes every key (even `__proto__`) an own property, as JSON.parse does.
const valuesArb = fc
  .array(fc.tuple(fc.oneof(fc.constantFrom(...NAMES, 'unknown', '__proto__'), fc.string()), valueArb), { maxLength: 10 })
  .map((entries) => Object.fromEntries(entries) as Record<string, unknown>);

const parameters = (problems: { parameter: string }[]) => problems.map((problem) => problem.parameter);

describe('checkSpecificationValues', () => {
  it('never throws, whatever the rules and values (even patterns that do not compile)', () => {
    const anyRules = fc.array(
      fc.record({ name: fc.string(), type: fc.string(), required: fc.boolean(), pattern: fc.option(fc.string(), { nil: null }) }),
      { maxLength: 5 },
    );
    fc.assert(
      fc.property(anyRules, valuesArb, fc.boolean(), (rules, values, partial) => {
        const result = checkSpecificationValues(rules, values, { partial });
        expect(Array.isArray(result.problems)).toBe(true);
      }),
    );
  });

  it('names every problem `specifications.<name>` with the code tenant.invalid_specification', () => {
    fc.assert(
      fc.property(rulesArb, valuesArb, (rules, values) => {
        for (const problem of checkSpecificationValues(rules, values).problems) {
          expect(problem.code).toBe('tenant.invalid_specification');
          expect(problem.parameter).toMatch(/^specifications\./);
          expect([...Object.keys(values), ...rules.map((rule) => rule.name)]).toContain(problem.parameter.slice('specifications.'.length));
        }
      }),
    );
  });

  it('normalised values always pass a second check, unchanged', () => {
    fc.assert(
      fc.property(rulesArb, valuesArb, (rules, values) => {
        const first = checkSpecificationValues(rules, values);
        const second = checkSpecificationValues(rules, first.values, { partial: true });
        expect(second.problems).toEqual([]);
        expect(second.values).toEqual(first.values);
        if (first.problems.length === 0) expect(checkSpecificationValues(rules, first.values).problems).toEqual([]);
      }),
      { numRuns: 1000 },
    );
  });

  it('a number that passes once passes again as stored, whatever text it was written in', () => {
    const pattern = fc.constantFrom('^\\d+$', '^-?\\d+(\\.\\d+)?$', '^[0-9]{1,3}$', '^\\d+\\.\\d+$');
    const numberText = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
      fc.integer().map((n) => `${n}.0`),
      fc.integer({ min: 0, max: 999 }).map((n) => ` 0${n} `),
      fc.constantFrom('1e3', '007', '12.50'),
    );
    fc.assert(
      fc.property(pattern, numberText, (regex, text) => {
        const rules = [{ name: 'amount', type: 'number', required: true, pattern: regex }];
        const first = checkSpecificationValues(rules, { amount: text });
        if (first.problems.length > 0) return;
        expect(checkSpecificationValues(rules, first.values)).toEqual(first);
      }),
    );
  });

  it('keeps only published names, each normalised to its type', () => {
    fc.assert(
      fc.property(rulesArb, valuesArb, (rules, values) => {
        const byName = new Map<string, SpecificationRule>(rules.map((rule) => [rule.name, rule]));
        for (const [name, value] of Object.entries(checkSpecificationValues(rules, values).values)) {
          const rule = byName.get(name);
          expect(rule).toBeDefined();
          const expected = rule?.type === 'number' ? 'number' : rule?.type === 'boolean' ? 'boolean' : 'string';
          expect(typeof value).toBe(expected);
        }
      }),
    );
  });

  it('always reports a required specification that is missing, unless the check is partial', () => {
    fc.assert(
      fc.property(rulesArb, valuesArb, (rules, values) => {
        const missing = rules
          .filter((rule) => rule.required && !Object.hasOwn(values, rule.name))
          .map((rule) => `specifications.${rule.name}`);
        expect(parameters(checkSpecificationValues(rules, values).problems)).toEqual(expect.arrayContaining(missing));
        const partial = parameters(checkSpecificationValues(rules, values, { partial: true }).problems);
        for (const parameter of missing) expect(partial).not.toContain(parameter);
      }),
    );
  });

  it('reports every value of an unknown name', () => {
    fc.assert(
      fc.property(rulesArb, valuesArb, (rules, values) => {
        const names = new Set<string>(rules.map((rule) => rule.name));
        const unknown = Object.keys(values)
          .filter((name) => !names.has(name))
          .map((name) => `specifications.${name}`);
        expect(parameters(checkSpecificationValues(rules, values).problems)).toEqual(expect.arrayContaining(unknown));
      }),
    );
  });

  it('normalises by type and matches the pattern against the stored form', () => {
    const rules: SpecificationRule[] = [
      { name: 'seats', type: 'number', required: true, pattern: '^\\d+$' },
      { name: 'trial', type: 'boolean', required: false, pattern: null },
      { name: 'contact', type: 'email', required: false, pattern: null },
      { name: 'site', type: 'url', required: false, pattern: null },
    ];
    const ok = checkSpecificationValues(rules, { seats: '42.0', trial: 'true', contact: 'a@b.io', site: 'https://x.example' });
    expect(ok).toEqual({ values: { seats: 42, trial: true, contact: 'a@b.io', site: 'https://x.example' }, problems: [] });
    const bad = checkSpecificationValues(rules, { seats: '4.5', trial: 'yes', contact: 'nobody', site: 'ftp://x' });
    expect(parameters(bad.problems)).toEqual([
      'specifications.seats',
      'specifications.trial',
      'specifications.contact',
      'specifications.site',
    ]);
    expect(parameters(checkSpecificationValues(rules, { constructor: 'x' }).problems)).toEqual([
      'specifications.constructor',
      'specifications.seats',
    ]);
  });

  it('gives up on a slow pattern within a bounded time instead of holding the event loop', () => {
    const rules: SpecificationRule[] = [{ name: 'code', type: 'string', required: true, pattern: '^\\d*\\d*\\d*\\d*\\d*\\d*$' }];
    const started = performance.now();
    const result = checkSpecificationValues(rules, { code: `${'1'.repeat(1999)}a` });
    expect(performance.now() - started).toBeLessThan(2000);
    expect(result.problems).toEqual([expect.objectContaining({ parameter: 'specifications.code' })]);
    expect(result.problems[0]?.message).toContain('in time');
  });
});

describe('patternProblem', () => {
  it('never throws, and every pattern it accepts compiles in Unicode mode', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom(...SAFE_PATTERNS)), (pattern) => {
        const problem = patternProblem(pattern);
        if (problem === undefined) expect(() => new RegExp(pattern, 'u')).not.toThrow();
        else expect(['specification.invalid_pattern', 'specification.unsafe_pattern']).toContain(problem.code);
      }),
    );
  });

  it('refuses every pattern over 500 characters', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 501, maxLength: 800 }), (pattern) => {
        expect(patternProblem(pattern)?.code).toBe('specification.invalid_pattern');
      }),
    );
  });

  it('refuses a repeated group around any quantified atom, or one with alternatives', () => {
    const atom = fc.constantFrom('a', '\\d', '[a-z]', '\\w', '.');
    const quantifier = fc.constantFrom('*', '+', '{2,}');
    fc.assert(
      fc.property(atom, quantifier, quantifier, (inner, innerQuantifier, outerQuantifier) => {
        expect(patternProblem(`^(${inner}${innerQuantifier})${outerQuantifier}$`)?.code).toBe('specification.unsafe_pattern');
        expect(patternProblem(`^(${inner}|${inner}${inner})${outerQuantifier}$`)?.code).toBe('specification.unsafe_pattern');
      }),
    );
  });

  it('names the reason for the usual suspects and accepts the usual safe patterns', () => {
    expect(patternProblem('(a+)+$')?.code).toBe('specification.unsafe_pattern');
    expect(patternProblem('(x|xx)+y')?.code).toBe('specification.unsafe_pattern');
    expect(patternProblem('((a|b)c)*')?.code).toBe('specification.unsafe_pattern');
    expect(patternProblem('(')?.code).toBe('specification.invalid_pattern');
    expect(patternProblem('\\p{Nope}')?.code).toBe('specification.invalid_pattern');
    expect(patternProblem('^(\\d{2}){3,}$')?.code).toBe('specification.unsafe_pattern');
    expect(patternProblem('^(?:a+?)+$')?.code).toBe('specification.unsafe_pattern');
    const safe = [
      ...SAFE_PATTERNS,
      '^(https?|ftp)://',
      '^[A-Z]{2}[0-9]{8,12}$',
      '^\\d{5}(-\\d{4})?$',
      '^[a-z]+(-[a-z]+)?$',
      '^(a|b)?$',
      '^[(|)]+$',
      '^\\(a|b\\)+$',
      '^\\p{L}+$',
      '^\\u{1F600}{2}$',
      '^(?<cc>[A-Z]{2})-\\d+$',
    ];
    for (const pattern of safe) expect([pattern, patternProblem(pattern)]).toEqual([pattern, undefined]);
  });
});
