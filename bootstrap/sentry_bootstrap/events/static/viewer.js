// The events viewer page. Events are hostile input: every string reaches the page through
// textContent (the el() helper), never through innerHTML, and URLs are never taken from an event.
// The page polls /api/state once a second with the last version seen; the server answers with the
// version alone while nothing changed, so new events appear without a reload at next to no cost.
(function () {
  "use strict";

  var POLL_MS = 1000;
  var state = null;
  var version = null;
  var seen = {};        // issue key or event id -> true, to highlight what is new since the last render
  var firstRender = true;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (name) {
        var value = attrs[name];
        if (value === null || value === undefined || value === false) return;
        if (name === "text") node.textContent = String(value);
        else if (name === "className") node.className = value;
        else if (name === "onclick") node.addEventListener("click", value);
        else node.setAttribute(name, String(value));
      });
    }
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function str(value) {
    if (value === null || value === undefined) return "";
    if (typeof value === "string") return value;
    try { return JSON.stringify(value, null, 2); } catch (e) { return String(value); }
  }

  // Seconds from the SDK's float timestamps or ISO strings (spans use those, with microseconds).
  function secs(value) {
    if (typeof value === "number") return value;
    if (typeof value !== "string") return null;
    var m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?$/.exec(value);
    if (!m) return null;
    var whole = Date.parse(m[1] + (m[3] || "Z"));
    return isNaN(whole) ? null : whole / 1000 + (m[2] ? parseFloat("0" + m[2]) : 0);
  }

  function isObject(value) { return value !== null && typeof value === "object" && !Array.isArray(value); }

  // One formatter for every timestamp: toLocaleString() builds a new one per call (slow over 1,000 rows).
  var dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

  function when(iso) {
    if (typeof iso !== "string") return "";
    var date = new Date(iso);
    if (isNaN(date.getTime())) return iso;
    var seconds = Math.round((Date.now() - date.getTime()) / 1000);
    var ago = seconds < 60 ? seconds + "s ago" : seconds < 3600 ? Math.round(seconds / 60) + "m ago" :
      seconds < 86400 ? Math.round(seconds / 3600) + "h ago" : Math.round(seconds / 86400) + "d ago";
    return dateFormat.format(date) + " (" + ago + ")";
  }

  function levelDot(level) {
    return el("span", { className: "level level-" + String(level || "info").replace(/[^a-z]/g, ""), title: str(level) });
  }

  function badges(values) {
    return el("span", null, (values || []).map(function (v) { return el("span", { className: "badge", text: v }); }));
  }

  function kvTable(mapping) {
    var rows = Object.keys(mapping || {}).sort().map(function (key) {
      return el("tr", null, [el("td", { className: "k", text: key }), el("td", { className: "v", text: str(mapping[key]) })]);
    });
    return el("table", { className: "kv" }, [el("tbody", null, rows)]);
  }

  function panel(title, children, id) {
    return el("section", { id: id }, [el("h2", { text: title }), el("div", { className: "panel" }, children)]);
  }

  function go(hash) { if (location.hash !== hash) location.hash = hash; else render(); }

  // -- the lists --------------------------------------------------------------------------------------

  function tabs() {
    var nav = document.getElementById("tabs");
    nav.textContent = "";
    var route = location.hash || "#/";
    var entries = [["#/", "Issues"], ["#/items", "Transactions, logs, check-ins"]];
    if (state && state.spool) entries.push(["#/spool", "Spool"]);
    entries.forEach(function (entry) {
      nav.appendChild(el("a", { href: entry[0], className: route === entry[0] ? "active" : "", text: entry[1] }));
    });
  }

  function emptyOutbox() {
    return el("div", { className: "empty", id: "empty" }, [
      el("p", { text: "No events in the outbox yet." }),
      el("p", null, ["Run a program with the hook and no DSN, for example ",
        el("code", { text: 'PYTHONPATH="$(sentry-bootstrap hook-path)" python app.py' }),
        ": its errors appear here as they happen."])
    ]);
  }

  function issueList() {
    var issues = state.issues || [];
    if (!issues.length) return emptyOutbox();
    var rows = issues.map(function (issue) {
      var fresh = !firstRender && !seen[issue.issue + "#" + issue.count];
      seen[issue.issue + "#" + issue.count] = true;
      return el("tr", { className: "row issue" + (fresh ? " fresh" : ""), "data-issue": issue.issue,
                        onclick: function () { go("#/event/" + encodeURIComponent(issue.latest)); } }, [
        el("td", null, [
          el("div", null, [levelDot(issue.level), el("span", { className: "title", text: issue.title })]),
          el("div", { className: "culprit", text: issue.culprit || "" })
        ]),
        el("td", { className: "muted", text: when(issue.last_seen) }),
        el("td", null, [badges(issue.environments)]),
        el("td", null, [badges(issue.releases)]),
        el("td", { className: "count", text: issue.count })
      ]);
    });
    return el("table", { className: "list", id: "issues" }, [
      el("thead", null, [el("tr", null, ["Issue", "Last seen", "Environment", "Release", "Events"].map(function (h) {
        return el("th", { text: h });
      }))]),
      el("tbody", null, rows)
    ]);
  }

  function itemTable(rows, source, id) {
    if (!rows.length) return el("div", { className: "empty", text: "Nothing here yet." });
    return el("table", { className: "list", id: id }, [
      el("thead", null, [el("tr", null, ["Type", "Title", "Time", "Environment", "Release"].map(function (h) {
        return el("th", { text: h });
      }))]),
      el("tbody", null, rows.map(function (row) {
        var fresh = !firstRender && !seen[row.event_id];
        seen[row.event_id] = true;
        return el("tr", { className: "row item" + (fresh ? " fresh" : ""), "data-type": row.type,
                          onclick: function () { go("#/" + source + "/" + encodeURIComponent(row.event_id)); } }, [
          el("td", null, [el("span", { className: "badge", text: row.type })]),
          el("td", null, [levelDot(row.level), el("span", { className: "title", text: row.title })]),
          el("td", { className: "muted", text: when(row.timestamp) }),
          el("td", null, [badges(row.environment ? [row.environment] : [])]),
          el("td", null, [badges(row.release ? [row.release] : [])])
        ]);
      }))
    ]);
  }

  // -- one event ----------------------------------------------------------------------------------------

  function sourceLines(frame) {
    var lineno = typeof frame.lineno === "number" ? frame.lineno : null;
    var pre = Array.isArray(frame.pre_context) ? frame.pre_context : [];
    var post = Array.isArray(frame.post_context) ? frame.post_context : [];
    var lines = [];
    function add(offset, text, current) {
      lines.push(el("span", { className: "ln" + (current ? " cur" : "") }, [
        el("span", { className: "no", text: lineno === null ? "" : lineno + offset }), str(text)]));
    }
    pre.forEach(function (text, i) { add(i - pre.length, text, false); });
    if (frame.context_line !== undefined && frame.context_line !== null) add(0, frame.context_line, true);
    post.forEach(function (text, i) { add(i + 1, text, false); });
    return lines.length ? el("pre", { className: "source" }, lines) : null;
  }

  // A module-level frame's locals are the module's globals: leave out the interpreter's own
  // `__builtins__`, `__doc__`, `__name__`, ... (events/render.py shown_locals does the same).
  function shownLocals(frame) {
    var shown = {};
    if (!isObject(frame.vars)) return shown;
    Object.keys(frame.vars).forEach(function (k) {
      var dunder = k.length > 4 && k.slice(0, 2) === "__" && k.slice(-2) === "__";
      if (!(dunder && frame["function"] === "<module>")) shown[k] = frame.vars[k];
    });
    return shown;
  }

  function frameView(frame, open) {
    var where = str(frame.filename || frame.abs_path || "?");
    var summary = el("summary", null, [
      where, " in ", el("span", { className: "fn", text: str(frame.function || "?") }),
      " at line " + str(frame.lineno === undefined ? "?" : frame.lineno),
      frame.in_app ? null : el("span", { className: "lib", text: "library" })
    ]);
    var locals = shownLocals(frame);
    var vars = Object.keys(locals).length ?
      el("div", { className: "vars" }, [el("div", { className: "muted", text: "Local variables" }), kvTable(locals)]) : null;
    var node = el("details", { className: "frame" + (frame.in_app ? " in-app" : ""), title: str(frame.abs_path) },
                  [summary, sourceLines(frame), vars]);
    node.open = open;
    return node;
  }

  function exceptionView(event) {
    var values = event.exception && Array.isArray(event.exception.values) ? event.exception.values : [];
    var parts = [];
    values.forEach(function (exc, n) {
      if (!isObject(exc)) return;
      if (n) {
        var source = isObject(exc.mechanism) ? exc.mechanism.source : null;
        parts.push(el("div", { className: "chain-note", text:
          source === "__cause__" ? "The above exception was the direct cause of the following exception:" :
          source === "__context__" ? "During handling of the above exception, another exception occurred:" :
          "The above exception led to the following one:" }));
      }
      var frames = isObject(exc.stacktrace) && Array.isArray(exc.stacktrace.frames) ? exc.stacktrace.frames : [];
      // As in Sentry: the most recent call first, the innermost application frame open.
      frames = frames.filter(isObject).slice().reverse();
      var openAt = frames.findIndex(function (f) { return f.in_app; });
      parts.push(el("div", { className: "exception", "data-type": str(exc.type) }, [
        el("div", { className: "exc-head" }, [str(exc.type || "Error"),
          exc.value ? el("span", { className: "value", text: ": " + str(exc.value) }) : null]),
        frames.length ? el("div", { className: "muted", text: "most recent call first" }) : null,
        el("div", { className: "frames" }, frames.map(function (f, i) { return frameView(f, i === Math.max(openAt, 0)); }))
      ]));
    });
    return parts.length ? panel("Exception", parts, "exception") : null;
  }

  function breadcrumbView(event) {
    var crumbs = event.breadcrumbs;
    crumbs = isObject(crumbs) ? crumbs.values : crumbs;
    if (!Array.isArray(crumbs) || !crumbs.length) return null;
    return panel("Breadcrumbs", [el("ol", { className: "timeline" }, crumbs.filter(isObject).map(function (c) {
      var message = c.message !== undefined ? str(c.message) : (isObject(c.data) ? str(c.data) : "");
      return el("li", { className: "level-" + str(c.level || "info").replace(/[^a-z]/g, "") }, [
        el("div", { className: "crumb-head" }, [el("b", { text: str(c.category || c.type || "default") }),
          "  " + str(c.level || "info") + "  " + (typeof c.timestamp === "number" ?
            new Date(c.timestamp * 1000).toISOString() : str(c.timestamp))]),
        el("div", { className: "crumb-msg", text: message })
      ]);
    }))], "breadcrumbs");
  }

  function ms(value) { return value.toFixed(value < 1 ? 3 : 1) + " ms"; }

  function waterfall(event) {
    var start = secs(event.start_timestamp), end = secs(event.timestamp);
    if (start === null || end === null) return null;
    var total = Math.max(end - start, 1e-6);
    var spans = (Array.isArray(event.spans) ? event.spans : []).filter(isObject).map(function (s) {
      return { op: s.op, description: s.description, begin: secs(s.start_timestamp), end: secs(s.timestamp) };
    }).filter(function (s) { return s.begin !== null && s.end !== null; })
      .sort(function (a, b) { return a.begin - b.begin; });
    var op = isObject(event.contexts) && isObject(event.contexts.trace) ? event.contexts.trace.op : "";
    var rows = [{ op: op, description: event.transaction, begin: start, end: end }].concat(spans);
    return panel("Spans", [el("div", { className: "waterfall" }, rows.map(function (span) {
      var bar = el("div", { className: "bar" });
      // Positions go through the CSSOM (allowed by the page's CSP), never through markup.
      bar.style.left = Math.min(100, Math.max(0, (span.begin - start) / total * 100)) + "%";
      bar.style.width = Math.min(100, Math.max(0, (span.end - span.begin) / total * 100)) + "%";
      return el("div", { className: "span" }, [
        el("div", { className: "label", title: str(span.description), text: str(span.op) + "  " + str(span.description) }),
        el("div", { className: "track" }, [bar]),
        el("div", { className: "ms", text: ms((span.end - span.begin) * 1000) })
      ]);
    }))], "spans");
  }

  function eventView(data, source) {
    var row = data.row, event = data.event;
    var nodes = [el("a", { className: "back", href: source === "spool-event" ? "#/spool" : "#/", text: "← back" }),
      el("h1", { id: "event-title", text: row.title }),
      el("div", { className: "meta" }, [
        el("span", null, ["type ", el("b", { text: row.type })]),
        el("span", null, ["level ", el("b", { text: row.level })]),
        (row.type === "error" || row.type === "message") && event.logger ?
          el("span", null, ["logger ", el("b", { text: str(event.logger) })]) : null,
        el("span", null, ["time ", el("b", { text: when(row.timestamp) })]),
        row.environment ? el("span", null, ["environment ", el("b", { text: row.environment })]) : null,
        row.release ? el("span", null, ["release ", el("b", { text: row.release })]) : null,
        row.transaction ? el("span", null, ["transaction ", el("b", { text: row.transaction })]) : null,
        el("span", { className: "mono", text: row.event_id })
      ])];
    if (row.type === "transaction") nodes.push(waterfall(event));
    if (row.type === "error" || row.type === "message") nodes.push(exceptionView(event));
    if (row.type === "log" || row.type === "check-in") {
      var fields = {};
      Object.keys(event).forEach(function (k) {
        var v = event[k];
        fields[k] = isObject(v) && k === "attributes" ? v : v;
      });
      if (isObject(event.attributes)) {
        var attrs = {};
        Object.keys(event.attributes).forEach(function (k) {
          attrs[k] = isObject(event.attributes[k]) ? event.attributes[k].value : event.attributes[k];
        });
        delete fields.attributes;
        nodes.push(panel("Record", [kvTable(fields)], "record"));
        nodes.push(panel("Attributes", [kvTable(attrs)], "attributes"));
      } else {
        nodes.push(panel("Check-in", [kvTable(fields)], "record"));
      }
    }
    nodes.push(breadcrumbView(event));
    var tags = event.tags;
    if (Array.isArray(tags)) {
      var mapped = {};
      tags.forEach(function (pair) { if (Array.isArray(pair) && pair.length === 2) mapped[str(pair[0])] = pair[1]; });
      tags = mapped;
    }
    if (isObject(tags) && Object.keys(tags).length) nodes.push(panel("Tags", [kvTable(tags)], "tags"));
    if (isObject(event.user) && Object.keys(event.user).length) nodes.push(panel("User", [kvTable(event.user)], "user"));
    if (isObject(event.request) && Object.keys(event.request).length) nodes.push(panel("Request", [kvTable(event.request)], "request"));
    if (isObject(event.contexts) && Object.keys(event.contexts).length) {
      nodes.push(panel("Contexts", Object.keys(event.contexts).sort().map(function (name) {
        var ctx = event.contexts[name];
        return el("div", null, [el("div", { className: "crumb-head" }, [el("b", { text: name })]),
          isObject(ctx) ? kvTable(ctx) : el("div", { className: "crumb-msg", text: str(ctx) })]);
      }), "contexts"));
    }
    if (row.type === "error" || row.type === "message") {
      var group = (state && state.issues || []).filter(function (g) {
        return g.events.some(function (e) { return e.event_id === row.event_id; });
      })[0];
      if (group && group.events.length > 1) {
        nodes.push(panel("Events of this issue (" + group.count + ")", [el("div", null, group.events.map(function (e) {
          return el("div", null, [el("a", { href: "#/event/" + encodeURIComponent(e.event_id), className: "mono",
            text: (e.event_id === row.event_id ? "▸ " : "  ") + when(e.timestamp) + "  " + e.event_id })]);
        }))], "siblings"));
      }
    }
    return el("div", { id: "event" }, nodes);
  }

  // -- routing and updates ------------------------------------------------------------------------------

  var shownEvent = null;

  function render() {
    var main = document.getElementById("main");
    var route = location.hash || "#/";
    tabs();
    var match = /^#\/(event|items|spool-event)\/(.+)$/.exec(route);
    if (match) {
      var id;
      try { id = decodeURIComponent(match[2]); } catch (e) { id = match[2]; }
      if (shownEvent === route) return;  // an open event page is not rebuilt by a poll
      shownEvent = route;
      var source = match[1] === "spool-event" ? "&source=spool" : "";
      fetch("/api/event?id=" + encodeURIComponent(id) + source).then(function (r) {
        if (!r.ok) throw new Error("not found");
        return r.json();
      }).then(function (data) {
        if (shownEvent !== route) return;
        main.textContent = "";
        main.appendChild(eventView(data, match[1]));
      }).catch(function () {
        main.textContent = "";
        main.appendChild(el("div", { className: "empty", text: "This item is no longer in the outbox." }));
      });
      return;
    }
    shownEvent = null;
    if (!state) return;
    main.textContent = "";
    if (route === "#/items") {
      main.appendChild(itemTable(state.others || [], "items", "items"));
    } else if (route === "#/spool" && state.spool) {
      main.appendChild(el("p", { className: "muted", text: "Waiting in the spool " + state.spool.path +
        " to be sent to the DSN: " + state.spool.total + " item(s)." }));
      main.appendChild(itemTable(state.spool.rows || [], "spool-event", "spool"));
    } else {
      main.appendChild(issueList());
    }
    // For anyone measuring (the load-time test does): when the list first showed, from navigation start.
    if (firstRender && window.performance && performance.mark) performance.mark("events-listed");
    firstRender = false;
  }

  function footer() {
    var node = document.getElementById("footer");
    node.textContent = state ? state.total + " item(s) in " + state.outbox +
      (state.others_total > (state.others || []).length ? " (newest " + state.others.length + " non-error items listed)" : "") : "";
  }

  function poll() {
    fetch("/api/state" + (version === null ? "" : "?since=" + encodeURIComponent(version)), { cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        document.getElementById("status").textContent = "live";
        if (data.version !== version || !state) {
          version = data.version;
          if (data.issues) {
            state = data;
            document.body.setAttribute("data-version", version);
            footer();
            render();
          }
        }
      })
      .catch(function () { document.getElementById("status").textContent = "disconnected, retrying…"; })
      .then(function () { setTimeout(poll, POLL_MS); });
  }

  window.addEventListener("hashchange", render);
  document.addEventListener("DOMContentLoaded", function () { tabs(); poll(); });
}());
