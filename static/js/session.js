/* "Stay signed in": two minutes before the session ends, say when and offer to stay (WCAG 2.2.1).
   The server owns the clocks (ivigtrack/accounts/sessions.py); this asks it, as a background
   poll that extends nothing, before warning, because another tab may have been active. */
(function () {
  "use strict";
  var box = document.getElementById("session-warning");
  if (!box) {
    return;
  }
  var warnMs = Number(box.dataset.warnSeconds) * 1000;
  var statusUrl = box.dataset.statusUrl;
  var timer = null;

  function csrf() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function hhmm(date) {
    return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function schedule(expiresAt, extendable) {
    window.clearTimeout(timer);
    var ends = new Date(expiresAt);
    var untilWarn = ends.getTime() - warnMs - Date.now();
    if (untilWarn > 0) {
      box.hidden = true;
      timer = window.setTimeout(check, untilWarn);
      return;
    }
    if (ends.getTime() <= Date.now()) {
      window.location.assign(box.dataset.loginUrl);
      return;
    }
    box.querySelector(".session-warning-time").textContent = hhmm(ends);
    box.querySelector(".session-stay").hidden = !extendable;
    box.hidden = false;
    if (extendable) {
      box.querySelector(".session-stay").focus();
    }
    timer = window.setTimeout(check, Math.min(ends.getTime() - Date.now() + 1000, 30000));
  }

  function ask(method) {
    var headers = { Accept: "application/json" };
    if (method === "GET") {
      headers["X-Background-Poll"] = "1";
    } else {
      headers["X-CSRFToken"] = csrf();
    }
    return fetch(statusUrl, { method: method, headers: headers, credentials: "same-origin", redirect: "manual" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("signed out");
        }
        return response.json();
      })
      .then(function (info) {
        if (!info.expires_at) {
          throw new Error("signed out");
        }
        schedule(info.expires_at, info.extendable);
      })
      .catch(function () {
        window.location.assign(box.dataset.loginUrl);
      });
  }

  function check() {
    ask("GET");
  }

  box.querySelector(".session-stay").addEventListener("click", function () {
    ask("POST");
  });
  schedule(box.dataset.expiresAt, box.dataset.extendable === "1");
})();
