import vm from 'node:vm';
import { type ErrorItem, errorItem } from '../errors/app-error.ts';

/** The specification types a product can ask of its tenants. */
export const SPECIFICATION_TYPES = ['string', 'number', 'boolean', 'email', 'url'] as const;
export type SpecificationType = (typeof SPECIFICATION_TYPES)[number];

/** What the value check needs to know of one published specification. */
export interface SpecificationRule {
  name: string;
  type: string;
  required: boolean;
  pattern: string | null;
}

const MAX_PATTERN_LENGTH = 500;
const MAX_VALUE_LENGTH = 2000;
// A pattern the static checks let through can still backtrack for long (e.g. `\d*\d*\d*$`);
// no value check may hold the event loop longer than this. A safe pattern matches in
// microseconds; 250 ms leaves room for a loaded machine without refusing good values.
const MATCH_TIMEOUT_MS = 250;
// Deliberately simple: one @, no spaces, a dot in the domain. The backend may be stricter.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * Why a specification pattern cannot be used, or `undefined` when it can: it must
 * compile as a JavaScript regular expression (Unicode mode), stay under 500
 * characters, and repeat (more than once) no group that has a quantifier or alternatives
 * inside (`(a+)+`, `(a|aa)+`): both could take exponential time. `(-\d{4})?` is fine.
 */
export function patternProblem(
  pattern: string,
): { code: 'specification.invalid_pattern' | 'specification.unsafe_pattern'; message: string } | undefined {
  if (pattern.length > MAX_PATTERN_LENGTH)
    return { code: 'specification.invalid_pattern', message: `The pattern is longer than ${MAX_PATTERN_LENGTH} characters` };
  try {
    new RegExp(pattern, 'u');
  } catch (error) {
    return { code: 'specification.invalid_pattern', message: `The pattern is not a valid regular expression: ${(error as Error).message}` };
  }
  const unsafe = backtrackingRisk(pattern);
  if (unsafe === 'nested')
    return {
      code: 'specification.unsafe_pattern',
      message: 'The pattern repeats a group that has a quantifier inside (like `(a+)+`), which could take exponential time',
    };
  if (unsafe === 'alternation')
    return {
      code: 'specification.unsafe_pattern',
      message: 'The pattern repeats a group with alternatives (like `(a|aa)+`), which could take exponential time; use a character class',
    };
  return undefined;
}

/**
 * Checks a tenant's specification values against the product's published
 * specifications. Returns the values normalised to their types ("42" for a number
 * becomes 42) and one error per problem, each naming `specifications.<name>`.
 * A pattern is matched against the value as it is stored (a number's canonical
 * text), so normalised values always pass a second check. Never throws.
 */
export function checkSpecificationValues(
  rules: readonly SpecificationRule[],
  values: Record<string, unknown>,
  options: { partial?: boolean } = {},
): { values: Record<string, unknown>; problems: ErrorItem[] } {
  const byName = new Map(rules.map((rule) => [rule.name, rule]));
  const problems: ErrorItem[] = [];
  const normalised: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(values)) {
    const rule = byName.get(name);
    if (!rule) {
      problems.push(problem(name, `The product has no published specification "${name}"`));
      continue;
    }
    if (raw === null || raw === undefined || raw === '') {
      if (rule.required) problems.push(problem(name, `"${name}" is required`));
      continue;
    }
    const result = normalise(rule, raw);
    if (typeof result === 'string') problems.push(problem(name, result));
    // defineProperty, not assignment: a name such as `__proto__` must stay a plain key.
    else Object.defineProperty(normalised, name, { value: result.value, enumerable: true, writable: true, configurable: true });
  }
  if (!options.partial) {
    for (const rule of rules) {
      // Own keys only: `"constructor" in {}` is true.
      if (rule.required && !Object.hasOwn(values, rule.name)) problems.push(problem(rule.name, `"${rule.name}" is required`));
    }
  }
  return { values: normalised, problems };
}

function normalise(rule: SpecificationRule, raw: unknown): { value: unknown } | string {
  const text = typeof raw === 'string' ? raw : typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : undefined;
  if (text === undefined) return `"${rule.name}" must be a ${rule.type}, not ${Array.isArray(raw) ? 'an array' : 'an object'}`;
  if (text.length > MAX_VALUE_LENGTH) return `"${rule.name}" is longer than ${MAX_VALUE_LENGTH} characters`;
  let value: unknown = text;
  switch (rule.type) {
    case 'number': {
      const number = typeof raw === 'number' ? raw : text.trim() === '' ? Number.NaN : Number(text);
      if (!Number.isFinite(number)) return `"${rule.name}" must be a number`;
      value = number;
      break;
    }
    case 'boolean':
      if (raw !== true && raw !== false && text !== 'true' && text !== 'false') return `"${rule.name}" must be true or false`;
      value = raw === true || text === 'true';
      break;
    case 'email':
      if (!EMAIL.test(text)) return `"${rule.name}" must be an e-mail address`;
      break;
    case 'url':
      if (!isHttpUrl(text)) return `"${rule.name}" must be an http(s) URL`;
      break;
    default:
      if (typeof raw !== 'string') return `"${rule.name}" must be a string`;
  }
  if (rule.pattern) {
    const matched = matchesPattern(rule.pattern, String(value));
    if (matched === undefined) return `"${rule.name}" could not be checked against the pattern ${rule.pattern} in time`;
    if (!matched) return `"${rule.name}" does not match the pattern ${rule.pattern}`;
  }
  return { value };
}

const compiled = new Map<string, RegExp | null>();
const sandbox = vm.createContext({ pattern: /(?:)/u, text: '' });
const matchScript = new vm.Script('pattern.test(text)');

/**
 * Whether `text` matches `pattern`, run with a time limit so that no pattern can hold the
 * event loop; `undefined` when the pattern does not compile or the limit ran out.
 */
function matchesPattern(pattern: string, text: string): boolean | undefined {
  let regex = compiled.get(pattern);
  if (regex === undefined) {
    try {
      regex = new RegExp(pattern, 'u');
    } catch {
      regex = null;
    }
    if (compiled.size >= 1000) compiled.clear();
    compiled.set(pattern, regex);
  }
  if (regex === null) return undefined;
  sandbox.pattern = regex;
  sandbox.text = text;
  try {
    return matchScript.runInContext(sandbox, { timeout: MATCH_TIMEOUT_MS }) === true;
  } catch {
    return undefined;
  }
}

/** How far a quantifier at `index` repeats its atom (`?` once, `*` for ever), with its length; undefined when none is there. */
function quantifierAt(pattern: string, index: number): { max: number; length: number } | undefined {
  const char = pattern[index];
  let max: number;
  let length: number;
  if (char === '*' || char === '+' || char === '?') {
    max = char === '?' ? 1 : Number.POSITIVE_INFINITY;
    length = 1;
  } else {
    const braces = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(index));
    if (!braces) return undefined;
    max = braces[2] === undefined ? Number(braces[1]) : braces[3] ? Number(braces[3]) : Number.POSITIVE_INFINITY;
    length = braces[0].length;
  }
  // A lazy quantifier (`+?`) backtracks just as much.
  if (pattern[index + length] === '?') length++;
  return { max, length };
}

/**
 * Whether a group that is repeated more than once holds a repeated atom (`(a+)+`, star
 * height 2) or alternatives (`(a|aa)+`): either can backtrack exponentially, and telling
 * the harmless ones apart is beyond a cheap check, so every such group is refused. A group
 * repeated at most once (`(-\d{4})?`) is fine. Expects a pattern that compiles.
 */
function backtrackingRisk(pattern: string): 'nested' | 'alternation' | undefined {
  const groups = [{ repeats: false, alternates: false }];
  const top = () => groups[groups.length - 1] ?? { repeats: false, alternates: false };
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index];
    if (char === '(') {
      groups.push({ repeats: false, alternates: false });
      // Skip `?:`, `?=`, `?!`, `?<=`, `?<!` and `?<name>`, which are not atoms.
      index += /^\?(?::|=|!|<=|<!|<[^>]*>)/.exec(pattern.slice(index + 1))?.[0].length ?? 0;
      continue;
    }
    if (char === '|') {
      top().alternates = true;
      continue;
    }
    let inner: { repeats: boolean; alternates: boolean } | undefined;
    if (char === ')') {
      inner = groups.pop();
    } else if (char === '\\') {
      index++;
      // `\u{…}`, `\p{…}`: the braces belong to the escape, not a quantifier.
      if ('upP'.includes(pattern[index] ?? '') && pattern[index + 1] === '{') index = Math.max(index, pattern.indexOf('}', index));
    } else if (char === '[') {
      // A class ends at the first unescaped `]` (classes do not nest in Unicode mode).
      for (index++; index < pattern.length && pattern[index] !== ']'; index++) if (pattern[index] === '\\') index++;
    }
    const quantifier = quantifierAt(pattern, index + 1);
    const repeated = quantifier !== undefined && quantifier.max > 1;
    if (repeated && inner?.repeats) return 'nested';
    if (repeated && inner?.alternates) return 'alternation';
    const outer = top();
    outer.repeats ||= repeated || inner?.repeats === true;
    outer.alternates ||= inner?.alternates === true;
    index += quantifier?.length ?? 0;
  }
  return undefined;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function problem(name: string, message: string): ErrorItem {
  return errorItem('tenant.invalid_specification', message, `specifications.${name}`);
}
