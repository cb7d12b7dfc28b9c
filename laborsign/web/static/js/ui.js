/* Page helpers that need no server: toasts, form errors, form values, escaping, dialogs. */

let toastTimer = null;

export function toast(text, bad) {
  const el = document.getElementById("toast");
  if (!el) { alert(text); return; }
  el.textContent = text;
  el.className = "toast" + (bad ? " bad" : "");
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(function () { el.hidden = true; }, 3200);
}

/* Shows an API error: per-field messages next to inputs named like the fields. */
export function showError(form, data) {
  if (form) {
    form.querySelectorAll(".invalid").forEach(function (el) { el.classList.remove("invalid"); });
    form.querySelectorAll(".field-error").forEach(function (el) { el.textContent = ""; });
  }
  if (!data) { toast("操作失败，请稍后重试", true); return; }
  const fields = data.fields || {};
  let shown = false;
  Object.keys(fields).forEach(function (name) {
    if (!form) return;
    const input = form.querySelector('[name="' + name + '"]');
    const slot = form.querySelector('[data-error-for="' + name + '"]');
    if (input) input.classList.add("invalid");
    if (slot) { slot.textContent = fields[name]; shown = true; }
  });
  let message = data.message || "操作失败";
  if (data.retry_after) message += "（" + data.retry_after + " 秒后可重试）";
  if (!shown || !Object.keys(fields).length) toast(message, true);
}

export function formData(form) {
  const out = {};
  new FormData(form).forEach(function (value, key) { out[key] = typeof value === "string" ? value.trim() : value; });
  form.querySelectorAll("input[type=checkbox][name]").forEach(function (el) { out[el.name] = el.checked; });
  return out;
}

export function escape(text) {
  return String(text === null || text === undefined ? "" : text).replace(/[&<>"']/g, function (c) {
    return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
  });
}

/* A time as a person reads it: Beijing time (Asia/Shanghai, UTC+8, no daylight saving),
   "2026-12-02 03:56", whatever offset the API wrote it with. The server's twin is
   laborsign.core.clock.china_text. A bare date ("2026-12-02") is shown as it is. */
export function formatTime(iso) {
  if (!iso) return "";
  if (!/T/.test(iso)) return iso;
  const when = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : iso + "Z");
  if (isNaN(when.getTime())) return iso.replace("T", " ").slice(0, 16);
  const b = new Date(when.getTime() + 8 * 3600 * 1000);
  const two = function (n) { return String(n).padStart(2, "0"); };
  return b.getUTCFullYear() + "-" + two(b.getUTCMonth() + 1) + "-" + two(b.getUTCDate()) + " " + two(b.getUTCHours()) + ":" + two(b.getUTCMinutes());
}

export function modal(html) {
  const back = document.createElement("div");
  back.className = "modal-backdrop";
  back.innerHTML = '<div class="modal" role="dialog">' + html + "</div>";
  document.body.appendChild(back);
  back.addEventListener("click", function (e) { if (e.target === back) back.remove(); });
  back.querySelectorAll("[data-close]").forEach(function (b) { b.addEventListener("click", function () { back.remove(); }); });
  return back;
}

/* What the server put on <main data-…> for this page's script (ids, tokens, flags). */
export function pageData() {
  return document.querySelector("main").dataset;
}

/* The values of a filled-in form's named inputs that are not blank, trimmed. */
export function filledValues(root) {
  const values = {};
  root.querySelectorAll("[name]").forEach(function (el) { if (el.value.trim()) values[el.name] = el.value.trim(); });
  return values;
}
