// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  // Registration / child forms: show only the fields for "on the way" or "born".
  function syncStatus(form) {
    var checked = form.querySelector('input[name="status"]:checked');
    if (!checked) { return; }
    var born = checked.value === "born";
    form.querySelectorAll("[data-show-when]").forEach(function (el) {
      el.classList.toggle("hidden-by-js", (el.dataset.showWhen === "born") !== born);
    });
  }
  document.querySelectorAll("form[data-child-form]").forEach(function (form) {
    syncStatus(form);
    form.addEventListener("change", function (event) {
      if (event.target.name === "status") { syncStatus(form); }
    });
  });

  // Show the ounces box only when "lb + oz" is chosen.
  function syncOunces(select) {
    var target = document.getElementById(select.dataset.ounces);
    if (target) { target.classList.toggle("hidden-by-js", select.value !== "lb"); }
  }
  document.querySelectorAll("select[data-ounces]").forEach(function (select) {
    syncOunces(select);
    select.addEventListener("change", function () { syncOunces(select); });
  });

  // Pre-select the browser's time zone on the registration form.
  var tz = document.querySelector("select[data-detect-timezone]");
  if (tz && !tz.dataset.userChosen) {
    try {
      var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (zone && tz.querySelector('option[value="' + zone + '"]')) { tz.value = zone; }
    } catch (e) { /* keep the default */ }
  }

  // Buttons that ask before doing something that cannot be undone.
  document.addEventListener("submit", function (event) {
    var message = event.target.dataset.confirm;
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });
})();

// "Print or save as PDF" buttons (no inline scripts: the CSP forbids them).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
