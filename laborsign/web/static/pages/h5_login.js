import { next } from "../js/api.js";
import { loginForm } from "../js/login.js";

loginForm(document.getElementById("login-form"), "worker", function () { location.href = next("/h5"); });
