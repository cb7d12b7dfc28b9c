import { me } from "../js/api.js";
import { showBadges } from "../js/badges.js";
import { escape } from "../js/ui.js";

async function start() {
  const person = await me();
  if (!person) return;
  const u = person.user;
  document.getElementById("hello").innerHTML = "<b>" + escape(u.name || u.phone_masked) + "</b>，您好<br><span class=\"muted\">" +
    (u.verified ? "已实名认证" : "尚未实名认证") + "</span>";
  showBadges();
}

start();
