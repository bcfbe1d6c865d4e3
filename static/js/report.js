/* The field report form and the device's outbox ("never lose a report").
 *
 * Every report gets a UUID when the form opens. On "Send" the report (and its photos) is first
 * written to an outbox in IndexedDB, then sent as JSON to the incident API; the server stores a
 * UUID once, so sending again after a lost answer is harmless. What could not be sent stays in the
 * outbox and is retried on the `online` event, on page load and with backoff. Photos go after
 * their report exists. Settings and words come from the json_script "report-config" (no inline
 * script: the site runs under a strict CSP); user text is only ever set with textContent.
 */
(function () {
  "use strict";

  var configElement = document.getElementById("report-config");
  if (!configElement) return;
  var config = JSON.parse(configElement.textContent);
  var M = config.messages;
  var ZERO_UUID = "00000000-0000-0000-0000-000000000000";
  var RETRY_MIN_MS = 5000;
  var RETRY_MAX_MS = 5 * 60 * 1000;

  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (match, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : match;
    });
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function newUuid() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    // Pages served over plain HTTP have no randomUUID; build a version 4 UUID by hand.
    var bytes = window.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) {
      return (b + 0x100).toString(16).slice(1);
    }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20),
      hex.slice(20)].join("-");
  }

  function csrfToken() {
    // The cookie first: it follows a new sign-in in another tab, the page's copy does not.
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  /* ---------------------------------------------------------------- the outbox */

  var DB_NAME = "ceasefire-monitor-reports";
  var STORE = "outbox";
  var LOCAL_KEY = "ceasefire-monitor-outbox";

  function idbStore() {
    var opened = null;
    function open() {
      if (!opened) {
        opened = new Promise(function (resolve, reject) {
          var request = window.indexedDB.open(DB_NAME, 1);
          request.onupgradeneeded = function () {
            request.result.createObjectStore(STORE, { keyPath: "client_uuid" });
          };
          request.onsuccess = function () { resolve(request.result); };
          request.onerror = function () { reject(request.error); };
        });
      }
      return opened;
    }
    function run(mode, action) {
      return open().then(function (db) {
        return new Promise(function (resolve, reject) {
          var transaction = db.transaction(STORE, mode);
          var request = action(transaction.objectStore(STORE));
          transaction.oncomplete = function () { resolve(request.result); };
          transaction.onerror = function () { reject(transaction.error); };
          transaction.onabort = function () { reject(transaction.error); };
        });
      });
    }
    return {
      ready: open,
      put: function (entry) { return run("readwrite", function (s) { return s.put(entry); }); },
      get: function (id) { return run("readonly", function (s) { return s.get(id); }); },
      remove: function (id) { return run("readwrite", function (s) { return s.delete(id); }); },
      all: function () { return run("readonly", function (s) { return s.getAll(); }); },
    };
  }

  // Where IndexedDB is missing (some private modes) reports still survive in localStorage;
  // photos cannot, as localStorage holds text only.
  function localStore() {
    function read() {
      try { return JSON.parse(window.localStorage.getItem(LOCAL_KEY)) || {}; } catch (e) { return {}; }
    }
    function write(all) { window.localStorage.setItem(LOCAL_KEY, JSON.stringify(all)); }
    return {
      ready: function () { return Promise.resolve(); },
      put: function (entry) {
        var all = read();
        var copy = Object.assign({}, entry, { photos: [] });
        all[entry.client_uuid] = copy;
        write(all);
        return Promise.resolve();
      },
      get: function (id) { return Promise.resolve(read()[id]); },
      remove: function (id) { var all = read(); delete all[id]; write(all); return Promise.resolve(); },
      all: function () {
        var all = read();
        return Promise.resolve(Object.keys(all).map(function (k) { return all[k]; }));
      },
    };
  }

  var outbox = window.indexedDB ? idbStore() : localStore();
  var outboxReady = outbox.ready().catch(function () { outbox = localStore(); });

  function myEntries() {
    return outboxReady.then(function () { return outbox.all(); }).then(function (entries) {
      return entries.filter(function (entry) { return entry.user === config.user; })
        .sort(function (a, b) { return a.queued_at - b.queued_at; });
    });
  }

  /* ---------------------------------------------------------------- sending */

  function readJson(response) {
    return response.json().catch(function () { return {}; });
  }

  function classify(response) {
    if (response.status === 200 || response.status === 201) {
      return readJson(response).then(function (body) {
        return { kind: "stored", created: response.status === 201, body: body };
      });
    }
    if (response.status === 401 || response.status === 403) {
      return readJson(response).then(function (body) { return { kind: "auth", errors: body }; });
    }
    if (response.status === 409) {
      return readJson(response).then(function (body) { return { kind: "conflict", errors: body }; });
    }
    if (response.status >= 400 && response.status < 500 &&
        response.status !== 408 && response.status !== 429) {
      return readJson(response).then(function (body) { return { kind: "invalid", errors: body }; });
    }
    return Promise.resolve({ kind: "retry" });
  }

  function post(url, body, headers) {
    var allHeaders = Object.assign({ "Accept": "application/json", "X-CSRFToken": csrfToken() },
      headers || {});
    return fetch(url, { method: "POST", credentials: "same-origin", headers: allHeaders, body: body })
      .then(classify, function () { return { kind: "retry" }; });
  }

  function sendReport(entry) {
    return post(config.submitUrl, JSON.stringify(entry.payload),
      { "Content-Type": "application/json" });
  }

  function sendPhoto(entry, photo) {
    var form = new FormData();
    // The server names stored files itself; the device's file name is not sent.
    form.append("file", photo.blob, "photo");
    return post(config.attachmentsUrl.replace(ZERO_UUID, entry.client_uuid), form);
  }

  // Send one outbox entry as far as it goes: the report, then each photo. The entry is updated
  // in the outbox after every step, so a closed tab resumes where it stopped.
  function deliver(entry) {
    var photoErrors = [];
    var step = entry.sent ? Promise.resolve({ kind: "stored", created: entry.created })
      : sendReport(entry).then(function (result) {
        if (result.kind !== "stored") return result;
        entry.sent = true;
        entry.created = result.created;
        return outbox.put(entry).then(function () { return result; });
      });
    function nextPhoto(result) {
      if (result.kind !== "stored") return result;
      if (!entry.photos || !entry.photos.length) {
        return outbox.remove(entry.client_uuid).then(function () {
          return { kind: "stored", created: entry.created, photoErrors: photoErrors };
        });
      }
      return sendPhoto(entry, entry.photos[0]).then(function (photoResult) {
        if (photoResult.kind === "stored" || photoResult.kind === "invalid" ||
            photoResult.kind === "conflict") {
          if (photoResult.kind !== "stored") photoErrors.push(flatten(photoResult.errors));
          entry.photos.shift();
          return outbox.put(entry).then(function () { return nextPhoto(result); });
        }
        return { kind: photoResult.kind, photosPending: entry.photos.length };
      });
    }
    return step.then(nextPhoto);
  }

  var flushing = null;
  var retryTimer = null;
  var retryDelay = RETRY_MIN_MS;
  var listeners = [];

  function scheduleRetry(needed) {
    window.clearTimeout(retryTimer);
    if (!needed) { retryDelay = RETRY_MIN_MS; return; }
    retryTimer = window.setTimeout(flush, retryDelay);
    retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
  }

  function withLock(work) {
    // One tab sends at a time; the server would store a report once anyway.
    if (navigator.locks && navigator.locks.request) {
      return navigator.locks.request("ceasefire-monitor-outbox", work);
    }
    return work();
  }

  function flush() {
    if (flushing) return flushing;
    var summary = { stored: 0, waiting: 0, auth: false };
    flushing = withLock(function () {
      return myEntries().then(function (entries) {
        var pending = entries.filter(function (entry) { return entry.state !== "failed"; });
        function next(index) {
          if (index >= pending.length) return summary;
          var entry = pending[index];
          return deliver(entry).then(function (result) {
            if (result.kind === "stored") { summary.stored += 1; return next(index + 1); }
            if (result.kind === "invalid" || result.kind === "conflict") {
              entry.state = "failed";
              entry.errors = result.errors;
              return outbox.put(entry).then(function () { return next(index + 1); });
            }
            summary.waiting = pending.length - index;
            summary.auth = result.kind === "auth";
            return summary; // offline or the server is down: the rest waits too
          });
        }
        return next(0);
      });
    }).then(function (result) {
      scheduleRetry(result.waiting > 0 && !result.auth);
      return result;
    }, function () {
      scheduleRetry(true);
      return summary;
    }).then(function (result) {
      flushing = null;
      listeners.forEach(function (listener) { listener(result); });
      return result;
    });
    return flushing;
  }

  window.addEventListener("online", function () { retryDelay = RETRY_MIN_MS; flush(); });

  /* ---------------------------------------------------------------- errors */

  function flatten(errors) {
    if (errors === null || errors === undefined) return "";
    if (typeof errors === "string") return errors;
    if (Array.isArray(errors)) return errors.map(flatten).filter(Boolean).join(" ");
    if (typeof errors === "object") {
      return Object.keys(errors).filter(function (key) { return key !== "existing"; })
        .map(function (key) { return flatten(errors[key]); }).filter(Boolean).join(" ");
    }
    return String(errors);
  }

  /* ---------------------------------------------------------------- outbox status */

  function renderCount(entries) {
    var status = document.getElementById("outbox-status");
    if (!status) return;
    status.hidden = entries.length === 0 && !document.getElementById("outbox-list");
    status.textContent = entries.length ? fmt(M.outboxCount, { n: entries.length })
      : M.outboxEmpty;
    status.dataset.count = String(entries.length);
  }

  function refreshOutbox() {
    return myEntries().then(function (entries) {
      renderCount(entries);
      renderOutboxList(entries);
      return entries;
    }, function () { return []; });
  }

  function renderOutboxList(entries) {
    var list = document.getElementById("outbox-list");
    if (!list) return;
    list.textContent = "";
    entries.forEach(function (entry) {
      var item = el("li", "report-item outbox-item");
      item.dataset.id = entry.client_uuid;
      var head = el("div", "report-head");
      var failed = entry.state === "failed";
      head.appendChild(el("span", "status " + (failed ? "status-failed" : "status-waiting"),
        failed ? M.stateFailed : M.stateWaiting));
      head.appendChild(el("strong", null, (entry.summary && entry.summary.type) || ""));
      item.appendChild(head);
      var meta = el("p", "report-meta");
      var when = new Date(entry.payload.occurred_at);
      meta.textContent = when.toLocaleString(config.lang) +
        (entry.payload.place_name ? " · " + entry.payload.place_name : "");
      item.appendChild(meta);
      var description = el("p", "report-description",
        entry.payload.description || M.noDescription);
      description.dir = "auto";
      item.appendChild(description);
      if (entry.photos && entry.photos.length) {
        item.appendChild(el("p", "report-meta", fmt(M.photosPending, { n: entry.photos.length })));
      }
      if (failed && entry.errors) item.appendChild(el("p", "error", flatten(entry.errors)));
      var actions = el("div", "outbox-actions");
      var send = el("button", "secondary", M.sendNow);
      send.type = "button";
      send.addEventListener("click", function () {
        entry.state = "waiting";
        entry.errors = null;
        outbox.put(entry).then(function () { retryDelay = RETRY_MIN_MS; return flush(); });
      });
      actions.appendChild(send);
      if (failed) {
        var discard = el("button", "link-danger", M.discard);
        discard.type = "button";
        discard.addEventListener("click", function () {
          if (window.confirm(M.confirmDiscard)) {
            outbox.remove(entry.client_uuid).then(refreshOutbox);
          }
        });
        actions.appendChild(discard);
      }
      item.appendChild(actions);
      list.appendChild(item);
    });
  }

  /* ---------------------------------------------------------------- the form */

  var form = document.getElementById("report-form");

  function initForm() {
    var statusBox = document.getElementById("form-status");
    var sendButton = document.getElementById("send-button");
    var field = function (name) { return form.elements.namedItem(name); };
    var state = { uuid: newUuid(), point: null, photos: [] };
    var map = null;
    var marker = null;

    function say(text, kind) {
      statusBox.textContent = text;
      statusBox.className = "form-status" + (kind ? " " + kind : "");
    }

    function pad(n) { return (n < 10 ? "0" : "") + n; }
    function setNow() {
      var now = new Date();
      field("occurred_at").value = now.getFullYear() + "-" + pad(now.getMonth() + 1) + "-" +
        pad(now.getDate()) + "T" + pad(now.getHours()) + ":" + pad(now.getMinutes());
    }

    /* -- the place */
    var pointStatus = document.getElementById("point-status");
    function setPoint(lat, lon, precision, zoom) {
      state.point = { lat: Math.round(lat * 1e6) / 1e6, lon: Math.round(lon * 1e6) / 1e6 };
      field("location_precision").value = precision;
      pointStatus.textContent = fmt(M.pointSet, {
        lat: state.point.lat.toFixed(5), lon: state.point.lon.toFixed(5) });
      clearError("location");
      if (map) {
        if (marker) marker.setLatLng([lat, lon]);
        else marker = window.L.circleMarker([lat, lon], {
          radius: 9, color: "#a4161a", weight: 3, fillColor: "#e5383b", fillOpacity: 0.8,
        }).addTo(map);
        if (zoom) map.setView([lat, lon], Math.max(map.getZoom(), zoom));
      }
    }

    var mapElement = document.getElementById("report-map");
    if (window.L && mapElement) {
      var extent = config.map.extent; // west, south, east, north
      map = window.L.map(mapElement, {
        center: config.map.center,
        zoom: config.map.zoom,
        minZoom: config.map.minZoom,
        maxZoom: config.map.maxZoom,
        maxBounds: [[extent[1] - 1, extent[0] - 1], [extent[3] + 1, extent[2] + 1]],
      });
      // Without a connection no tile loads; tapping the map still sets the point.
      if (config.map.tiles) {
        window.L.tileLayer(config.map.tiles, {
          attribution: config.map.attribution, maxZoom: config.map.maxZoom,
        }).addTo(map);
      }
      map.on("click", function (event) {
        setPoint(event.latlng.lat, event.latlng.lng, "exact");
        field("place_name").focus({ preventScroll: true });
      });
    } else if (mapElement) {
      mapElement.hidden = true;
    }

    /* -- the gazetteer */
    var search = document.getElementById("place-search");
    var suggestions = document.getElementById("place-suggestions");
    var searchTimer = null;
    var searchAbort = null;
    var options = [];
    var active = -1;

    function closeSuggestions() {
      suggestions.hidden = true;
      suggestions.textContent = "";
      search.setAttribute("aria-expanded", "false");
      search.removeAttribute("aria-activedescendant");
      options = [];
      active = -1;
    }

    function placeLabel(locality) {
      var first = config.lang === "ar" ? locality.name_ar : locality.name_en;
      var second = config.lang === "ar" ? locality.name_en : locality.name_ar;
      return { first: first || second || "", second: first ? second || "" : "" };
    }

    function choose(locality) {
      var coordinates = locality.location.coordinates;
      var names = [locality.name_en, locality.name_ar].filter(Boolean);
      field("place_name").value = names.join(" / ");
      search.value = placeLabel(locality).first;
      closeSuggestions();
      setPoint(coordinates[1], coordinates[0], "town", 12);
    }

    function highlight(index) {
      options.forEach(function (option, i) {
        option.node.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      active = index;
      if (index >= 0) search.setAttribute("aria-activedescendant", options[index].node.id);
    }

    function showSuggestions(results) {
      suggestions.textContent = "";
      options = [];
      active = -1;
      if (!results.length) {
        suggestions.appendChild(el("li", "suggestion-empty", M.noMatch));
      }
      results.forEach(function (locality, i) {
        var label = placeLabel(locality);
        var option = el("li", "suggestion");
        option.id = "place-option-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.appendChild(el("span", "suggestion-main", label.first));
        if (label.second) option.appendChild(el("span", "suggestion-other", label.second));
        option.addEventListener("mousedown", function (event) { event.preventDefault(); });
        option.addEventListener("click", function () { choose(locality); });
        options.push({ node: option, locality: locality });
        suggestions.appendChild(option);
      });
      suggestions.hidden = false;
      search.setAttribute("aria-expanded", "true");
    }

    function runSearch() {
      var query = search.value.trim();
      if (searchAbort) searchAbort.abort();
      if (query.length < 2) { closeSuggestions(); return; }
      searchAbort = window.AbortController ? new AbortController() : null;
      var url = config.localitiesUrl + "?page_size=8&q=" + encodeURIComponent(query);
      fetch(url, {
        credentials: "same-origin",
        headers: { "Accept": "application/json" },
        signal: searchAbort ? searchAbort.signal : undefined,
      }).then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      }).then(function (body) {
        showSuggestions(body.results || []);
      }).catch(function (error) {
        if (error && error.name === "AbortError") return;
        suggestions.textContent = "";
        suggestions.appendChild(el("li", "suggestion-empty", M.searchFail));
        suggestions.hidden = false;
      });
    }

    search.addEventListener("input", function () {
      window.clearTimeout(searchTimer);
      searchTimer = window.setTimeout(runSearch, 250);
    });
    search.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" && options.length) {
        event.preventDefault();
        highlight((active + 1) % options.length);
      } else if (event.key === "ArrowUp" && options.length) {
        event.preventDefault();
        highlight((active - 1 + options.length) % options.length);
      } else if (event.key === "Enter") {
        event.preventDefault(); // never submit the report from the search box
        if (active >= 0) choose(options[active].locality);
        else if (options.length === 1) choose(options[0].locality);
      } else if (event.key === "Escape") {
        closeSuggestions();
      }
    });
    search.addEventListener("blur", function () { window.setTimeout(closeSuggestions, 200); });

    /* -- GPS */
    document.getElementById("gps-button").addEventListener("click", function () {
      if (!navigator.geolocation) { pointStatus.textContent = M.gpsNone; return; }
      pointStatus.textContent = M.gpsWait;
      navigator.geolocation.getCurrentPosition(function (position) {
        setPoint(position.coords.latitude, position.coords.longitude, "exact", 13);
        pointStatus.textContent += " " + fmt(M.gpsDone,
          { m: Math.round(position.coords.accuracy) });
      }, function (error) {
        pointStatus.textContent = fmt(M.gpsFail, { reason: error.message || error.code });
      }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
    });

    /* -- type and sub-type */
    var eventType = field("event_type");
    var subType = field("sub_event_type");
    var placeholder = subType.options[0].textContent;
    eventType.addEventListener("change", function () {
      subType.textContent = "";
      var chosen = config.taxonomy.filter(function (t) { return t.slug === eventType.value; })[0];
      subType.appendChild(new Option(chosen ? M.chooseSubtype : placeholder, ""));
      (chosen ? chosen.sub_types : []).forEach(function (sub) {
        subType.appendChild(new Option(sub.name, sub.slug));
      });
      subType.disabled = !chosen;
      if (chosen && chosen.sub_types.length === 1) subType.value = chosen.sub_types[0].slug;
    });

    /* -- photos */
    var photoInput = field("photos");
    var photoList = document.getElementById("photo-list");
    function renderPhotos() {
      photoList.textContent = "";
      state.photos.forEach(function (photo, index) {
        var item = el("li", "photo-item");
        item.appendChild(el("span", null, photo.name + " (" +
          Math.max(1, Math.round(photo.blob.size / 1024)) + " kB)"));
        var remove = el("button", "link-danger", "×");
        remove.type = "button";
        remove.setAttribute("aria-label", M.discard + " " + photo.name);
        remove.addEventListener("click", function () {
          state.photos.splice(index, 1);
          renderPhotos();
        });
        item.appendChild(remove);
        photoList.appendChild(item);
      });
    }
    photoInput.addEventListener("change", function () {
      var problems = [];
      var files = Array.prototype.slice.call(photoInput.files || []);
      Promise.all(files.map(function (file) {
        if (config.photo.types.indexOf(file.type) < 0) {
          problems.push(fmt(M.photoType, { name: file.name }));
          return null;
        }
        if (file.size > config.photo.maxBytes) {
          problems.push(fmt(M.photoTooBig, { name: file.name, mb: config.photo.maxBytes / 1048576 }));
          return null;
        }
        // A copy of the bytes, so the outbox keeps the photo even if the file goes away.
        return file.arrayBuffer().then(function (buffer) {
          state.photos.push({ name: file.name, blob: new Blob([buffer], { type: file.type }) });
        });
      })).then(function () {
        photoInput.value = "";
        renderPhotos();
        showError("file", problems.join(" "));
      });
    });

    /* -- validation and errors */
    function clearError(name) {
      var box = form.querySelector('[data-error-for="' + name + '"]');
      if (box) box.textContent = "";
      var input = field(name);
      if (input && input.removeAttribute) input.removeAttribute("aria-invalid");
    }
    function clearErrors() {
      Array.prototype.forEach.call(form.querySelectorAll("[data-error-for]"), function (box) {
        box.textContent = "";
      });
      Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (input) {
        input.removeAttribute("aria-invalid");
      });
    }
    function showError(name, message) {
      var box = form.querySelector('[data-error-for="' + name + '"]') ||
        form.querySelector('[data-error-for="non_field_errors"]');
      box.textContent = (box.textContent ? box.textContent + " " : "") + message;
      var input = field(name);
      if (input && input.setAttribute && message) input.setAttribute("aria-invalid", "true");
      return box;
    }
    function showErrors(errors) {
      var first = null;
      Object.keys(errors || {}).forEach(function (name) {
        var box = showError(name === "detail" ? "non_field_errors" : name, flatten(errors[name]));
        if (!first) first = box;
      });
      if (first) first.scrollIntoView({ block: "center" });
    }

    function integer(name, fallback) {
      var raw = field(name).value.trim();
      if (raw === "") return fallback;
      var number = Number(raw);
      return Number.isFinite(number) ? Math.trunc(number) : raw;
    }

    function payload() {
      var problems = {};
      if (!state.point) problems.location = M.noPoint;
      if (!field("sub_event_type").value) problems.sub_event_type = M.noType;
      var when = field("occurred_at").value ? new Date(field("occurred_at").value) : null;
      if (!when || isNaN(when.getTime())) problems.occurred_at = M.noTime;
      else if (when < new Date(config.occurredMin)) problems.occurred_at = M.tooEarly;
      if (Object.keys(problems).length) { showErrors(problems); return null; }
      return {
        client_uuid: state.uuid,
        occurred_at: when.toISOString(),
        time_precision: field("time_precision").value,
        location: { type: "Point", coordinates: [state.point.lon, state.point.lat] },
        location_precision: field("location_precision").value,
        place_name: field("place_name").value.trim(),
        sub_event_type: field("sub_event_type").value,
        weapon: field("weapon").value,
        observation_method: field("observation_method").value,
        explosions_count: integer("explosions_count", null),
        direction: field("direction").value,
        distance_estimate_m: integer("distance_estimate_m", null),
        perpetrator_side: field("perpetrator_side").value,
        target: field("target").value,
        target_description: field("target_description").value.trim(),
        killed_civilians: integer("killed_civilians", 0),
        killed_combatants: integer("killed_combatants", 0),
        injured_civilians: integer("injured_civilians", 0),
        injured_combatants: integer("injured_combatants", 0),
        description: field("description").value.trim(),
        sources: field("sources").value.split("\n").map(function (line) { return line.trim(); })
          .filter(Boolean),
      };
    }

    function resetForm() {
      form.reset();
      state = { uuid: newUuid(), point: null, photos: [] };
      if (marker) { marker.remove(); marker = null; }
      pointStatus.textContent = "";
      subType.disabled = true;
      renderPhotos();
      setNow();
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearErrors();
      var data = payload();
      if (!data) return;
      var entry = {
        client_uuid: data.client_uuid,
        user: config.user,
        payload: data,
        photos: state.photos.slice(),
        summary: { type: subType.options[subType.selectedIndex].textContent },
        queued_at: Date.now(),
        state: "waiting",
        sent: false,
      };
      sendButton.disabled = true;
      say(M.saving);
      var kept = false;
      outboxReady.then(function () { return outbox.put(entry); })
        .then(function () { kept = true; }, function () { kept = false; })
        .then(function () { return deliver(entry); })
        .then(function (result) {
          if (result.kind === "stored") {
            var text = result.created ? M.sent : M.already;
            if (result.photoErrors && result.photoErrors.length) {
              text += " " + fmt(M.photoRefused, { reason: result.photoErrors.join(" ") });
            }
            resetForm();
            say(text, "ok");
          } else if (result.kind === "invalid" || result.kind === "conflict") {
            // The form still holds the report: it leaves the outbox until it is corrected.
            return outbox.remove(entry.client_uuid).then(function () {
              if (result.kind === "conflict") {
                state.uuid = newUuid();
                say(M.conflict, "error");
              } else {
                say(M.fix, "error");
                showErrors(result.errors);
              }
            });
          } else if (kept) {
            resetForm();
            say(result.kind === "auth" ? M.signin : M.queued, "queued");
            if (result.kind !== "auth") scheduleRetry(true);
          } else {
            say(result.kind === "auth" ? M.signin : M.queued, "error");
          }
        })
        .catch(function () { say(M.queued, "queued"); scheduleRetry(true); })
        .then(function () {
          sendButton.disabled = false;
          statusBox.focus({ preventScroll: false });
          return refreshOutbox();
        });
    });

    setNow();
  }

  /* ---------------------------------------------------------------- start */

  if (form) initForm();
  listeners.push(function (result) {
    refreshOutbox();
    // On "My reports" a report that just went through belongs in the server's list.
    if (!form && result.stored > 0) window.location.reload();
    var status = document.getElementById("outbox-status");
    if (status && result.auth) status.textContent += " " + M.signin;
  });
  refreshOutbox().then(function (entries) { if (entries.length) flush(); });
})();
