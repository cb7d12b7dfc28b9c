import { showBadges } from "../js/badges.js";
import { onMe } from "../js/chrome.js";
import { ENTERPRISE_STATUS } from "../js/labels.js";

onMe(function (me) {
  document.getElementById("greeting").textContent = me.enterprise.name;
  const status = me.enterprise.verification_status;
  const banner = document.getElementById("verify-banner");
  const verifyEntry = document.querySelector('[data-entry="企业实名认证"]');
  if (status !== "verified" && verifyEntry) {
    banner.innerHTML = "企业尚未完成实名认证（" + (ENTERPRISE_STATUS[status] || status) +
      "），认证后才能发起和签署合同。<a href=\"" + verifyEntry.getAttribute("href") + "\">立即认证</a>";
    banner.hidden = false;
  }
  showBadges();
});
