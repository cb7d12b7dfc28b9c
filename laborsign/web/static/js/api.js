/* The JSON API as the pages call it: the session cookie plus the CSRF token the login answer
 * or /api/v1/me hands out (kept for the tab in sessionStorage). A 401 sends the person to the
 * login page; a CSRF token gone stale (a new login elsewhere) is fetched again, once. */
import { toast } from "./ui.js";

let csrf = sessionStorage.getItem("ls_csrf") || null;

function setCsrf(token) {
  if (token) { csrf = token; sessionStorage.setItem("ls_csrf", token); }
}

export function forgetCsrf() {
  sessionStorage.removeItem("ls_csrf");
}

export async function api(method, path, body, opts) {
  opts = opts || {};
  const headers = { "Accept": "application/json" };
  let payload = body;
  if (body !== undefined && body !== null && !(body instanceof FormData)) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  if (method !== "GET" && csrf) headers["X-CSRF-Token"] = csrf;
  let resp;
  try {
    resp = await fetch(path, { method: method, headers: headers, body: payload, credentials: "same-origin" });
  } catch (e) {
    toast("网络连接失败，请检查网络后重试", true);
    throw e;
  }
  let data = null;
  const type = resp.headers.get("Content-Type") || "";
  if (type.indexOf("application/json") >= 0) data = await resp.json();
  if (data && data.csrf) setCsrf(data.csrf);
  if (resp.status === 401 && !opts.allow401) { toLogin(); }
  if (resp.status === 403 && data && data.error === "csrf_failed" && !opts.retried) {
    const again = await api("GET", "/api/v1/me", null, { allow401: true });
    if (again.ok) return api(method, path, body, Object.assign({}, opts, { retried: true }));
  }
  return { ok: resp.ok, status: resp.status, data: data };
}

function loginPath() {
  return document.body.classList.contains("h5") ? "/h5/login" : "/login";
}

export function toLogin() {
  const here = location.pathname + location.search;
  location.href = loginPath() + "?next=" + encodeURIComponent(here);
}

/* The page to go on to after a login: `?next=` when it is a path on this site. */
export function next(fallback) {
  const n = new URLSearchParams(location.search).get("next");
  return n && n.charAt(0) === "/" && n.charAt(1) !== "/" ? n : fallback;
}

export async function me() {
  const r = await api("GET", "/api/v1/me");
  return r.ok ? r.data : null;
}

export async function logout(to) {
  await api("POST", "/api/v1/auth/logout", null, { allow401: true });
  forgetCsrf();
  location.href = to;
}
