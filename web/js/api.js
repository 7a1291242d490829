// The JSON API: one fetch wrapper that sends the token and turns error
// bodies ({"error": {code, message, field, details}}) into ApiError.

const KEY = 'scicast.token';

export function getToken() {
  return sessionStorage.getItem(KEY);
}
export function setToken(t) {
  if (t) sessionStorage.setItem(KEY, t);
  else sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(status, err) {
    super(err?.message || `HTTP ${status}`);
    this.status = status;
    this.code = err?.code || 'http';
    this.field = err?.field || null;
    this.details = err?.details ?? null;
  }
}

let unauthorized = () => {};
export function onUnauthorized(fn) {
  unauthorized = fn;
}

export async function api(method, path, body, { signal, token, headers: extra } = {}) {
  const headers = { Accept: 'application/json', ...extra };
  const tk = token ?? getToken();
  if (tk) headers.Authorization = `Bearer ${tk}`;
  const init = { method, headers, signal, cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(`/api/v1${path}`, init);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, { code: 'network', message: e.message });
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data?.error ?? { code: 'http', message: text || res.statusText });
    if (res.status === 401 && !token) unauthorized(err);
    throw err;
  }
  return data;
}

export const get = (path, opts) => api('GET', path, undefined, opts);
export const post = (path, body, opts) => api('POST', path, body ?? {}, opts);
export const put = (path, body, opts) => api('PUT', path, body, opts);
export const patch = (path, body, opts) => api('PATCH', path, body, opts);
export const del = (path, opts) => api('DELETE', path, undefined, opts);

// Query string from an object, skipping empty values.
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, v);
  const s = u.toString();
  return s ? `?${s}` : '';
}

const RANK = { public: 0, viewer: 1, operator: 2, admin: 3 };
export function roleAtLeast(role, need) {
  return (RANK[role] ?? 0) >= RANK[need];
}

// A file the API sends (a CSV report): fetched with the token, since a
// plain link cannot send the Authorization header. Resolves with the blob
// and the file name the server suggests (Content-Disposition), if any.
export async function getFile(path, { signal } = {}) {
  const headers = {};
  const tk = getToken();
  if (tk) headers.Authorization = `Bearer ${tk}`;
  let res;
  try {
    res = await fetch(`/api/v1${path}`, { headers, signal, cache: 'no-store' });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, { code: 'network', message: e.message });
  }
  if (!res.ok) {
    let data = null;
    try { data = await res.json(); } catch { /* not JSON */ }
    const err = new ApiError(res.status, data?.error ?? { code: 'http', message: res.statusText });
    if (res.status === 401) unauthorized(err);
    throw err;
  }
  const cd = res.headers.get('Content-Disposition') || '';
  const m = /filename="?([^";]+)"?/i.exec(cd);
  return { blob: await res.blob(), filename: m ? m[1] : null };
}
