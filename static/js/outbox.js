/* The device's outbox of field reports, shared by the pages and the service worker.
 *
 * A report is sealed before it is stored: a fresh AES-256-GCM key per report encrypts the
 * report's JSON and each photo, and that key is kept only wrapped with the server's RSA-OAEP
 * public key (as Enketo and ODK Central do). The phone holds ciphertext, the wrapped key and
 * what the reporter needs to recognise a queued report (its type and when it was queued); only
 * the server can open it. The unwrapped key is never stored.
 *
 * Sending: the report as {client_uuid, sealed}, then each photo; the server stores a UUID once,
 * so sending again after a lost answer is harmless. The outbox drains from whichever runs first:
 * the service worker (Background Sync, activation), any page of the site (load, `online`), the
 * form. A Web Lock keeps two of them from sending at once. Written for pages and for
 * `importScripts` in the worker: no DOM here.
 */
(function (root) {
  "use strict";

  const DB_NAME = "ceasefire-monitor-field";
  const DB_VERSION = 1;
  // The clear-text outbox of the version before sealing: migrated on first use, then deleted.
  const LEGACY_DB = "ceasefire-monitor-reports";
  const LEGACY_LOCAL_KEY = "ceasefire-monitor-outbox";
  const LOCK = "ceasefire-monitor-outbox";
  const CHANNEL = "ceasefire-monitor-outbox";
  const SENT_KEEP = 50;
  const ZERO_UUID = "00000000-0000-0000-0000-000000000000";

  /* ------------------------------------------------------------- storage */

  function request(req) {
    return new Promise(function (resolve, reject) {
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  // A connection per operation, closed after it: "wipe" can then delete the database at once,
  // whichever page or worker used it last.
  function withDb(mode, stores, action) {
    const opening = root.indexedDB.open(DB_NAME, DB_VERSION);
    opening.onupgradeneeded = function () {
      const db = opening.result;
      if (!db.objectStoreNames.contains("outbox")) {
        db.createObjectStore("outbox", { keyPath: "client_uuid" });
      }
      if (!db.objectStoreNames.contains("sent")) {
        db.createObjectStore("sent", { keyPath: "client_uuid" });
      }
      if (!db.objectStoreNames.contains("meta")) db.createObjectStore("meta", { keyPath: "key" });
    };
    return request(opening).then(function (db) {
      return new Promise(function (resolve, reject) {
        const transaction = db.transaction(stores, mode);
        let result;
        Promise.resolve(action(transaction)).then(function (value) { result = value; }, reject);
        transaction.oncomplete = function () { db.close(); resolve(result); };
        transaction.onerror = function () { db.close(); reject(transaction.error); };
        transaction.onabort = function () { db.close(); reject(transaction.error); };
      });
    });
  }

  function getAll(store) {
    return withDb("readonly", [store], function (t) { return request(t.objectStore(store).getAll()); });
  }

  function put(store, value) {
    return withDb("readwrite", [store], function (t) { t.objectStore(store).put(value); });
  }

  function remove(store, key) {
    return withDb("readwrite", [store], function (t) { t.objectStore(store).delete(key); });
  }

  function getMeta() {
    return getAll("meta").then(function (rows) {
      const meta = {};
      rows.forEach(function (row) { meta[row.key] = row.value; });
      return meta;
    });
  }

  function setMeta(values) {
    return withDb("readwrite", ["meta"], function (t) {
      Object.keys(values).forEach(function (key) {
        t.objectStore("meta").put({ key: key, value: values[key] });
      });
    });
  }

  function entries(user) {
    return getAll("outbox").then(function (all) {
      return all.filter(function (entry) { return entry.user === user; })
        .sort(function (a, b) { return a.queued_at - b.queued_at; });
    });
  }

  function sentLog(user) {
    return getAll("sent").then(function (all) {
      return all.filter(function (entry) { return entry.user === user; })
        .sort(function (a, b) { return b.sent_at - a.sent_at; });
    });
  }

  function markAnnounced(ids) {
    return withDb("readwrite", ["sent"], function (t) {
      const store = t.objectStore("sent");
      return Promise.all(ids.map(function (id) {
        return request(store.get(id)).then(function (row) {
          if (row) { row.announced = true; store.put(row); }
        });
      }));
    });
  }

  function trimSent(user) {
    return sentLog(user).then(function (log) {
      const old = log.slice(SENT_KEEP);
      if (!old.length) return null;
      return withDb("readwrite", ["sent"], function (t) {
        old.forEach(function (row) { t.objectStore("sent").delete(row.client_uuid); });
      });
    });
  }

  /* ------------------------------------------------------------- sealing */

  function bytesToBase64(buffer) {
    const bytes = new Uint8Array(buffer);
    let text = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return root.btoa(text);
  }

  function base64ToBytes(text) {
    const binary = root.atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  function canSeal() {
    return !!(root.crypto && root.crypto.subtle && root.indexedDB);
  }

  /* Seal a report and its photos ({blob, type}) with a new key wrapped by `sealing` (the
   * server's {keyId, publicKey}). Returns what the outbox stores: no clear text. */
  async function seal(payload, photos, sealing) {
    const subtle = root.crypto.subtle;
    const key = await subtle.generateKey({ name: "AES-GCM", length: 256 }, true, ["encrypt"]);
    const publicKey = await subtle.importKey("spki", base64ToBytes(sealing.publicKey),
      { name: "RSA-OAEP", hash: "SHA-256" }, false, ["encrypt"]);
    const wrapped = bytesToBase64(await subtle.encrypt({ name: "RSA-OAEP" }, publicKey,
      await subtle.exportKey("raw", key)));
    async function encrypt(bytes) {
      const iv = root.crypto.getRandomValues(new Uint8Array(12));
      const ciphertext = await subtle.encrypt({ name: "AES-GCM", iv: iv }, key, bytes);
      return { iv: bytesToBase64(iv), ciphertext: ciphertext };
    }
    const body = await encrypt(new TextEncoder().encode(JSON.stringify(payload)));
    const sealedPhotos = [];
    for (const photo of photos) {
      const part = await encrypt(await photo.blob.arrayBuffer());
      sealedPhotos.push({
        iv: part.iv,
        size: photo.blob.size,
        blob: new Blob([part.ciphertext], { type: "application/octet-stream" }),
      });
    }
    return {
      sealed: {
        v: 1, key_id: sealing.keyId, wrapped_key: wrapped, iv: body.iv,
        ciphertext: bytesToBase64(body.ciphertext),
      },
      photos: sealedPhotos,
    };
  }

  /* Put a report in the outbox, sealed. `entry` holds client_uuid, user, label (what the list
   * shows), payload (the report without client_uuid) and photos; the clear parts are dropped. */
  async function enqueue(entry, sealing) {
    const sealed = await seal(entry.payload, entry.photos || [], sealing);
    const stored = {
      client_uuid: entry.client_uuid,
      user: entry.user,
      label: entry.label || {},
      queued_at: entry.queued_at || Date.now(),
      state: "waiting",
      errors: null,
      sent: false,
      sealed: sealed.sealed,
      photos: sealed.photos,
      photo_count: sealed.photos.length,
    };
    await put("outbox", stored);
    return stored;
  }

  /* Reports left in clear text by the version before sealing: sealed now, then the old
   * database (and the localStorage fallback) is deleted. */
  async function migrateLegacy(user, sealing) {
    if (!canSeal() || !sealing) return 0;
    let moved = 0;
    const legacy = [];
    try {
      const local = JSON.parse(root.localStorage.getItem(LEGACY_LOCAL_KEY) || "{}");
      Object.keys(local).forEach(function (key) { legacy.push(local[key]); });
    } catch (error) { /* no localStorage in the worker */ }
    if (root.indexedDB.databases) {
      const names = (await root.indexedDB.databases()).map(function (db) { return db.name; });
      if (names.indexOf(LEGACY_DB) >= 0) {
        const db = await request(root.indexedDB.open(LEGACY_DB, 1));
        if (db.objectStoreNames.contains("outbox")) {
          const rows = await new Promise(function (resolve, reject) {
            const r = db.transaction("outbox", "readonly").objectStore("outbox").getAll();
            r.onsuccess = function () { resolve(r.result); };
            r.onerror = function () { reject(r.error); };
          });
          rows.forEach(function (row) { legacy.push(row); });
        }
        db.close();
      }
    }
    const mine = legacy.filter(function (row) { return row && row.user === user && row.payload; });
    const others = legacy.length - mine.length;
    for (const row of mine) {
      const payload = Object.assign({}, row.payload);
      delete payload.client_uuid;
      await enqueue({
        client_uuid: row.client_uuid, user: row.user, payload: payload,
        photos: row.photos || [], label: { type: (row.summary && row.summary.type) || "" },
        queued_at: row.queued_at,
      }, sealing);
      moved += 1;
    }
    // Another user's clear-text reports stay until that user opens the app on this phone.
    if (!others) {
      try { root.localStorage.removeItem(LEGACY_LOCAL_KEY); } catch (error) { /* worker */ }
      if (root.indexedDB.databases) await request(root.indexedDB.deleteDatabase(LEGACY_DB));
    }
    return moved;
  }

  /* ------------------------------------------------------------- sending */

  function readJson(response) {
    return response.json().catch(function () { return {}; });
  }

  function classify(response) {
    const status = response.status;
    if (status === 200 || status === 201) {
      return readJson(response).then(function (body) {
        return { kind: "stored", created: status === 201, body: body };
      });
    }
    if (status === 401 || status === 403) {
      return readJson(response).then(function (body) { return { kind: "auth", errors: body }; });
    }
    if (status === 409) {
      return readJson(response).then(function (body) { return { kind: "conflict", errors: body }; });
    }
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
      return readJson(response).then(function (body) { return { kind: "invalid", errors: body }; });
    }
    return Promise.resolve({ kind: "server", status: status });
  }

  function post(url, body, headers, csrf) {
    const all = Object.assign({ "Accept": "application/json", "X-CSRFToken": csrf || "" },
      headers || {});
    return root.fetch(url, { method: "POST", credentials: "same-origin", headers: all, body: body })
      .then(classify, function () {
        return { kind: root.navigator && root.navigator.onLine === false ? "offline" : "unreachable" };
      });
  }

  // Send one entry as far as it goes: the report, then each photo; the entry is saved after each
  // step, so a closed tab or a killed worker resumes where it stopped.
  async function deliver(entry, options) {
    const photoErrors = entry.photo_errors || [];
    if (!entry.sent) {
      const result = await post(options.submitUrl,
        JSON.stringify({ client_uuid: entry.client_uuid, sealed: entry.sealed }),
        { "Content-Type": "application/json" }, options.csrf);
      if (result.kind !== "stored") return result;
      entry.sent = true;
      entry.created = result.created;
      await put("outbox", entry);
    }
    while (entry.photos && entry.photos.length) {
      const photo = entry.photos[0];
      const form = new FormData();
      // The server names stored files itself; the device's file name is never sent.
      form.append("file", photo.blob, "photo");
      form.append("sealed_key_id", entry.sealed.key_id);
      form.append("sealed_wrapped_key", entry.sealed.wrapped_key);
      form.append("sealed_iv", photo.iv);
      const result = await post(options.attachmentsUrl.replace(ZERO_UUID, entry.client_uuid),
        form, {}, options.csrf);
      if (result.kind === "stored" || result.kind === "invalid" || result.kind === "conflict") {
        if (result.kind !== "stored") photoErrors.push(flatten(result.errors));
        entry.photos.shift();
        entry.photo_errors = photoErrors;
        await put("outbox", entry);
      } else {
        return result;
      }
    }
    const record = {
      client_uuid: entry.client_uuid, user: entry.user, label: entry.label,
      queued_at: entry.queued_at, sent_at: Date.now(), created: !!entry.created,
      photo_count: entry.photo_count || 0, photo_errors: photoErrors, announced: false,
    };
    await withDb("readwrite", ["outbox", "sent"], function (t) {
      t.objectStore("sent").put(record);
      t.objectStore("outbox").delete(entry.client_uuid);
    });
    return { kind: "stored", created: entry.created, record: record };
  }

  function withLock(work) {
    const locks = root.navigator && root.navigator.locks;
    return locks && locks.request ? locks.request(LOCK, work) : work();
  }

  function announce(summary) {
    if (typeof root.BroadcastChannel !== "function") return;
    const channel = new root.BroadcastChannel(CHANNEL);
    channel.postMessage(summary);
    channel.close();
  }

  /* Send what waits for `options.user` (with options.submitUrl, attachmentsUrl, csrf). The
   * summary says what went and why the rest waits: reason "offline", "unreachable", "server",
   * "auth" (signed out), or null. Reports the server refused stay, marked, until the reporter
   * acts on them. */
  function flush(options) {
    const summary = { sent: [], waiting: 0, failed: 0, reason: null };
    if (!options || !options.user || !root.indexedDB) return Promise.resolve(summary);
    return withLock(async function () {
      const mine = await entries(options.user);
      const pending = mine.filter(function (entry) { return entry.state === "waiting"; });
      summary.failed = mine.length - pending.length;
      for (let index = 0; index < pending.length; index += 1) {
        const entry = pending[index];
        const result = await deliver(entry, options);
        if (result.kind === "stored") {
          summary.sent.push(result.record);
        } else if (result.kind === "invalid" || result.kind === "conflict") {
          entry.state = result.kind === "conflict" ? "conflict" : "failed";
          entry.errors = result.errors;
          await put("outbox", entry);
          summary.failed += 1;
        } else {
          summary.waiting = pending.length - index;
          summary.reason = result.kind;
          break; // offline, signed out or the server is down: the rest waits too
        }
      }
      await trimSent(options.user);
      return summary;
    }).then(function (result) {
      announce(Object.assign({ type: "flushed" }, result));
      return result;
    });
  }

  /* ------------------------------------------------------------- the reporter's actions */

  async function retry(id) {
    const entry = await withDb("readonly", ["outbox"], function (t) {
      return request(t.objectStore("outbox").get(id));
    });
    if (!entry) return null;
    entry.state = "waiting";
    entry.errors = null;
    await put("outbox", entry);
    return entry;
  }

  // A report the server holds under its UUID with other content: sent again as a new report
  // (the UUID travels outside the sealed part, so no key is needed to change it).
  async function resendAsNew(id, newId) {
    const entry = await retry(id);
    if (!entry || entry.sent) return null;
    await withDb("readwrite", ["outbox"], function (t) {
      t.objectStore("outbox").delete(id);
      entry.client_uuid = newId;
      t.objectStore("outbox").put(entry);
    });
    return entry;
  }

  function discard(id) {
    return remove("outbox", id).then(function () { announce({ type: "changed" }); });
  }

  /* Everything this app keeps on the device: reports, the sent log, cached pages and keys, the
   * service worker. For a phone about to be searched. */
  async function wipe() {
    const deletions = [DB_NAME, LEGACY_DB].map(function (name) {
      return new Promise(function (resolve) {
        const r = root.indexedDB.deleteDatabase(name);
        r.onsuccess = r.onerror = r.onblocked = function () { resolve(); };
      });
    });
    await Promise.all(deletions);
    try { root.localStorage.removeItem(LEGACY_LOCAL_KEY); } catch (error) { /* worker */ }
    if (root.caches) {
      const names = await root.caches.keys();
      await Promise.all(names.map(function (name) { return root.caches.delete(name); }));
    }
    const container = root.navigator && root.navigator.serviceWorker;
    if (container && container.getRegistrations) {
      const registrations = await container.getRegistrations();
      await Promise.all(registrations.map(function (r) { return r.unregister(); }));
    }
    announce({ type: "wiped" });
  }

  /* ------------------------------------------------------------- errors */

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

  root.CeasefireOutbox = {
    CHANNEL: CHANNEL,
    canSeal: canSeal,
    enqueue: enqueue,
    migrateLegacy: migrateLegacy,
    entries: entries,
    sentLog: sentLog,
    markAnnounced: markAnnounced,
    getMeta: getMeta,
    setMeta: setMeta,
    flush: flush,
    retry: retry,
    resendAsNew: resendAsNew,
    discard: discard,
    wipe: wipe,
    flatten: flatten,
  };
})(self);
