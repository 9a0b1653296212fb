/* Worklist and patient page: keep the 30-second refresh from wiping out a half-filled action,
   and move keyboard focus to the outcome of an action once its row has been swapped in. */
(function () {
  "use strict";

  function busy(list) {
    if (list.querySelector("details[open]")) {
      return true;
    }
    var active = document.activeElement;
    return Boolean(active && list.contains(active) && active.matches("input, select, textarea, button"));
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.id === "worklist" && busy(elt)) {
      event.preventDefault(); // skip this refresh; the next one comes 30 s later
    }
  });

  document.addEventListener("htmx:load", function (event) {
    var elt = event.detail.elt;
    var message = elt && elt.querySelector ? elt.querySelector(".row-msg") : null;
    if (message) {
      message.focus({ preventScroll: true });
    }
  });
})();
