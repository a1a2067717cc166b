// Reports what signed-in parents see and do with suggested items, for the recommender.
// Cards carry data-reco-item and -position; the list's surface, model, request (and child)
// are on the card or on the section around it (data-reco-slate, holding the list's signed
// token). The page is rendered with no log write at all. An impression is a card at least
// half in view for a second (IntersectionObserver), once per card. Impressions of a signed
// list wait in sessionStorage, across the pages of one visit, and go to
// <meta name="reco-seen"> in one request for many lists: when about forty cards are waiting,
// a minute after the oldest, or when the visitor leaves the site (the tab hidden without a
// link of ours being followed). Everything else (clicks, saves, dismisses, and impressions
// of lists without a token) goes to <meta name="reco-log"> with the page's CSRF token. The
// server derives the idempotency keys, so a retry never counts twice. Failures are
// ignored: reporting must never get in the way of the page. No library needed.
(function () {
  "use strict";
  // Cards may arrive after the page (suggestions load as htmx fragments): each new piece of
  // page is searched for cards on htmx's "htmx:load".
  var meta = document.querySelector('meta[name="reco-log"]');
  var seenMeta = document.querySelector('meta[name="reco-seen"]');
  var tokenInput = document.querySelector('input[name="csrf_token"]');
  if (!meta || !tokenInput || !window.fetch) { return; }

  var endpoint = meta.getAttribute("content");
  var seenEndpoint = seenMeta ? seenMeta.getAttribute("content") : null;
  var SEEN_KEY = "reco-seen";
  var SEEN_BATCH = 40;       // cards waiting before they are sent
  var SEEN_WAIT_MS = 60000;  // the oldest waits at most this long while the page is open
  var MAX_SLATES = 20;       // the server's limit per request
  var leavingSite = true;    // until a link or form of ours is followed
  var MAX_BATCH = 50;        // the server's limit per request
  var FLUSH_MS = 2000;       // impressions wait this long for company
  var SEEN_MS = 1000;        // in view this long counts as seen
  var queue = [];
  var timer = null;

  function slateOf(card) {
    return card.closest("[data-reco-slate]");
  }

  function eventFor(card, kind) {
    var d = {}, slate = slateOf(card), key;
    if (slate) { for (key in slate.dataset) { d[key] = slate.dataset[key]; } }
    for (key in card.dataset) { d[key] = card.dataset[key]; }
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

  // Impressions of signed lists: {token: [positions]} kept for the visit, sent in batches.
  function readSeen() {
    try { return JSON.parse(window.sessionStorage.getItem(SEEN_KEY)) || { since: 0, slates: {} }; }
    catch (e) { return { since: 0, slates: {} }; }
  }
  function writeSeen(seen) {
    try { window.sessionStorage.setItem(SEEN_KEY, JSON.stringify(seen)); return true; }
    catch (e) { return false; }
  }
  function seenCount(seen) {
    var n = 0;
    for (var t in seen.slates) { n += seen.slates[t].length; }
    return n;
  }
  var seenTimer = null;
  function flushSeen(leaving) {
    if (seenTimer) { clearTimeout(seenTimer); seenTimer = null; }
    var seen = readSeen(), tokens = Object.keys(seen.slates);
    if (!tokens.length) { return; }
    writeSeen({ since: 0, slates: {} });
    for (var i = 0; i < tokens.length; i += MAX_SLATES) {
      var body = tokens.slice(i, i + MAX_SLATES).map(function (t) {
        return { token: t, seen: seen.slates[t] };
      });
      try {
        fetch(seenEndpoint, {
          method: "POST", credentials: "omit", keepalive: !!leaving,
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ slates: body })
        }).catch(function () { /* ignored */ });
      } catch (e) { /* nothing to report with */ }
    }
  }
  function scheduleSeen(seen) {
    if (seenTimer || !seen.since) { return; }
    var wait = Math.max(0, seen.since + SEEN_WAIT_MS - Date.now());
    seenTimer = setTimeout(function () { seenTimer = null; flushSeen(false); }, wait);
  }
  function pushSeen(card) {
    var slate = slateOf(card), token = slate && slate.getAttribute("data-reco-slate");
    if (!token || !seenEndpoint) { push(eventFor(card, "impression"), false); return; }
    var seen = readSeen(), position = parseInt(card.dataset.recoPosition, 10);
    var list = seen.slates[token] || (seen.slates[token] = []);
    if (list.indexOf(position) < 0) { list.push(position); }
    if (!seen.since) { seen.since = Date.now(); }
    if (!writeSeen(seen) || seenCount(seen) >= SEEN_BATCH) { flushSeen(false); }
    else { scheduleSeen(seen); }
  }
  if (seenEndpoint) { scheduleSeen(readSeen()); }  // left over from the previous page

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
              pushSeen(card);
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

  // Following a link or a form of ours keeps the waiting impressions for the next page.
  function ours(url) {
    try { return new URL(url, window.location.href).origin === window.location.origin; }
    catch (e) { return false; }
  }
  document.addEventListener("click", function (e) {
    var link = e.target instanceof Element ? e.target.closest("a[href]") : null;
    if (link && !link.target && ours(link.href)) { leavingSite = false; }
  }, true);
  document.addEventListener("submit", function (e) {
    if (e.target && ours(e.target.action || window.location.href)) { leavingSite = false; }
  }, true);
  window.addEventListener("pageshow", function () { leavingSite = true; });

  // Whatever waits is sent when the page is hidden or left (signed impressions only when
  // the visitor leaves the site, or the tab is hidden).
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      flush(true);
      if (leavingSite) { flushSeen(true); }
    }
  });
  window.addEventListener("pagehide", function () {
    flush(true);
    if (leavingSite) { flushSeen(true); }
  });
})();
