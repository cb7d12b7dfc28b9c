import { dashboardChrome } from "../js/chrome.js";

dashboardChrome();
