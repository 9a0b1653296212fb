/* Symptom checklist: show the emergency advice the moment an emergency symptom is ticked,
   before the form is sent. The result page after sending says the same from the server. */
(function () {
  "use strict";
  var box = document.getElementById("emergency-now");
  if (!box) {
    return;
  }
  var boxes = document.querySelectorAll('input[type="checkbox"][data-triage="emergency"]');

  function update() {
    var any = Array.prototype.some.call(boxes, function (input) {
      return input.checked;
    });
    box.hidden = !any;
  }

  Array.prototype.forEach.call(boxes, function (input) {
    input.addEventListener("change", update);
  });
  update();
})();
