/* Worklist and patient page: keep the 30-second refresh from wiping out a half-done action, open
   the snooze and resolve forms in the page's one dialog and close it once the row is updated,
   and move keyboard focus to the outcome of an action once its row has been swapped in. */
(function () {
  "use strict";

  function dialog() {
    return document.getElementById("flag-dialog");
  }

  // The refresh waits while someone is in the middle of something: a dialog open, boxes ticked
  // for "Acknowledge selected" (a swap would untick them), or typing in any field of the page.
  function busy(list) {
    var open = dialog();
    if (open && open.open) {
      return true;
    }
    if (list.querySelector("input[name=ids]:checked")) {
      return true;
    }
    var active = document.activeElement;
    return Boolean(active && active.matches("input:not([type=checkbox]):not([type=hidden]), select, textarea"));
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.id === "worklist" && busy(elt)) {
      event.preventDefault(); // skip this refresh; the next one comes 30 s later
    }
  });

  // A snooze or resolve form has arrived in the dialog: show it, first field focused.
  document.addEventListener("htmx:afterSwap", function (event) {
    var box = dialog();
    if (!box || event.detail.target.id !== "flag-dialog-body") {
      return;
    }
    if (!box.open) {
      box.showModal();
    }
    var first = box.querySelector("select, input:not([type=hidden]), textarea");
    if (first) {
      first.focus();
    }
  });

  // The dialog's form answered with the updated row: close the dialog before the row goes in,
  // so that focus can move to the row's message.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var box = dialog();
    var from = event.detail.requestConfig ? event.detail.requestConfig.elt : null;
    if (box && box.open && from && box.contains(from) && event.detail.target.id !== "flag-dialog-body") {
      box.close();
    }
  });

  document.addEventListener("click", function (event) {
    var closer = event.target.closest("[data-dialog-close]");
    var box = closer ? closer.closest("dialog") : null;
    if (box) {
      event.preventDefault(); // without a dialog (no JavaScript) the link goes back instead
      box.close();
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
