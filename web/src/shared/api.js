// The node's JSON API as the pages use it: same-origin fetches carrying the session cookie, the
// CSRF token on every request that changes something, and errors as ApiError values carrying
// the API's stable code (docs/API.md), which the pages turn into a message in the user's
// language (errorText in i18n.js).

export class ApiError extends Error {
  constructor(status, code, message, requestId) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

let csrfToken = '';

export function setCsrfToken(token) {
  csrfToken = token || '';
}

export const currentCsrfToken = () => csrfToken;

export async function request(method, path, { body, headers = {}, raw = false } = {}) {
  const init = { method, credentials: 'same-origin', headers: { ...headers } };
  if (body !== undefined) {
    if (body instanceof Blob || body instanceof ArrayBuffer) {
      init.body = body;
    } else {
      init.body = JSON.stringify(body);
      init.headers['Content-Type'] = 'application/json';
    }
  }
  if (method !== 'GET' && csrfToken) init.headers['X-CSRF-Token'] = csrfToken;
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new ApiError(0, 'network', error.message);
  }
  if (raw && response.ok) return response;
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    if (response.ok) return text;
  }
  if (!response.ok) {
    const code = data?.code || `http-${response.status}`;
    throw new ApiError(response.status, code, data?.message || text, data?.request_id);
  }
  return data;
}

export const get = (path, options) => request('GET', path, options);
export const post = (path, body, options) => request('POST', path, { ...options, body });
export const put = (path, body, options) => request('PUT', path, { ...options, body });
export const del = (path, options) => request('DELETE', path, options);

// A fresh idempotency key for one purchase attempt: retrying the same attempt reuses it.
export function idempotencyKey() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// A server-sent-event stream: `handlers` maps event names to functions of the parsed data. The
// browser reconnects by itself; close() ends it. Returns the close function.
export function subscribe(path, handlers, onError) {
  const source = new EventSource(path, { withCredentials: true });
  for (const [name, handler] of Object.entries(handlers)) {
    source.addEventListener(name, (event) => {
      try {
        handler(JSON.parse(event.data));
      } catch {
        // A malformed event is skipped; the next one carries the whole state again.
      }
    });
  }
  if (onError) source.onerror = onError;
  return () => source.close();
}
