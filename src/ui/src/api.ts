// The one client of the service's API: the {code, msg, data} envelope, the
// session's tokens (sessionStorage), refresh on 401, the generic web query
// and task polling. Pages call these; nothing else calls fetch.

export class ApiError extends Error {
  code: number;
  status: number;
  /**
   * The field the message names, if any: the service writes "Field `x`: …"
   * (or "Query `x`", or starts with "`x` …"); a backticked word elsewhere is
   * an object's name ("Desktop group `x` already exists"), not a field.
   */
  field?: string;
  constructor(message: string, code: number, status: number) {
    super(message);
    this.code = code;
    this.status = status;
    const m = /(?:\b(?:Field|Query) |^)`([A-Za-z_][\w.[\]]*)`/m.exec(message);
    if (m) this.field = m[1];
  }
}

export interface Session {
  name: string;
  access_token: string;
  refresh_token: string;
}

const KEY = 'vdi-appliance.session';
let session: Session | null = (() => {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) || 'null');
  } catch {
    return null;
  }
})();
const listeners = new Set<(s: Session | null) => void>();

export function getSession(): Session | null {
  return session;
}
export function setSession(s: Session | null) {
  session = s;
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
  else sessionStorage.removeItem(KEY);
  listeners.forEach((l) => l(s));
}
export function onSession(l: (s: Session | null) => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

interface CallOpts {
  auth?: boolean;
  retried?: boolean;
  signal?: AbortSignal;
}

let refreshing: Promise<boolean> | null = null;
async function refresh(): Promise<boolean> {
  if (!session) return false;
  if (!refreshing) {
    const s = session;
    refreshing = call<{ access_token: string; refresh_token: string }>('POST', '/api/v1/refresh', { refresh_token: s.refresh_token }, { auth: false })
      .then((t) => {
        setSession({ ...s, ...t });
        return true;
      })
      .catch(() => false)
      .finally(() => {
        refreshing = null;
      });
  }
  return refreshing;
}

/** Calls the API; resolves with `data`, rejects with an ApiError. */
export async function call<T = unknown>(method: string, path: string, body?: unknown, opts: CallOpts = {}): Promise<T> {
  const auth = opts.auth !== false;
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (auth && session) headers.Authorization = 'Bearer ' + session.access_token;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store', signal: opts.signal });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError('unreachable', -1, 0);
  }
  let env: { code?: number; msg?: string; data?: unknown } | null = null;
  try {
    env = JSON.parse(await res.text());
  } catch {
    env = null;
  }
  if (!env || typeof env !== 'object' || typeof env.code !== 'number') {
    throw new ApiError(`HTTP ${res.status}`, -1, res.status);
  }
  if (env.code !== 0) {
    if (res.status === 401 && auth && session && !opts.retried) {
      if (await refresh()) return call<T>(method, path, body, { ...opts, retried: true });
      setSession(null);
    }
    throw new ApiError(env.msg || `code ${env.code}`, env.code, res.status);
  }
  return env.data as T;
}

export const get = <T = unknown>(path: string, signal?: AbortSignal) => call<T>('GET', path, undefined, { signal });
export const post = <T = unknown>(path: string, body: unknown = {}) => call<T>('POST', path, body);

/** The generic web query's reply (`GET /api/v1.0/<resource>/`). */
export interface Page<R> {
  count: number;
  next: string | null;
  previous: string | null;
  results: R[];
}

export interface ListQuery {
  page: number;
  pageSize: number;
  /** Substring search on one field (searchtype=contain). */
  search?: { field: string; value: string };
  /** Exact filters (field=value). */
  filters?: Record<string, string | number | boolean | undefined>;
}

export function listUrl(resource: string, q: ListQuery): string {
  const p = new URLSearchParams();
  const contain = q.search && q.search.value.trim() !== '';
  p.set('searchtype', contain ? 'contain' : 'all');
  p.set('page', String(q.page));
  p.set('page_size', String(q.pageSize));
  if (contain && q.search) p.set(q.search.field, q.search.value.trim());
  for (const [k, v] of Object.entries(q.filters || {})) if (v !== undefined && v !== '') p.set(k, String(v));
  const base = resource.startsWith('/') ? resource : `/api/v1.0/${resource}/`;
  return `${base}?${p.toString()}`;
}

export function list<R>(resource: string, q: ListQuery, signal?: AbortSignal): Promise<Page<R>> {
  return get<Page<R>>(listUrl(resource, q), signal);
}

/** Every row of a listing (for pickers): pages of 100 until done. */
export async function listAll<R>(resource: string, filters?: ListQuery['filters']): Promise<R[]> {
  const rows: R[] = [];
  for (let page = 1; page < 1000; page++) {
    const p = await list<R>(resource, { page, pageSize: 100, filters });
    rows.push(...p.results);
    if (!p.next || p.results.length === 0) break;
  }
  return rows;
}

/** A task row (`GET /api/v1/task/<id>`, `GET /api/v1.0/task/`). */
export interface Task {
  uuid: string;
  kind: string;
  target: string;
  owner: string;
  state: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  percent: number;
  log: string[];
  error: string | null;
  result: unknown;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export const taskDone = (t: Task) => t.state === 'succeeded' || t.state === 'failed' || t.state === 'cancelled';

/** Follows a task until it ends; `onProgress` sees every reading. */
export async function waitTask(id: string, onProgress?: (t: Task) => void, signal?: AbortSignal): Promise<Task> {
  for (;;) {
    const t = await get<Task>(`/api/v1/task/${encodeURIComponent(id)}`, signal);
    onProgress?.(t);
    if (taskDone(t)) return t;
    await new Promise((r) => setTimeout(r, 700));
  }
}

/** The task id an `async: true` call answers (its shapes vary by route). */
export function taskIdOf(data: unknown): string | null {
  if (!data || typeof data !== 'object') return null;
  const d = data as Record<string, unknown>;
  for (const k of ['task_id', 'task', 'id']) {
    const v = d[k];
    if (typeof v === 'string' || typeof v === 'number') return String(v);
    if (v && typeof v === 'object' && 'id' in (v as object)) return String((v as { id: unknown }).id);
  }
  return null;
}
