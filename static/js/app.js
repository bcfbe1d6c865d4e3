/* On every page of the site, for those who report: the service worker, and the outbox drained
 * and explained wherever the reporter is (not only on the form).
 *
 * The page tells the outbox who is signed in and the current CSRF token (kept in IndexedDB for
 * the worker, which cannot read cookies); reports of another user on a shared phone wait for
 * that user. A page without a signed-in reporter tells the worker to send nothing.
 */
(function () {
  "use strict";

  const configElement = document.getElementById("app-config");
  const outbox = window.CeasefireOutbox;
  if (!configElement || !outbox || !window.indexedDB) return;
  const config = JSON.parse(configElement.textContent);
  const M = config.messages || {};
  const listeners = [];

  function fmt(template, values) {
    return String(template).replace(/%\((\w+)\)s/g, function (match, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : match;
    });
  }

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function time(ms) {
    return new Date(ms).toLocaleTimeString(config.lang, { hour: "2-digit", minute: "2-digit" });
  }

  function options() {
    return Object.assign({}, config.outbox, { user: config.user, csrf: csrfToken() });
  }

  /* --------------------------------------------------------- the worker */

  const workers = "serviceWorker" in navigator ? navigator.serviceWorker : null;

  function register() {
    if (!workers || !config.serviceWorkerUrl) return Promise.resolve(null);
    return workers.register(config.serviceWorkerUrl, { scope: "/" }).then(function () {
      return workers.ready;
    }).then(function (registration) {
      // The basemap's tiles for the area (about 1.5 MB, once) are fetched for the field pages
      // only, where a map must work offline; the other pages keep the tiles they draw.
      if (registration.active && document.getElementById("report-config")) {
        registration.active.postMessage({ type: "warm" });
      }
      return registration;
    }).catch(function () { return null; });
  }

  function requestSync() {
    if (!workers) return Promise.resolve(false);
    return workers.ready.then(function (registration) {
      if (!registration.sync) return false;
      return registration.sync.register("outbox").then(function () { return true; });
    }).catch(function () { return false; });
  }

  /* --------------------------------------------------------- what the reporter reads */

  function reasonText(reason, n) {
    const key = { offline: "waitingOffline", unreachable: "waitingUnreachable",
      server: "waitingServer", auth: "waitingSignIn" }[reason] || "waitingOther";
    return fmt(M[key], { n: n });
  }

  // Sent reports already announced that this page shows again (a page that reloads itself to
  // show the server's list hands them over in sessionStorage, so the message is not lost).
  const CARRIED = "ceasefire-monitor-announced";
  const shownHere = new Set();
  try {
    JSON.parse(sessionStorage.getItem(CARRIED) || "[]").forEach(function (id) { shownHere.add(id); });
    sessionStorage.removeItem(CARRIED);
  } catch (error) { /* storage refused: the message is simply not repeated */ }

  function carryAnnouncements() {
    try { sessionStorage.setItem(CARRIED, JSON.stringify(Array.from(shownHere))); } catch (error) {
      /* storage refused */
    }
  }

  function banner() { return document.getElementById("outbox-banner"); }

  function line(text, className) {
    const p = document.createElement("p");
    p.className = className;
    p.textContent = text;
    return p;
  }

  async function render(summary) {
    const box = banner();
    if (!box || !config.user) return;
    const waiting = await outbox.entries(config.user);
    const log = await outbox.sentLog(config.user);
    // New to this reporter, or already shown on this page (a second render keeps the line).
    const fresh = log.filter(function (row) {
      return !row.announced || shownHere.has(row.client_uuid);
    });
    box.textContent = "";
    if (fresh.length) {
      const times = fresh.slice().reverse().map(function (row) { return time(row.sent_at); });
      box.appendChild(line(fmt(M.sentCount, { n: fresh.length, times: times.join(", ") }),
        "outbox-sent"));
      const refused = fresh.filter(function (row) { return row.photo_errors && row.photo_errors.length; });
      refused.forEach(function (row) {
        box.appendChild(line(fmt(M.photoRefused, { reason: row.photo_errors.join(" ") }), "error"));
      });
    }
    const pending = waiting.filter(function (entry) { return entry.state === "waiting"; });
    const failed = waiting.length - pending.length;
    if (pending.length) {
      const reason = summary && summary.reason ? summary.reason
        : (navigator.onLine === false ? "offline" : null);
      box.appendChild(line(reasonText(reason, pending.length), "outbox-waiting"));
      if (reason === "auth" && config.loginUrl) {
        const link = document.createElement("a");
        link.href = config.loginUrl + "?next=" + encodeURIComponent(location.pathname);
        link.textContent = M.signIn;
        box.appendChild(link);
      }
    }
    if (failed) {
      const p = line(fmt(M.refusedCount, { n: failed }) + " ", "error");
      if (config.myReportsUrl && location.pathname !== config.myReportsUrl) {
        const link = document.createElement("a");
        link.href = config.myReportsUrl;
        link.textContent = M.seeMyReports;
        p.appendChild(link);
      }
      box.appendChild(p);
    }
    box.hidden = !box.childNodes.length;
    box.dataset.waiting = String(pending.length);
    box.dataset.failed = String(failed);
    const unannounced = fresh.filter(function (row) { return !row.announced; });
    fresh.forEach(function (row) { shownHere.add(row.client_uuid); });
    if (unannounced.length) {
      await outbox.markAnnounced(unannounced.map(function (row) { return row.client_uuid; }));
    }
  }

  /* --------------------------------------------------------- draining */

  // While reports wait and this page stays open, it tries again with backoff (5 s doubling to
  // 5 min): not every browser has Background Sync, and a link that comes back does not always
  // fire `online`. A signed-out session waits for the next sign-in instead.
  const RETRY_MIN_MS = 5000;
  const RETRY_MAX_MS = 5 * 60 * 1000;
  let retryDelay = RETRY_MIN_MS;
  let retryTimer = null;

  function scheduleRetry(summary) {
    window.clearTimeout(retryTimer);
    if (!summary || !summary.waiting || summary.reason === "auth") {
      retryDelay = RETRY_MIN_MS;
      return;
    }
    retryTimer = window.setTimeout(function () { drain().then(changed); }, retryDelay);
    retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
  }

  let draining = null;
  let wiped = false;
  function drain() {
    if (!config.user || wiped) return Promise.resolve(null);
    if (!draining) {
      draining = outbox.flush(options()).then(function (summary) {
        draining = null;
        if (summary.waiting && summary.reason !== "auth") requestSync();
        scheduleRetry(summary);
        return summary;
      }, function () { draining = null; return null; });
    }
    return draining;
  }

  function changed(summary) {
    return render(summary).catch(function () { return null; }).then(function () {
      listeners.forEach(function (listener) { listener(summary || {}); });
    });
  }

  if (typeof BroadcastChannel === "function") {
    new BroadcastChannel(outbox.CHANNEL).onmessage = function (event) {
      if (event.data && event.data.type === "wiped") {
        // Nothing may be written to this device again from this page (it signs out next).
        wiped = true;
        window.clearTimeout(retryTimer);
        return;
      }
      changed(event.data);
    };
  }

  window.addEventListener("online", function () {
    retryDelay = RETRY_MIN_MS;
    drain().then(changed);
  });

  async function start() {
    if (!config.user) {
      // Signed out: the worker must not send anyone's reports with whatever session comes next.
      if (workers && workers.controller) await outbox.setMeta({ user: null, csrf: "" });
      return;
    }
    await outbox.setMeta({ user: config.user, csrf: csrfToken() });
    register();
    await changed(await drain());
  }

  const ready = start().catch(function () { return null; });

  window.CeasefireApp = {
    config: config,
    ready: ready,
    drain: function () { return drain().then(function (s) { return changed(s).then(function () { return s; }); }); },
    requestSync: requestSync,
    onChange: function (listener) { listeners.push(listener); },
    carryAnnouncements: carryAnnouncements,
    fmt: fmt,
    csrfToken: csrfToken,
  };
})();
