/* Brings web/templates/login_form.html to life: the code / password tabs (the submit button's
 * label follows them), the code button and the login call; `done(data, values)` takes over
 * once logged in. */
import { api } from "./api.js";
import { codeButton } from "./sms.js";
import { clearErrors, formData, showError } from "./ui.js";

export function loginForm(form, side, done) {
  const submit = form.querySelector("button[type=submit]");
  let mode = "code";
  document.querySelectorAll("[data-tab]").forEach(function (tab) {
    tab.addEventListener("click", function () {
      mode = tab.dataset.tab;
      document.querySelectorAll("[data-tab]").forEach(function (t) { t.classList.toggle("active", t === tab); });
      document.querySelectorAll("[data-pane]").forEach(function (p) { p.hidden = p.dataset.pane !== mode; });
      submit.textContent = mode === "code" ? submit.dataset.labelCode : submit.dataset.labelPassword;
    });
  });
  codeButton(form.querySelector("#send-code"), form.querySelector("#phone"), "login", form);
  form.addEventListener("submit", async function (e) {
    e.preventDefault();
    const d = formData(form);
    const body = { side: side, phone: d.phone, agree_terms: d.agree_terms };
    if (mode === "code") body.code = d.code; else body.password = d.password;
    const r = await api("POST", "/api/v1/auth/login", body, { allow401: true });
    if (!r.ok) { showError(form, r.data); return; }
    clearErrors(form);
    done(r.data, d);
  });
}
