/* Signing dialogs shared by the dashboard and the worker's H5 pages: the enterprise's seal
 * choice (one contract or a batch), the choice of intent verification (SMS code or face), the
 * SMS code dialog, and following a face check — on a phone the page goes to the provider and
 * comes back; on a PC a QR code hands the face check to the phone and this page follows it. */
import { api } from "./api.js";
import { countdown } from "./sms.js";
import { clearErrors, escape, modal, showError, toast } from "./ui.js";

export function intentChoice() {
  const face = document.body.dataset.faceIntent !== "off";  /* off: the platform has no face provider */
  return '<fieldset class="intent-choice"><legend>意愿认证方式</legend>' +
    '<label class="inline"><input type="radio" name="intent_method" value="sms" checked> 短信验证码</label> ' +
    (face ? '<label class="inline"><input type="radio" name="intent_method" value="face"> 人脸识别</label>' : "") + "</fieldset>";
}

export function chosenIntent(root) {
  const picked = root.querySelector('input[name="intent_method"]:checked');
  return picked ? picked.value : "sms";
}

export async function enterpriseSign(contractIds, done, fields) {
  const seals = await api("GET", "/api/v1/seals");
  if (!seals.ok) { showError(null, seals.data); return; }
  if (!seals.data.items.length) {
    toast("请先在“印章管理”中生成或上传印章", true);
    return;
  }
  const back = modal('<h3>选择印章签署（' + contractIds.length + ' 份）</h3><form id="seal-form">' +
    '<div class="row">' + seals.data.items.map(function (s, i) {
      return '<label class="seal-choice"><img src="' + s.image + '" alt="' + escape(s.type_label) +
        '"><input type="radio" name="seal_id" value="' + s.id + '"' + (i === 0 ? " checked" : "") +
        "> " + escape(s.name) + "</label>";
    }).join("") + '</div><div class="field-error" data-error-for="seal_id"></div>' + intentChoice() +
    '<div class="field-error" data-error-for="intent_method"></div>' +
    '<p class="muted text-13">提交后由经办人本人完成意愿认证：短信验证码发送至经办人手机，人脸识别用手机扫码完成。</p>' +
    '<div class="row"><span class="spacer"></span><button type="button" data-close>取消</button><button class="primary">提交签署</button></div></form>');
  back.querySelector("form").addEventListener("submit", async function (e) {
    e.preventDefault();
    const form = e.target;
    const r = await api("POST", "/api/v1/signing-sessions", {
      contract_ids: contractIds, seal_id: new FormData(form).get("seal_id"), fields: fields || {}, intent_method: chosenIntent(form),
    });
    if (!r.ok) { showError(form, r.data); return; }
    clearErrors(form);
    back.remove();
    followIntent(r.data, done);
  });
}

/* After a session was opened: the SMS code dialog, or the face check. `done(result)` gets
 * {signed: [...], failed: [...]} once the signatures are applied. */
export function followIntent(session, done) {
  if (session.intent.method === "face") face(session, done);
  else askCode(session, done);
}

function askCode(session, done) {
  const back = modal('<h3>意愿认证</h3><p>验证码已发送至 ' + escape(session.intent.phone_masked) + '，请输入以确认签署。</p>' +
    '<form novalidate><div class="input-with-button"><input name="code" id="intent-code" inputmode="numeric" maxlength="6" placeholder="6位验证码" autocomplete="one-time-code">' +
    '<button type="button" id="intent-resend">重新获取</button></div>' +
    '<div class="field-error" data-error-for="code"></div><div class="row mt-12"><span class="spacer"></span>' +
    '<button type="button" data-close>取消</button><button class="primary">确认签署</button></div></form>');
  const form = back.querySelector("form");
  const resend = back.querySelector("#intent-resend");
  countdown(resend, 60);
  resend.addEventListener("click", async function () {
    resend.disabled = true;
    const r = await api("POST", "/api/v1/signing-sessions/" + session.id + "/code");
    if (r.ok) { clearErrors(form); toast("验证码已重新发送，5分钟内有效"); countdown(resend, r.data.resend_after || 60); return; }
    showError(form, r.data);
    if (r.status === 429) countdown(resend, (r.data && r.data.retry_after) || 60); else resend.disabled = false;
  });
  form.addEventListener("submit", async function (e) {
    e.preventDefault();
    const button = form.querySelector("button.primary");
    button.disabled = true; button.textContent = "签署中…";
    const r = await api("POST", "/api/v1/signing-sessions/" + session.id + "/confirm", { code: form.code.value.trim() });
    button.disabled = false; button.textContent = "确认签署";
    if (!r.ok) { showError(form, r.data); return; }
    clearErrors(form);
    back.remove();
    done(r.data);
  });
}

function onPhone() {
  return ("ontouchstart" in window) || window.matchMedia("(max-width: 899px)").matches;
}

function face(session, done) {
  if (onPhone()) {  // the provider sends the signer back to /h5/intent/{id}
    location.href = session.intent.redirect_url;
    return;
  }
  const back = modal('<h3>人脸识别</h3><div class="center">' +
    '<p>请用手机微信或钉钉扫描二维码，由签署人本人完成人脸识别。</p>' +
    '<img id="face-qr" class="qr-180" alt="人脸识别二维码" src="' + session.intent.qr_png + '">' +
    '<p><a href="' + escape(session.intent.redirect_url) + '" target="_blank" rel="noopener">在本机打开</a></p>' +
    '<p id="face-state" class="muted" role="status">等待人脸识别结果…</p></div>' +
    '<div class="row"><span class="spacer"></span><button type="button" data-close>关闭</button></div>');
  const state = back.querySelector("#face-state");
  const timer = setInterval(async function () {
    if (!document.body.contains(back)) { clearInterval(timer); return; }
    const r = await api("GET", "/api/v1/signing-sessions/" + session.id);
    if (!r.ok) return;
    const s = r.data;
    if (s.status === "done") {
      clearInterval(timer); back.remove(); done(s.result);
    } else if (s.intent.status === "failed") {
      clearInterval(timer);
      state.className = "field-error";
      state.textContent = (s.intent.reason || "人脸识别未通过") + "，合同未签署，请重新提交。";
    } else if (s.status === "expired") {
      clearInterval(timer);
      state.className = "field-error";
      state.textContent = "签署已超时，合同未签署，请重新提交。";
    } else if (s.intent.status === "passed") {
      state.textContent = "人脸识别已通过，正在签署…";
    }
  }, 1500);
}
