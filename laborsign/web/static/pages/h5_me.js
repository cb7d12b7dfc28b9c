import { api, logout, me } from "../js/api.js";
import { codeButton } from "../js/sms.js";
import { clearErrors, escape, formData, showError, toast } from "../js/ui.js";

async function start() {
  const person = await me();
  if (!person) return;
  const u = person.user;
  document.getElementById("profile").innerHTML = "<b>" + escape(u.name || "未设置姓名") + "</b><br>手机号：" + escape(u.phone_masked) +
    "<br>实名认证：" + (u.verified ? '<span class="badge ok">已认证</span>' : '<span class="badge warn">未认证</span>') +
    "<br>登录密码：" + (u.has_password ? "已设置" : "未设置");
  const form = document.getElementById("password-form");
  if (u.has_password) {
    document.getElementById("pw-title").textContent = "修改登录密码";
    document.getElementById("code-row").hidden = false;
    codeButton(document.getElementById("send-code"), function () { return u.phone; }, "verify", form);
  }
  form.addEventListener("submit", async function (e) {
    e.preventDefault();
    const d = formData(form);
    if (d.password !== d.password2) { showError(form, { message: "两次输入的密码不一致", fields: { password2: "两次输入的密码不一致" } }); return; }
    const body = { password: d.password };
    if (u.has_password) body.code = d.code;
    const r = await api("PUT", "/api/v1/me/password", body);
    if (!r.ok) { showError(form, r.data); return; }
    clearErrors(form);
    toast("密码已保存，下次可使用密码登录");
    setTimeout(function () { location.reload(); }, 1200);
  });
  const saved = new Image();
  saved.alt = "已保存的签名";
  saved.className = "saved-signature";
  saved.onload = function () {
    const box = document.getElementById("saved-signature-body");
    box.innerHTML = "";
    box.appendChild(saved);
    const remove = document.createElement("button");
    remove.type = "button"; remove.id = "forget-signature"; remove.textContent = "删除保存的签名";
    remove.addEventListener("click", async function () {
      const r = await api("DELETE", "/api/v1/me/signature");
      if (!r.ok) { showError(null, r.data); return; }
      box.innerHTML = '<span class="muted">已删除。已签署的合同不受影响。</span>';
      toast("已删除保存的签名");
    });
    box.appendChild(remove);
  };
  saved.src = "/api/v1/me/signature.png?t=" + Date.now();
  document.getElementById("logout").addEventListener("click", function () { logout("/h5/login"); });
}

start();
