/* Review queue and review page: likely duplicates fetched per expanded report, and choosing one
   as the original. Configuration comes from the "review-config" JSON script; user text is only
   ever set with textContent. */
(function () {
  "use strict";
  var configNode = document.getElementById("review-config");
  if (!configNode) return;
  var config = JSON.parse(configNode.textContent);
  var strings = config.strings;

  function format(template, value) {
    return template.replace("%(n)s", String(value));
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function chooseOriginal(item, uuid) {
    var input = item.querySelector(".duplicate-of-input");
    if (!input) return;
    input.value = uuid;
    input.focus();
    var status = item.querySelector(".candidate-chosen");
    if (!status) {
      status = el("p", "candidate-chosen hint");
      status.setAttribute("role", "status");
      input.parentNode.appendChild(status);
    }
    status.textContent = strings.chosen;
  }

  function renderCandidates(box, item, rows) {
    box.textContent = "";
    if (!rows.length) {
      box.appendChild(el("p", "hint", strings.none));
      return;
    }
    var list = el("ul", "candidate-list");
    rows.forEach(function (row) {
      var li = el("li", "candidate");
      var link = el("a", null, row.occurred_at.slice(0, 16).replace("T", " ") + " · " + (row.place_name || "—"));
      link.href = row.page_url;
      li.appendChild(link);
      li.appendChild(el("span", "status-badge status-" + row.review_status,
        config.statuses[row.review_status] || row.review_status));
      li.appendChild(el("span", "hint", format(strings.metres, row.distance_m) + " · " + format(strings.hours, row.hours_apart)));
      if (row.description) {
        var text = el("p", "description", row.description);
        text.dir = "auto";
        li.appendChild(text);
      }
      var code = el("code", null, row.id);
      code.dir = "ltr";
      li.appendChild(code);
      var use = el("button", "use-candidate", strings.use);
      use.type = "button";
      use.dataset.uuid = row.id;
      li.appendChild(use);
      list.appendChild(li);
    });
    box.appendChild(list);
  }

  function toggleCandidates(button) {
    var item = button.closest("[data-incident]");
    var box = document.getElementById(button.getAttribute("aria-controls"));
    var open = button.getAttribute("aria-expanded") === "true";
    button.setAttribute("aria-expanded", open ? "false" : "true");
    box.hidden = open;
    if (open || box.dataset.loaded) return;
    box.textContent = strings.loading;
    var url = config.candidatesUrl.replace(config.placeholder, button.dataset.incident);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (body) {
        box.dataset.loaded = "1";
        renderCandidates(box, item, body.results || []);
      })
      .catch(function () {
        box.textContent = "";
        box.appendChild(el("p", "error", strings.failed));
      });
  }

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest(".candidates-toggle");
    if (toggle) {
      toggleCandidates(toggle);
      return;
    }
    var use = event.target.closest(".use-candidate");
    if (use) {
      chooseOriginal(use.closest("[data-incident]"), use.dataset.uuid);
    }
  });
})();
