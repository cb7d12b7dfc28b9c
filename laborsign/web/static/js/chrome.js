/* The header of the employer dashboard and of the platform console: who is logged in, for
 * which enterprise, the menu, 退出. Page scripts wait for the person with `onMe`. */
import { api, logout, me } from "./api.js";

let current = null;

function loaded(person) {
  current = person;
  document.dispatchEvent(new CustomEvent("ls:me", { detail: person }));
}

/* Runs fn(me) once the header has loaded the person logged in. */
export function onMe(fn) {
  if (current) fn(current);
  else document.addEventListener("ls:me", function (e) { fn(e.detail); }, { once: true });
}

/* The header's 通知 link with the unread count, for members who get notices; `unread` given
 * (a page that just marked some read) saves asking again. */
export async function showUnread(unread) {
  if (unread === undefined) {
    const r = await api("GET", "/api/v1/notices?per_page=1");
    if (!r.ok) return;
    unread = r.data.unread;
  }
  document.getElementById("notices-link").hidden = false;
  const badge = document.getElementById("notices-unread");
  badge.textContent = unread > 99 ? "99+" : String(unread);
  badge.hidden = unread === 0;
}

function getsNotices(person) {
  const m = person.member;
  return !!m && (m.role === "admin" || m.permissions.indexOf("contracts") >= 0);
}

/* Employer pages: the enterprise's name, the menu of the registered home entries. */
export async function dashboardChrome() {
  const person = await me();
  if (!person) return;
  if (!person.enterprise) { location.href = person.enterprises.length ? "/choose" : "/register"; return; }
  const ent = document.getElementById("who-enterprise");
  ent.textContent = person.enterprise.name;
  ent.title = person.enterprise.name;
  document.getElementById("who-name").textContent = (person.user && (person.user.name || person.user.phone_masked)) || "";
  if (person.enterprises.length > 1) document.getElementById("switch-enterprise").hidden = false;
  document.getElementById("logout").addEventListener("click", function () { logout("/login"); });
  const nav = document.getElementById("topnav");
  JSON.parse(nav.dataset.nav || "[]").forEach(function (item) {
    const a = document.createElement("a");
    a.href = item.href; a.textContent = item.title;
    nav.appendChild(a);
  });
  const toggle = document.getElementById("nav-toggle");
  toggle.addEventListener("click", function () {
    toggle.setAttribute("aria-expanded", String(nav.classList.toggle("open")));
  });
  if (getsNotices(person)) showUnread();
  loaded(person);
}

/* Platform staff (regulator, reviewer): each sees the menu entries of their role. */
export async function consoleChrome() {
  const r = await api("GET", "/api/v1/me", null, { allow401: true });
  if (!r.ok || r.data.side !== "platform") { location.href = "/console/login?next=" + encodeURIComponent(location.pathname); return; }
  const person = r.data;
  document.querySelectorAll("[data-role]").forEach(function (a) { a.hidden = a.dataset.role !== person.user.platform_role; });
  document.getElementById("who-name").textContent = person.user.name || person.user.phone_masked;
  document.getElementById("logout").addEventListener("click", function () { logout("/console/login"); });
  loaded(person);
}
