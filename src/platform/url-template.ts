const PLACEHOLDER = /\{([^{}]*)\}/g;
const KNOWN = new Set(['name', 'tenantId']);

/** Values for the placeholders of a product's URL templates. */
export interface UrlValues {
  name: string;
  tenantId: string;
}

/** Replaces `{name}` and `{tenantId}` in a URL template, URL-encoding the values. */
export function fillUrl(template: string, values: UrlValues): string {
  return template.replace(PLACEHOLDER, (whole, key: string) =>
    KNOWN.has(key) ? encodeURIComponent(values[key as keyof UrlValues]) : whole,
  );
}

/**
 * Why a URL template is not usable, or `undefined` when it is: it must be an absolute
 * http(s) URL once filled in, and use no placeholder but `{name}` and `{tenantId}`.
 */
export function urlTemplateProblem(template: string): string | undefined {
  for (const match of template.matchAll(PLACEHOLDER)) {
    if (!KNOWN.has(match[1] ?? '')) return `uses the unknown placeholder ${match[0]} (only {name} and {tenantId} are replaced)`;
  }
  let url: URL;
  try {
    url = new URL(fillUrl(template, { name: 'tenant', tenantId: '00000000-0000-0000-0000-000000000000' }));
  } catch {
    return 'is not an absolute URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must start with http:// or https://';
  if (url.username || url.password) return 'must not carry a user name or password';
  return undefined;
}
