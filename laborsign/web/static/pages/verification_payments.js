import { api } from "../js/api.js";
import { onMe } from "../js/chrome.js";
import { clearErrors, escape, formatTime, modal, showError, toast } from "../js/ui.js";

/* A platform reviewer pays the small verification amount from the platform's account and
 * records it here; the enterprise types the amount it received back and never sees it here. */
let paid = "false";

async function load() {
  const r = await api("GET", "/api/v1/console/payments?paid=" + paid + "&per_page=50");
  if (!r.ok) { showError(null, r.data); return; }
  document.getElementById("pm-empty").hidden = r.data.items.length > 0;
  document.getElementById("pm-rows").innerHTML = r.data.items.map(function (x) {
    const action = x.paid_at ? '<span class="badge ok">已打款 ' + formatTime(x.paid_at) + "</span>"
      : '<button type="button" class="primary" data-pay="' + x.id + '">登记打款</button>';
    return "<tr><td>" + escape(x.enterprise.name) + "</td><td>" + escape(x.bank_name || "") + "</td><td>" + escape(x.bank_account) +
      "</td><td>" + escape(x.account_name || "") + '</td><td class="hide-sm">' + formatTime(x.created_at) + "</td><td>" + action + "</td></tr>";
  }).join("");
  document.querySelectorAll("[data-pay]").forEach(function (b) {
    b.addEventListener("click", function () { record(b.dataset.pay); });
  });
}

function record(id) {
  const back = modal('<h3>登记对公打款</h3><form novalidate><label>实际汇出金额（元）</label><input name="amount" placeholder="例如 0.37" maxlength="6">' +
    '<div class="field-error" data-error-for="amount"></div><div class="row mt-12"><span class="spacer"></span>' +
    '<button type="button" data-close>取消</button><button class="primary">确认已打款</button></div></form>');
  const form = back.querySelector("form");
  form.addEventListener("submit", async function (e) {
    e.preventDefault();
    const r = await api("POST", "/api/v1/console/payments/" + id + "/paid", { amount: form.amount.value.trim() });
    if (!r.ok) { showError(form, r.data); return; }
    clearErrors(form);
    back.remove(); toast("已登记，已短信通知企业回填金额"); load();
  });
}

document.querySelectorAll("#pm-tabs button").forEach(function (b) {
  b.addEventListener("click", function () {
    paid = b.dataset.paid;
    document.querySelectorAll("#pm-tabs button").forEach(function (x) { x.classList.toggle("active", x === b); });
    load();
  });
});

onMe(function (person) {
  if (person.user.platform_role !== "reviewer") {
    document.querySelector("main").innerHTML = '<div class="card">仅平台审核员可以访问本页面。</div>';
    return;
  }
  load();
});
