import { next } from "../js/api.js";
import { loginForm } from "../js/login.js";

loginForm(document.getElementById("login-form"), "employer", function (data, d) {
  if (!data.enterprises.length) { location.href = "/register?phone=" + encodeURIComponent(d.phone); return; }
  location.href = data.enterprise_id ? next("/dashboard") : "/choose";
});
