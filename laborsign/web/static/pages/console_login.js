import { api, next } from "../js/api.js";
import { codeButton } from "../js/sms.js";
import { clearErrors, formData, showError } from "../js/ui.js";

const form = document.getElementById("login-form");
codeButton(document.getElementById("send-code"), document.getElementById("phone"), "login", form);
form.addEventListener("submit", async function (e) {
  e.preventDefault();
  const d = formData(form);
  const body = { side: "platform", phone: d.phone, agree_terms: d.agree_terms };
  if (d.code) body.code = d.code; else body.password = d.password;
  const r = await api("POST", "/api/v1/auth/login", body, { allow401: true });
  if (!r.ok) { showError(form, r.data); return; }
  clearErrors(form);
  const home = r.data.user.platform_role === "reviewer" ? "/console/verifications" : "/console/templates";
  location.href = next(home);
});
