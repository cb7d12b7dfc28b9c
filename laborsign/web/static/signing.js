/* Enterprise signing dialog: choose a seal, fill the enterprise's fields, confirm with the SMS
 * code sent to the operator. Used for one contract and for batch signing alike. */
(function () {
  "use strict";
  LS.enterpriseSign = async function (contractIds, done, fields) {
    const seals = await LS.api("GET", "/api/v1/seals");
    if (!seals.ok) { LS.showError(null, seals.data); return; }
    if (!seals.data.items.length) {
      LS.toast("请先在“印章管理”中生成或上传印章", true);
      return;
    }
    const back = LS.modal('<h3>选择印章签署（' + contractIds.length + ' 份）</h3><form id="seal-form">' +
      '<div class="row" style="flex-wrap:wrap">' + seals.data.items.map(function (s, i) {
        return '<label style="text-align:center;cursor:pointer"><img src="' + s.image + '" alt="' + LS.escape(s.type_label) +
          '" style="width:96px;height:96px;display:block"><input type="radio" name="seal_id" value="' + s.id + '"' + (i === 0 ? " checked" : "") +
          "> " + LS.escape(s.name) + "</label>";
      }).join("") + '</div><div class="field-error" data-error-for="seal_id"></div>' +
      '<p class="muted" style="font-size:13px">提交后将向经办人手机发送验证码进行意愿认证。</p>' +
      '<div class="row"><span class="spacer"></span><button type="button" data-close>取消</button><button class="primary">提交签署</button></div></form>');
    back.querySelector("form").addEventListener("submit", async function (e) {
      e.preventDefault();
      const form = e.target;
      const r = await LS.api("POST", "/api/v1/signing-sessions", {
        contract_ids: contractIds, seal_id: new FormData(form).get("seal_id"), fields: fields || {}, intent_method: "sms",
      });
      if (!r.ok) { LS.showError(form, r.data); return; }
      back.remove();
      askCode(r.data, done);
    });
  };

  LS.askIntentCode = function (session, done) { askCode(session, done); };

  function askCode(session, done) {
    const back = LS.modal('<h3>意愿认证</h3><p>验证码已发送至 ' + LS.escape(session.intent.phone_masked) + '</p>' +
      '<form novalidate><input name="code" id="intent-code" inputmode="numeric" maxlength="6" placeholder="6位验证码">' +
      '<div class="field-error" data-error-for="code"></div><div class="row" style="margin-top:12px"><span class="spacer"></span>' +
      '<button type="button" data-close>取消</button><button class="primary">确认</button></div></form>');
    const form = back.querySelector("form");
    form.addEventListener("submit", async function (e) {
      e.preventDefault();
      const button = form.querySelector("button.primary");
      button.disabled = true; button.textContent = "签署中…";
      const r = await LS.api("POST", "/api/v1/signing-sessions/" + session.id + "/confirm", { code: form.code.value.trim() });
      button.disabled = false; button.textContent = "确认";
      if (!r.ok) { LS.showError(form, r.data); return; }
      back.remove();
      done(r.data);
    });
  }
})();
