/* SMS codes for login, registration and identity checks. `requestCode` is the one place a page
 * asks for a code, so whatever must come before the request (a captcha) belongs in there. */
import { api } from "./api.js";
import { modal, showError, toast } from "./ui.js";

/* Sends a code, through the image captcha when the API asks for one (428, after many codes
 * from one network; 422 captcha_wrong when the answer was wrong). */
export async function requestCode(phone, purpose) {
  const body = { phone: phone, purpose: purpose };
  let r = await api("POST", "/api/v1/sms/codes", body);
  while (r.status === 428 || (r.status === 422 && r.data && r.data.error === "captcha_wrong")) {
    const solved = await captcha(r.status === 422);
    if (!solved) break;
    r = await api("POST", "/api/v1/sms/codes", Object.assign({}, body, solved));
  }
  return r;
}

/* Resolves with {captcha_id, captcha_answer}, or null when the person closes the dialog. */
function captcha(again) {
  return new Promise(function (resolve) {
    const back = modal('<h3>请输入图形验证码</h3><form id="captcha-form" novalidate>' +
      '<p class="muted">' + (again ? "图形验证码错误或已失效，请重新输入。" : "当前网络获取短信验证码较频繁，请先输入图中的字符。") + "</p>" +
      '<p><img id="captcha-image" alt="图形验证码" width="160" height="60"> <button type="button" id="captcha-new">换一张</button></p>' +
      '<input id="captcha-answer" name="captcha_answer" maxlength="8" autocomplete="off" placeholder="图中字符">' +
      '<div class="row"><span class="spacer"></span><button type="button" data-close>取消</button><button class="primary">确定</button></div></form>');
    let id = null;
    async function load() {
      const r = await api("GET", "/api/v1/captcha");
      if (!r.ok) { showError(null, r.data); return; }
      id = r.data.id;
      back.querySelector("#captcha-image").src = r.data.image;
    }
    back.querySelector("#captcha-new").addEventListener("click", load);
    back.querySelectorAll("[data-close]").forEach(function (b) { b.addEventListener("click", function () { resolve(null); }); });
    back.addEventListener("click", function (e) { if (e.target === back) resolve(null); });
    back.querySelector("form").addEventListener("submit", function (e) {
      e.preventDefault();
      back.remove();
      resolve({ captcha_id: id, captcha_answer: back.querySelector("#captcha-answer").value.trim() });
    });
    load();
    back.querySelector("#captcha-answer").focus();
  });
}

/* Wires a "获取验证码" button: sends the code and counts down before a resend. `phoneInput` is
 * an input or a function giving the phone number. */
export function codeButton(button, phoneInput, purpose, form) {
  button.addEventListener("click", async function () {
    const phone = (typeof phoneInput === "function" ? phoneInput() : phoneInput.value).trim();
    button.disabled = true;
    const r = await requestCode(phone, purpose);
    let wait = 60;
    if (r.ok) {
      wait = r.data.resend_after || 60;
      toast("验证码已发送，5分钟内有效");
    } else {
      showError(form || null, r.data);
      if (r.status !== 429) { button.disabled = false; return; }
      wait = (r.data && r.data.retry_after) || 60;
    }
    countdown(button, wait);
  });
}

/* Keeps the button disabled, counting "N秒后重发", until a resend is allowed. */
export function countdown(button, wait) {
  button.disabled = true;
  const label = button.dataset.label || button.textContent;
  button.dataset.label = label;
  const timer = setInterval(function () {
    wait -= 1;
    button.textContent = wait + "秒后重发";
    if (wait <= 0) { clearInterval(timer); button.textContent = label; button.disabled = false; }
  }, 1000);
  button.textContent = wait + "秒后重发";
}
