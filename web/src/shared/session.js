// Who is signed in, shared by every page of an app: loaded from GET /api/v1/me once, updated by
// login, registration, verification and logout.
import { reactive } from 'vue';
import { get, post, setCsrfToken, ApiError } from './api.js';

export const session = reactive({ user: null, loaded: false });

function accept(answer) {
  session.user = answer.user;
  setCsrfToken(answer.csrf_token);
  session.loaded = true;
  return answer.user;
}

export async function loadSession() {
  try {
    return accept(await get('/api/v1/me'));
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) throw error;
    session.user = null;
    session.loaded = true;
    return null;
  }
}

export const login = async (phone, password) =>
  accept(await post('/api/v1/auth/login', { phone, password }));
export const register = async (phone, password) =>
  accept(await post('/api/v1/auth/register', { phone, password }));
export const changePassword = async (current, next) =>
  accept(await post('/api/v1/me/password', { current_password: current, new_password: next }));

export async function logout() {
  try {
    await post('/api/v1/auth/logout');
  } finally {
    session.user = null;
    setCsrfToken('');
  }
}

export function hasRole(role) {
  return Boolean(session.user?.roles?.includes(role));
}
