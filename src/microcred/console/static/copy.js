// Copy buttons for values shown once (API keys, webhook secrets): <button data-copy="ID"> copies
// the text of the input with that id, and says so in the element "ID-copied" (a live region).
// The input stays selectable, so copying by hand works without this script too.
(function () {
  "use strict";

  function said(id, text) {
    var status = document.getElementById(id + "-copied");
    if (status) { status.textContent = text; }
  }

  function byHand(input) {
    input.focus();
    input.select();
    try {
      return document.execCommand("copy");
    } catch (e) {
      return false;
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-copy]") : null;
    if (!button) { return; }
    var id = button.getAttribute("data-copy");
    var input = document.getElementById(id);
    if (!input) { return; }
    var value = input.value;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(value).then(
        function () { said(id, "Copied."); },
        function () { said(id, byHand(input) ? "Copied." : "Select the text and copy it by hand."); }
      );
    } else {
      said(id, byHand(input) ? "Copied." : "Select the text and copy it by hand.");
    }
  });
})();
