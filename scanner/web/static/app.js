// Progressive enhancement only: every page works without this script.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // Queue filters: a changed drop-down applies at once.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.requestSubmit(); });
  });
  // Decision form: say which action needs a reason before the round trip.
  document.querySelectorAll("form.decision").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var reason = form.querySelector("textarea[name=reason]");
      if (reason && !reason.value.trim()) {
        event.preventDefault();
        reason.setCustomValidity("A reason is required for every decision.");
        reason.reportValidity();
      }
    });
    var reason = form.querySelector("textarea[name=reason]");
    if (reason) reason.addEventListener("input", function () { reason.setCustomValidity(""); });
  });
});
