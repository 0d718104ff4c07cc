import type { TSchema } from 'typebox';
import { AppError, type ErrorItem } from '../errors/app-error.ts';
import { html, type SafeHtml } from '../http/html.ts';
import { validationItems, validatorCompiler } from '../http/validation.ts';

/**
 * Forms that show the API's own validation errors next to their fields: a form's dotted field
 * names (`webhooks.creation`) become the nested body of a `/v1` route, the body is checked by the
 * validator `/v1` itself runs (ajv with the route's TypeBox schema, so the messages are the API's),
 * and a refused form is drawn again with what was typed and each problem beside its field.
 */

/**
 * How a field becomes a JSON value. `text`: as typed, left out when empty; `exact`: as typed, even
 * empty (a required name the operator emptied is the API's to refuse); `nullable`: as typed,
 * `null` when empty (clears a URL); `integer`: a whole number when it looks like one, else the text
 * (so the API's validator names it); `boolean`: `true`/`false`, left out otherwise.
 */
export type FieldSpec = 'text' | 'exact' | 'nullable' | 'integer' | 'boolean';

/** A form as it was sent and what was wrong with it, to draw it again. */
export interface FormState {
  values: Record<string, string | undefined>;
  problems: ErrorItem[];
}

/** The nested body of the fields in `specs`, from a console form (first value of each, trimmed). */
export function bodyOfForm(form: Record<string, string | undefined>, specs: Record<string, FieldSpec>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const raw = form[name];
    if (raw === undefined) continue;
    const value = jsonValue(raw, spec);
    if (value === undefined) continue;
    const path = name.split('.');
    const leaf = path.pop() as string;
    let node = body;
    for (const segment of path) {
      node[segment] ??= {};
      node = node[segment] as Record<string, unknown>;
    }
    node[leaf] = value;
  }
  return body;
}

function jsonValue(raw: string, spec: FieldSpec): unknown {
  if (spec === 'exact') return raw;
  if (spec === 'nullable') return raw === '' ? null : raw;
  if (raw === '') return undefined;
  if (spec === 'integer') return /^-?\d{1,15}$/.test(raw) ? Number(raw) : raw;
  if (spec === 'boolean') return raw === 'true' ? true : raw === 'false' ? false : raw;
  return raw;
}

const validators = new WeakMap<TSchema, ReturnType<typeof validatorCompiler>>();

/** The problems `/v1` would answer for `body` against the route's body schema (none: an empty list). */
export function apiProblems(schema: TSchema, body: unknown): ErrorItem[] {
  let validate = validators.get(schema);
  if (!validate) {
    validate = validatorCompiler({ schema, httpPart: 'body', method: 'POST', url: '' });
    validators.set(schema, validate);
  }
  const result = validate(body) as { error?: unknown };
  return result.error ? validationItems(result.error as Parameters<typeof validationItems>[0], 'body') : [];
}

/** Throws the 400 `/v1` would answer, carrying every problem, when there is any. */
export function assertApiValid(schema: TSchema, body: unknown): void {
  const [first, ...more] = apiProblems(schema, body);
  if (first) throw new AppError('request.invalid', { message: first.message, parameter: first.parameter, more });
}

/** Every problem an error carries (the API's error items), when it is an AppError about the request; else undefined. */
export function formProblemsOf(error: unknown): ErrorItem[] | undefined {
  if (!(error instanceof AppError) || error.status >= 500 || error.status === 401 || error.status === 403 || error.status === 404) {
    return undefined;
  }
  return error.items;
}

/** The problems of one field (and of the fields inside it: `roles` covers `roles.Admin`). */
export function problemsOf(state: FormState | undefined, name: string): ErrorItem[] {
  return (state?.problems ?? []).filter((item) => item.parameter === name || item.parameter.startsWith(`${name}.`));
}

/** Problems that belong to no field of the form: shown above it. */
export function otherProblems(state: FormState | undefined, names: readonly string[]): ErrorItem[] {
  return (state?.problems ?? []).filter((item) => !names.some((name) => item.parameter === name || item.parameter.startsWith(`${name}.`)));
}

/** A form's summary of what was refused (an alert, so a screen reader hears it): problems of no field are listed here. */
export function problemSummary(state: FormState | undefined, names: readonly string[]): SafeHtml {
  if (!state?.problems.length) return html``;
  const loose = otherProblems(state, names);
  const beside = state.problems.length - loose.length;
  return html`<div class="error" role="alert"><p>Nothing was saved.${
    beside ? ` ${beside === 1 ? 'One field needs' : `${beside} fields need`} a change: see beside ${beside === 1 ? 'it' : 'them'}.` : ''
  }</p>${loose.length ? html`<ul>${loose.map((item) => html`<li>${item.message}</li>`)}</ul>` : ''}</div>`;
}

/** The DOM id of a field of a form (`settings`, `webhooks.creation` → `settings-webhooks-creation`). */
export function fieldId(form: string, name: string): string {
  return `${form}-${name.replace(/[^A-Za-z0-9]+/g, '-')}`;
}

/** One labelled field with its value and, when refused, its problems beside it (`aria-invalid`, `aria-describedby`). */
export function field(
  form: string,
  name: string,
  label: string,
  value: string | null | undefined,
  state: FormState | undefined,
  options: {
    type?: 'text' | 'url' | 'password';
    required?: boolean;
    maxlength?: number;
    inputmode?: 'numeric';
    placeholder?: string;
    choices?: readonly (readonly [value: string, label: string])[];
  } = {},
): SafeHtml {
  const id = fieldId(form, name);
  const problems = problemsOf(state, name);
  const invalid = problems.length ? html` aria-invalid="true" aria-describedby="${id}-problem"` : '';
  const common = html`id="${id}" name="${name}"${invalid}${options.required ? html` required` : ''}`;
  const control = options.choices
    ? html`<select ${common}>${options.choices.map(([choice, text]) => html`<option value="${choice}"${choice === value ? html` selected` : ''}>${text}</option>`)}</select>`
    : html`<input ${common} type="${options.type ?? 'text'}" value="${value ?? ''}"${options.maxlength ? html` maxlength="${options.maxlength}"` : ''}${options.inputmode ? html` inputmode="${options.inputmode}"` : ''}${options.placeholder ? html` placeholder="${options.placeholder}"` : ''} autocomplete="off">`;
  return html`<div class="field"><label for="${id}">${label}</label>${control}${
    problems.length ? html`<p class="field-problem" id="${id}-problem">${problems.map((item) => item.message).join('; ')}</p>` : ''
  }</div>`;
}
