// Reports what signed-in parents see and do with suggested items, for the recommender.
// Cards carry data-reco-item, -surface, -position, -model, -request (and -child); the page
// is rendered with no log write at all. An impression is a card at least half in view for
// a second (IntersectionObserver), once per card; clicks, saves and dismisses are sent as
// they happen. Events go in small batches to <meta name="reco-log"> with the page's CSRF
// token; the server derives the idempotency keys, so a retry never counts twice. Failures
// are ignored: reporting must never get in the way of the page. No library needed.
(function () {
  "use strict";
  // Cards may arrive after the page (suggestions load as htmx fragments): each new piece of
  // page is searched for cards on htmx's "htmx:load".
  var meta = document.querySelector('meta[name="reco-log"]');
  var tokenInput = document.querySelector('input[name="csrf_token"]');
  if (!meta || !tokenInput || !window.fetch) { return; }

  var endpoint = meta.getAttribute("content");
  var MAX_BATCH = 50;        // the server's limit per request
  var FLUSH_MS = 2000;       // impressions wait this long for company
  var SEEN_MS = 1000;        // in view this long counts as seen
  var queue = [];
  var timer = null;

  function eventFor(card, kind) {
    var d = card.dataset;
    var event = {
      kind: kind,
      item_id: parseInt(d.recoItem, 10),
      surface: d.recoSurface,
      position: parseInt(d.recoPosition, 10),
      model_version: d.recoModel,
      request_id: d.recoRequest
    };
    if (d.recoChild) { event.child_id = parseInt(d.recoChild, 10); }
    return event;
  }

  function send(events, leaving) {
    try {
      fetch(endpoint, {
        method: "POST",
        credentials: "same-origin",
        keepalive: !!leaving,  // lets a click's report finish while the next page loads
        headers: { "Content-Type": "application/json", "X-CSRFToken": tokenInput.value },
        body: JSON.stringify({ events: events })
      }).catch(function () { /* ignored: never in the page's way */ });
    } catch (e) { /* old browsers: nothing to report */ }
  }

  function flush(leaving) {
    if (timer) { clearTimeout(timer); timer = null; }
    while (queue.length) { send(queue.splice(0, MAX_BATCH), leaving); }
  }

  function push(event, now) {
    queue.push(event);
    if (now || queue.length >= MAX_BATCH) { flush(now); }
    else if (!timer) { timer = setTimeout(function () { flush(false); }, FLUSH_MS); }
  }

  // Impressions: cards actually in view.
  var observer = null;
  if ("IntersectionObserver" in window) {
    var pending = new Map();
    observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        var card = entry.target;
        if (entry.isIntersecting && entry.intersectionRatio >= 0.5) {
          if (!pending.has(card)) {
            pending.set(card, setTimeout(function () {
              pending.delete(card);
              observer.unobserve(card);
              push(eventFor(card, "impression"), false);
            }, SEEN_MS));
          }
        } else if (pending.has(card)) {  // scrolled past too quickly: not seen
          clearTimeout(pending.get(card));
          pending.delete(card);
        }
      });
    }, { threshold: [0, 0.5] });
  }
  var watched = window.WeakSet ? new WeakSet() : null;
  function watch(root) {
    if (!observer || !root || !root.querySelectorAll) { return; }
    var found = Array.prototype.slice.call(root.querySelectorAll("[data-reco-item]"));
    if (root.matches && root.matches("[data-reco-item]")) { found.push(root); }
    found.forEach(function (card) {
      if (watched && watched.has(card)) { return; }
      if (watched) { watched.add(card); }
      observer.observe(card);
    });
  }
  watch(document);
  document.addEventListener("htmx:load", function (e) { watch(e.detail && e.detail.elt); });

  // Clicks on a card, and its save / dismiss buttons (data-reco-action="save|dismiss").
  document.addEventListener("click", function (e) {
    var target = e.target instanceof Element ? e.target : null;
    var card = target && target.closest("[data-reco-item]");
    if (!card) { return; }
    var action = target.closest("[data-reco-action]");
    var kind = action ? action.getAttribute("data-reco-action") : "click";
    if (["click", "save", "dismiss", "add_to_cart"].indexOf(kind) < 0) { return; }
    push(eventFor(card, kind), true);
    // A suggestion dismissed goes at once (the next list leaves it out); a save shows.
    if (kind === "dismiss" && card.classList.contains("suggestion-card")) {
      var column = card.parentElement;
      (column && column.classList.contains("col") ? column : card).hidden = true;
    } else if (kind === "save" && action) {
      action.disabled = true;
      action.textContent = action.getAttribute("data-reco-done") || action.textContent;
    }
  });

  // Whatever waits is sent when the page is hidden or left.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { flush(true); }
  });
  window.addEventListener("pagehide", function () { flush(true); });
})();
