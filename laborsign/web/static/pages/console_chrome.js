import { consoleChrome } from "../js/chrome.js";

consoleChrome();
