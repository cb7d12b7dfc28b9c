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

/* Errors are shown one way: at the field (red border, the message below it, a slot
   [data-error-for=name]) and, for a form, a summary at its top (.form-errors) listing them all;
   a toast only where there is no form. Typing into a field clears its error, and the summary
   once none is left; clearErrors(form) after a success leaves nothing stale behind. */
export function clearErrors(form) {
  if (!form) return;
  form.querySelectorAll(".invalid").forEach(function (el) { el.classList.remove("invalid"); });
  form.querySelectorAll(".field-error").forEach(function (el) { el.textContent = ""; });
  form.querySelectorAll(".form-errors").forEach(function (el) { el.remove(); });
}

function summarize(form, lines) {
  const box = document.createElement("div");
  box.className = "form-errors"; box.setAttribute("role", "alert");
  box.innerHTML = lines.length > 1
    ? "请修改以下内容：<ul>" + lines.map(function (l) { return "<li>" + escape(l) + "</li>"; }).join("") + "</ul>"
    : escape(lines[0]);
  form.insertBefore(box, form.firstChild);
  if (box.scrollIntoView) box.scrollIntoView({ block: "nearest" });
}

export function showError(form, data) {
  clearErrors(form);
  if (!data) { if (form) summarize(form, ["操作失败，请稍后重试"]); else toast("操作失败，请稍后重试", true); return; }
  const fields = data.fields || {};
  let message = data.message || "操作失败";
  if (data.retry_after) message += "（" + data.retry_after + " 秒后可重试）";
  if (!form) { toast(message, true); return; }
  const lines = [];
  Object.keys(fields).forEach(function (name) {
    const input = form.querySelector('[name="' + name + '"]');
    const slot = form.querySelector('[data-error-for="' + name + '"]');
    if (input) input.classList.add("invalid");
    if (slot) slot.textContent = fields[name];
    if (lines.indexOf(fields[name]) < 0) lines.push(fields[name]);
  });
  summarize(form, lines.length ? lines : [message]);
}

function clearField(e) {
  const el = e.target;
  const form = el && el.closest ? el.closest("form") : null;
  if (!form || !el.name) return;
  el.classList.remove("invalid");
  const slot = form.querySelector('[data-error-for="' + el.name + '"]');
  if (slot) slot.textContent = "";
  if (!form.querySelector(".invalid")) form.querySelectorAll(".form-errors").forEach(function (b) { b.remove(); });
}
document.addEventListener("input", clearField);
document.addEventListener("change", clearField);

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
