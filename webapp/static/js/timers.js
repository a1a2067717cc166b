// Ticks the running timers' clocks on the child page. The server is the truth: each clock
// shows the time since the stored start, measured against the server's "now" when the page
// was made (so a phone whose clock is wrong still shows the right time). Without this file
// the page shows the whole minutes it was rendered with.
(function () {
  "use strict";
  var clocks = document.querySelectorAll(".timer-clock[data-started]");
  if (!clocks.length) { return; }
  var loaded = Date.now();
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    clocks.forEach(function (el) {
      var started = Date.parse(el.dataset.started);
      var serverNow = Date.parse(el.dataset.now);
      if (isNaN(started) || isNaN(serverNow)) { return; }
      var seconds = Math.max(0, Math.floor((serverNow - started + Date.now() - loaded) / 1000));
      var h = Math.floor(seconds / 3600), m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
      el.textContent = (h ? h + ":" + pad(m) : m) + ":" + pad(s);
    });
  }
  tick();
  window.setInterval(tick, 1000);
}());
