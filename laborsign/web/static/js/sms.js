/* SMS codes for login, registration and identity checks. `requestCode` is the one place a page
 * asks for a code, so whatever must come before the request (a captcha) belongs in there. */
import { api } from "./api.js";
import { showError, toast } from "./ui.js";

export function requestCode(phone, purpose) {
  return api("POST", "/api/v1/sms/codes", { phone: phone, purpose: purpose });
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

function countdown(button, wait) {
  const label = button.dataset.label || button.textContent;
  button.dataset.label = label;
  const timer = setInterval(function () {
    wait -= 1;
    button.textContent = wait + "秒后重发";
    if (wait <= 0) { clearInterval(timer); button.textContent = label; button.disabled = false; }
  }, 1000);
  button.textContent = wait + "秒后重发";
}
