/* The haematology summary's "Print or save as PDF": open the browser's print dialog, whose
   "Save as PDF" makes the PDF (no PDF library on the server). */
(function () {
  "use strict";
  window.addEventListener("load", function () {
    window.print();
  });
})();
