/* Meetings — the chair's dashboard: polls the counts every few seconds and updates them in place
   (no page reload), slowing down while the connection fails. No inline script (CSP). */
(function () {
  "use strict";
  var box = document.querySelector("[data-dashboard]");
  if (!box) { return; }
  var url = box.dataset.countsUrl;
  var quorum = box.querySelector("[data-quorum]");
  var state = box.querySelector("[data-refresh-state]");
  var every = 4000;
  var delay = every;

  function show(data) {
    box.querySelectorAll("[data-field]").forEach(function (element) {
      var value = data[element.dataset.field];
      if (value !== undefined && value !== null && element.textContent !== String(value)) { element.textContent = String(value); }
    });
    var kind = data.quorum_reached === null ? "none" : (data.quorum_reached ? "reached" : "not-reached");
    quorum.className = "lp-quorum lp-quorum--" + kind;
  }

  async function tick() {
    if (!document.hidden) {
      try {
        var response = await fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } });
        if (response.status === 401 || response.status === 403) {
          state.textContent = box.dataset.msgSignedOut || "";
          return;
        }
        show(await response.json());
        state.textContent = "";
        delay = every;
      } catch (networkError) {
        state.textContent = box.dataset.msgOffline || "";
        delay = Math.min(delay * 2, 60000);
      }
    }
    window.setTimeout(tick, delay);
  }

  window.setTimeout(tick, delay);
}());
