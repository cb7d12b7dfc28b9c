import { api } from "../js/api.js";
import { codeButton } from "../js/sms.js";
import { clearErrors, escape, formData, modal, showError } from "../js/ui.js";

const form = document.getElementById("register-form");
const phone = new URLSearchParams(location.search).get("phone");
if (phone) form.admin_phone.value = phone;
codeButton(document.getElementById("send-code"), form.admin_phone, "register", form);
form.addEventListener("submit", async function (e) {
  e.preventDefault();
  const r = await api("POST", "/api/v1/enterprises", formData(form), { allow401: true });
  if (!r.ok) { showError(form, r.data); return; }
  clearErrors(form);
  const back = modal("<h3>创建成功</h3><p>" + escape(r.data.enterprise.name) +
    ' 已创建，您是该企业的管理员。</p><button class="primary block" id="go">立即登录</button>');
  back.querySelector("#go").addEventListener("click", function () { location.href = "/dashboard"; });
});
