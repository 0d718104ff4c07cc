import { request } from 'undici';

/** A response as tests look at it: status, headers and the parsed JSON body. */
export interface ApiResponse<T = any> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
  /** The raw body text. */
  text: string;
}

/** A small HTTP client for tests: real requests over loopback. */
export interface ApiClient {
  get(path: string, headers?: Record<string, string>): Promise<ApiResponse>;
  post(path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  put(path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  patch(path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  delete(path: string, headers?: Record<string, string>): Promise<ApiResponse>;
  /** Sends a raw body (malformed JSON, forms) with the content type given. */
  raw(method: string, path: string, body: string | Buffer, headers: Record<string, string>): Promise<ApiResponse>;
}

/** An {@link ApiClient} for `baseUrl`, sending `token` as a bearer credential when given. */
export function apiClient(baseUrl: string, token?: string): ApiClient {
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const send = async (method: string, path: string, body: string | Buffer | undefined, headers: Record<string, string>) => {
    const response = await request(`${baseUrl}${path}`, {
      method: method as 'GET',
      body,
      headers: { ...auth, ...headers },
    });
    const text = await response.body.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: response.statusCode, headers: response.headers, body: parsed, text } as ApiResponse;
  };
  const json =
    (method: string) =>
    (path: string, body?: unknown, headers: Record<string, string> = {}) =>
      send(
        method,
        path,
        body === undefined ? undefined : JSON.stringify(body),
        body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      );
  return {
    get: (path, headers = {}) => send('GET', path, undefined, headers),
    delete: (path, headers = {}) => send('DELETE', path, undefined, headers),
    post: json('POST'),
    put: json('PUT'),
    patch: json('PATCH'),
    raw: (method, path, body, headers) => send(method, path, body, headers),
  };
}
