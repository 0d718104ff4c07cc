import safeRegex from 'safe-regex2';
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
// Deliberately simple: one @, no spaces, a dot in the domain. The backend may be stricter.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * Why a specification pattern cannot be used, or `undefined` when it can: it must
 * compile as a JavaScript regular expression (Unicode mode), stay under 500
 * characters, and have no nested quantifiers that could take exponential time.
 */
export function patternProblem(pattern: string): { code: 'specification.invalid_pattern' | 'specification.unsafe_pattern'; message: string } | undefined {
  if (pattern.length > MAX_PATTERN_LENGTH) return { code: 'specification.invalid_pattern', message: `The pattern is longer than ${MAX_PATTERN_LENGTH} characters` };
  try {
    new RegExp(pattern, 'u');
  } catch (error) {
    return { code: 'specification.invalid_pattern', message: `The pattern is not a valid regular expression: ${(error as Error).message}` };
  }
  if (!safeRegex(pattern)) return { code: 'specification.unsafe_pattern', message: 'The pattern has nested quantifiers that could take exponential time' };
  return undefined;
}

/**
 * Checks a tenant's specification values against the product's published
 * specifications. Returns the values normalised to their types ("42" for a number
 * becomes 42) and one error per problem, each naming `specifications.<name>`.
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
    else normalised[name] = result.value;
  }
  if (!options.partial) {
    for (const rule of rules) {
      if (rule.required && !(rule.name in values)) problems.push(problem(rule.name, `"${rule.name}" is required`));
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
  if (rule.pattern && !new RegExp(rule.pattern, 'u').test(text)) return `"${rule.name}" does not match the pattern ${rule.pattern}`;
  return { value };
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
