/** Same-origin calls to the dashboard API (shared/dashboard/contract.ts), every one with the bearer token. */

export class UnauthorizedError extends Error {
  constructor() {
    super('The dashboard server refused the token (401).');
    this.name = 'UnauthorizedError';
  }
}

/** A non-2xx answer other than 401; `message` is the server's `error` when it sent one (e.g. a safety rule's). */
export class ApiError extends Error {
  readonly status: number;
  readonly type: string | undefined;

  constructor(status: number, message: string, type?: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.type = type;
  }
}

type UnauthorizedListener = () => void;
const unauthorizedListeners = new Set<UnauthorizedListener>();

/** Any 401, from any call, tells the app so it can show the token message. */
export function onUnauthorized(listener: UnauthorizedListener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export async function apiFetch(token: string, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('Authorization', `Bearer ${token}`);
  if (init.body !== undefined) headers.set('Content-Type', 'application/json');
  const response = await fetch(path, { ...init, headers, credentials: 'same-origin', cache: 'no-store' });
  if (response.status === 401) {
    for (const listener of unauthorizedListeners) listener();
    throw new UnauthorizedError();
  }
  if (!response.ok) throw await apiError(response);
  return response;
}

async function apiError(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: unknown; type?: unknown };
    if (typeof body.error === 'string') return new ApiError(response.status, body.error, typeof body.type === 'string' ? body.type : undefined);
  } catch {
    // not JSON: fall through to the status line
  }
  return new ApiError(response.status, text.trim() || `${response.status} ${response.statusText}`);
}

export async function getJson<T>(token: string, path: string): Promise<T> {
  return (await apiFetch(token, path)).json() as Promise<T>;
}

export async function postJson<T>(token: string, path: string, body: unknown): Promise<T> {
  return (await apiFetch(token, path, { method: 'POST', body: JSON.stringify(body) })).json() as Promise<T>;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
