/*
 * The council's care-leavers chat widget. One line on any page:
 *
 *   <script src="https://HOST/widget.js" data-audience="care_leaver" defer></script>
 *
 * Optional attributes: data-audience ("care_leaver" or "staff"), data-title,
 * data-api (the API base URL, if not where this file was loaded from).
 *
 * Plain JavaScript, no build step. Everything lives in a shadow root, so the
 * page's CSS cannot break the widget and the widget's cannot break the page.
 * Answer HTML comes only from the server's sanitised `html`; everything a user
 * typed, and every quote, is inserted as text.
 * Under every answer, and as a button in every decline, "Ask the leaving care team"
 * opens a short form that sends the question to a person (POST /api/handoff).
 * The conversation is kept for this browser tab only (sessionStorage).
 */
(function () {
  "use strict";

  if (window.__careChatWidgetLoaded) return;
  window.__careChatWidgetLoaded = true;

  var script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  var data = (script && script.dataset) || {};
  var scriptUrl = script && script.src ? new URL(script.src, location.href) : new URL(location.href);
  var API = (data.api || scriptUrl.href.replace(/[^/]*([?#].*)?$/, "")).replace(/\/+$/, "");
  var AUDIENCE = data.audience === "staff" ? "staff" : "care_leaver";
  var TITLE = data.title || (AUDIENCE === "staff" ? "Ask about corporate parenting" : "Ask about leaving care");
  var STORE_KEY = "care-chat:v1:" + API + ":" + AUDIENCE;
  var LIMITS = { max_question_chars: 2000, max_history_turns: 10, max_history_chars: 8000 };
  var FOCUSABLE = 'a[href], button:not([disabled]), textarea, input:not([disabled]), summary, [tabindex]:not([tabindex="-1"])';
  // Until /api/contacts says otherwise (the council's words come from its council.toml).
  var HANDOFF = {
    team: "the leaving care team",
    next_steps: "Someone from the team will contact you, usually within a few working days, in office hours. If you are in danger now, call 999.",
    max_question_chars: 2000,
    max_contact_chars: 254,
  };
  var DECLINES = { not_found: true, off_topic: true };

  // -- small DOM helpers: text always goes in as text ----------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) return;
      if (key === "text") node.textContent = value;
      else if (key === "className") node.className = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  var CHAT_ICON = "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm3 5v2h10V9H7zm0 4v2h7v-2H7z";
  var THUMB_ICON = "M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.4-1.1L13.2 1 6.6 7.6C6.2 8 6 8.5 6 9v10a2 2 0 0 0 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z";

  // A decorative icon: one filled path in a 24x24 box, hidden from screen readers.
  function icon(d, className) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    if (className) svg.setAttribute("class", className);
    var path = document.createElementNS(ns, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", d);
    svg.appendChild(path);
    return svg;
  }

  function svgIcon() {
    return icon(CHAT_ICON);
  }

  function thumb(down) {
    return icon(THUMB_ICON, down ? "thumb down" : "thumb");
  }

  function safeUrl(url) {
    return /^https?:\/\//i.test(url || "") ? url : null;
  }

  // Phone numbers in contact details become tap-to-call (or tap-to-text) links.
  var NUMBER = /\b(?:999|111|101|116 ?123|85258|0\d{2,4} ?\d{3,4} ?\d{3,4})\b/g;

  function linkNumbers(text) {
    var frag = document.createDocumentFragment();
    var last = 0;
    var isText = /^\s*text\b/i.test(text);
    text.replace(NUMBER, function (match, offset) {
      frag.appendChild(document.createTextNode(text.slice(last, offset)));
      var digits = match.replace(/\D/g, "");
      var body = isText && /SHOUT/.test(text) ? "?&body=SHOUT" : "";
      frag.appendChild(el("a", {
        href: (isText ? "sms:" : "tel:") + digits + body,
        className: isText ? "sms" : "tel",
        text: match,
      }));
      last = offset + match.length;
      return match;
    });
    frag.appendChild(document.createTextNode(text.slice(last)));
    return frag;
  }

  // -- state ----------------------------------------------------------------------------

  var messages = load();
  var pending = false;
  var contacts = null;
  var contactsPromise = null;

  function load() {
    try {
      var saved = JSON.parse(sessionStorage.getItem(STORE_KEY) || "[]");
      return Array.isArray(saved) ? saved : [];
    } catch (e) {
      return [];
    }
  }

  function save() {
    try {
      sessionStorage.setItem(STORE_KEY, JSON.stringify(messages.slice(-40)));
    } catch (e) {
      /* private mode or full: the chat still works, it just is not kept */
    }
  }

  function history() {
    // The server accepts a limited history: the most recent turns, shortened answers.
    var turns = messages
      .filter(function (m) { return m.role === "user" || m.role === "assistant"; })
      .map(function (m) { return { role: m.role, content: String(m.text || "").slice(0, 1000) }; })
      .slice(-LIMITS.max_history_turns);
    var total = turns.reduce(function (n, t) { return n + t.content.length; }, 0);
    while (turns.length && total > LIMITS.max_history_chars) total -= turns.shift().content.length;
    return turns;
  }

  // -- the API ----------------------------------------------------------------------------

  function apiError(message, status) {
    var error = new Error(message);
    error.status = status || 0;
    return error;
  }

  async function readError(response) {
    var message = "Sorry, something went wrong. Please try again.";
    try {
      var body = await response.json();
      if (body && typeof body.error === "string") message = body.error;
    } catch (e) { /* not JSON */ }
    return apiError(message, response.status);
  }

  async function post(path, body) {
    var response;
    try {
      response = await fetch(API + path, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
        credentials: "omit",
      });
    } catch (e) {
      throw apiError("Sorry, I couldn't reach the assistant. Check your internet connection and try again.");
    }
    if (!response.ok) throw await readError(response);
    return response;
  }

  function loadContacts() {
    if (!contactsPromise) {
      contactsPromise = fetch(API + "/api/contacts", { credentials: "omit" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) {
          if (body) {
            contacts = body;
            if (body.limits) LIMITS = body.limits;
            if (body.handoff) HANDOFF = body.handoff;
            shadow.querySelectorAll(".handoff-open").forEach(function (n) { n.textContent = askTeam(); });
            input.maxLength = LIMITS.max_question_chars;
            renderHelp();
            shadow.querySelectorAll(".council-name").forEach(function (n) { n.textContent = body.council_name; });
            // Crisis answers kept from an earlier page show the full list of numbers to call.
            if (messages.some(function (m) { return m.status === "safeguarding"; })) renderAll();
          }
          return contacts;
        })
        .catch(function () { contactsPromise = null; return null; });
    }
    return contactsPromise;
  }

  /* Read the answer as Server-Sent Events: `token` pieces, then `done` (or `error`). */
  async function ask(payload, onToken) {
    var response = await post("/api/chat/stream", payload);
    if (!response.body || !response.body.getReader) {
      return (await post("/api/chat", payload)).json();
    }
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    var result = null;
    for (;;) {
      var chunk = await reader.read();
      if (chunk.value) buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n/g, "\n");
      var end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        var event = parseEvent(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (!event) continue;
        if (event.name === "token") onToken(event.data.text || "");
        else if (event.name === "done") result = event.data;
        else if (event.name === "error") throw apiError(event.data.error || "Sorry, something went wrong.", event.data.status);
      }
      if (chunk.done) break;
    }
    if (!result) throw apiError("Sorry, the answer was cut off. Please try again.");
    return result;
  }

  function parseEvent(raw) {
    var name = "message";
    var lines = [];
    raw.split("\n").forEach(function (line) {
      if (line.indexOf("event:") === 0) name = line.slice(6).trim();
      else if (line.indexOf("data:") === 0) lines.push(line.slice(5).replace(/^ /, ""));
    });
    if (!lines.length) return null;
    try {
      return { name: name, data: JSON.parse(lines.join("\n")) };
    } catch (e) {
      return null;
    }
  }

  // -- building the widget ---------------------------------------------------------------

  var host = document.createElement("care-chat-widget");
  host.style.setProperty("all", "initial", "important");
  host.style.setProperty("display", "block", "important");
  var shadow = host.attachShadow({ mode: "open" });

  var root = el("div", { className: "root", hidden: true, lang: "en" });
  var stylesheet = el("link", { rel: "stylesheet", href: API + "/widget.css" });
  function reveal() { root.hidden = false; }
  stylesheet.addEventListener("load", reveal);
  stylesheet.addEventListener("error", reveal);

  var launcher = el("button", {
    type: "button", className: "launcher", "aria-haspopup": "dialog", "aria-expanded": "false", "aria-controls": "ccw-panel",
  }, [svgIcon(), el("span", { text: TITLE })]);

  var closeButton = el("button", { type: "button", className: "close", "aria-label": "Close chat" }, [
    el("span", { "aria-hidden": "true", text: "\u00d7" }),
  ]);
  var helpBody = el("div", { className: "help-body" }, [el("p", { text: "Loading contacts\u2026" })]);
  var help = el("details", { className: "help" }, [el("summary", { text: "Need help now?" }), helpBody]);
  var log = el("div", { className: "log", role: "region", "aria-label": "Conversation", tabindex: "0" });
  var live = el("div", { className: "sr-only", "aria-live": "polite", "aria-atomic": "true" });
  var input = el("textarea", {
    id: "ccw-input", rows: "2", maxlength: String(LIMITS.max_question_chars), autocomplete: "off",
    "aria-describedby": "ccw-hint", placeholder: "For example: can I get help with rent?",
  });
  var send = el("button", { type: "submit", className: "send", text: "Send" });
  var clear = el("button", { type: "button", className: "clear", text: "Clear chat" });
  var form = el("form", { className: "composer", novalidate: true }, [
    el("label", { for: "ccw-input", text: "Type your question" }),
    el("div", { className: "row" }, [input, send]),
    el("div", { className: "foot" }, [
      el("span", { id: "ccw-hint", text: "Enter to send, Shift+Enter for a new line." }),
      clear,
    ]),
  ]);
  var panel = el("div", {
    id: "ccw-panel", className: "panel", role: "dialog", "aria-modal": "true", "aria-labelledby": "ccw-title", hidden: true,
  }, [
    el("div", { className: "head" }, [el("h2", { id: "ccw-title", text: TITLE }), closeButton]),
    help,
    log,
    live,
    form,
  ]);

  root.appendChild(launcher);
  root.appendChild(panel);
  shadow.appendChild(stylesheet);
  shadow.appendChild(root);

  function intro() {
    var who = el("span", { className: "council-name", text: contacts ? contacts.council_name : "the council" });
    return el("div", { className: "msg intro" }, [
      el("p", {}, ["Hi. I answer questions using ", who, "\u2019s published documents about support for children in care and care leavers. I\u2019m a computer program, not a person."]),
      el("p", { text: "Please don't type your name, address or other personal details. If you are in danger, open \u201cNeed help now?\u201d above." }),
    ]);
  }

  function contactList(items) {
    return el("ul", { className: "contacts" }, items.map(function (c) {
      var detail = el("span", {}, [linkNumbers(c.detail)]);
      return el("li", {}, [
        el("strong", { text: c.name }), ": ", detail,
        c.when ? el("span", { className: "when", text: c.when }) : null,
      ]);
    }));
  }

  function renderHelp() {
    if (!contacts) return;
    helpBody.textContent = "";
    helpBody.appendChild(el("h3", { text: "If you are in danger or can't cope" }));
    helpBody.appendChild(contactList(contacts.urgent || []));
    if ((contacts.council || []).length) {
      helpBody.appendChild(el("h3", { text: contacts.council_name }));
      helpBody.appendChild(contactList(contacts.council));
    }
  }

  // -- rendering messages ---------------------------------------------------------------------

  var counter = 0;

  function renderUser(text) {
    return el("div", { className: "msg user" }, [el("span", { className: "sr-only", text: "You said: " }), text]);
  }

  function renderError(text) {
    return el("div", { className: "msg bot error", role: "alert" }, [el("p", { text: text })]);
  }

  function urgentNow() {
    var box = el("div", { className: "urgent-now" }, [el("p", { className: "title", text: "Help is available now" })]);
    var items = (contacts && contacts.urgent) || [{ name: "Emergency services", detail: "Call 999" }];
    items.slice(0, 3).forEach(function (c) {
      var match = String(c.detail).match(NUMBER);
      if (!match) return;
      var texting = /^\s*text\b/i.test(c.detail);
      var href = (texting ? "sms:" : "tel:") + match[0].replace(/\D/g, "") + (texting && /SHOUT/.test(c.detail) ? "?&body=SHOUT" : "");
      box.appendChild(el("a", { className: "call", href: href, text: (texting ? "Text " : "Call ") + c.name + ": " + match[0] }));
    });
    return box;
  }

  function renderSources(reply, id) {
    if (!reply.citations || !reply.citations.length) return null;
    var list = el("ol", {}, reply.citations.map(function (c) {
      // The last two levels of the heading path are enough to find the place; the title says the rest.
      var section = String(c.section || "").split(" > ").slice(-2).join(" > ");
      var where = c.document_title + (section ? " \u2014 " + section : "") + (c.page ? ", page " + c.page : "");
      var parts = [
        el("summary", {}, [el("span", { className: "num", text: "[" + c.number + "] " }), where,
          c.superseded ? el("span", { className: "old", text: " (older document, since replaced)" }) : null]),
        el("blockquote", { text: c.quote }),
      ];
      var url = safeUrl(c.source_url);
      if (url) {
        parts.push(el("a", { className: "open", href: url, target: "_blank", rel: "noopener noreferrer", text: "Open the document (new tab)" }));
      }
      return el("li", { id: id + "-cite-" + c.number, "data-number": c.number }, [el("details", {}, parts)]);
    }));
    return el("div", { className: "sources" }, [el("h3", { text: "Sources (tap to see the words used)" }), list]);
  }

  function renderFeedback(message) {
    var status = el("span", { role: "status" });
    var group = el("div", { className: "feedback", role: "group", "aria-label": "Was this answer helpful?" }, [
      el("span", { text: "Was this helpful?", "aria-hidden": "true" }),
    ]);
    [[1, "Yes", ", helpful", false], [0, "No", ", not helpful", true]].forEach(function (spec) {
      var button = el("button", { type: "button", "aria-pressed": String(message.rating === spec[0]) }, [
        thumb(spec[3]), spec[1], el("span", { className: "sr-only", text: spec[2] }),
      ]);
      button.addEventListener("click", function () { rate(message, spec[0], group, status); });
      group.appendChild(button);
    });
    group.appendChild(status);
    return group;
  }

  async function rate(message, rating, group, status) {
    if (message.rating === rating) return;
    message.rating = rating;
    save();
    group.querySelectorAll("button").forEach(function (b, i) { b.setAttribute("aria-pressed", String((i === 0 ? 1 : 0) === rating)); });
    try {
      await post("/api/feedback", {
        question: message.question.slice(0, 4000), answer: message.text.slice(0, 20000), rating: rating,
        audience: AUDIENCE, status: message.status,
      });
      status.textContent = "Thank you for your feedback.";
    } catch (e) {
      status.textContent = e.message || "Sorry, your feedback could not be sent.";
    }
  }

  function renderAnswer(message) {
    var id = "m" + (++counter);
    var urgent = message.status === "safeguarding";
    var node = el("div", { className: "msg bot" + (urgent ? " urgent" : "") }, [
      el("span", { className: "sr-only", text: "Assistant: " }),
    ]);
    if (urgent) node.appendChild(urgentNow());
    var answer = el("div", { className: "answer" });
    answer.innerHTML = message.html; // the server's sanitised HTML (markdown with raw HTML disabled)
    answer.querySelectorAll("a.cite").forEach(function (a) {
      var number = (a.getAttribute("href") || "").replace(/^#cite-/, "");
      a.setAttribute("href", "#" + id + "-cite-" + number);
      a.setAttribute("aria-label", "Source " + number);
    });
    node.appendChild(answer);
    var declined = DECLINES[message.status] === true;
    // A decline offers a person at once, as a button; an answer offers one as a link at its end.
    if (message.question && declined) node.appendChild(renderHandoff(message, true));
    var sources = renderSources(message, id);
    if (sources) node.appendChild(sources);
    if (message.question) node.appendChild(renderFeedback(message));
    if (message.question && !declined) node.appendChild(renderHandoff(message, false));
    return node;
  }

  // -- asking a person -------------------------------------------------------------------------

  var handoffCounter = 0;

  function askTeam() {
    return "Ask " + HANDOFF.team;
  }

  function handoffSent(message) {
    return el("div", { className: "handoff-sent", role: "status", tabindex: "-1" }, [
      el("p", { className: "title", text: "Sent to " + HANDOFF.team + ". Your reference is #" + message.handoffReference + "." }),
      el("p", { text: message.handoffNext || HANDOFF.next_steps }),
    ]);
  }

  function renderHandoff(message, prominent) {
    var box = el("div", { className: "handoff" + (prominent ? " prominent" : "") });
    if (message.handoffReference) {
      box.appendChild(handoffSent(message));
      return box;
    }
    var opener = el("button", {
      type: "button", className: "handoff-open " + (prominent ? "button" : "link"), "aria-expanded": "false", text: askTeam(),
    });
    var formBox = null;
    opener.addEventListener("click", function () {
      if (formBox) {
        closeForm();
        return;
      }
      formBox = handoffForm(message, box, closeForm);
      opener.setAttribute("aria-expanded", "true");
      box.appendChild(formBox.form);
      formBox.question.focus();
      formBox.form.scrollIntoView({ block: "nearest" });
    });
    function closeForm() {
      if (!formBox) return;
      box.removeChild(formBox.form);
      formBox = null;
      opener.setAttribute("aria-expanded", "false");
      opener.focus();
    }
    box.appendChild(opener);
    return box;
  }

  function handoffForm(message, box, closeForm) {
    var id = "ccw-handoff-" + (++handoffCounter);
    var question = el("textarea", { id: id + "-q", rows: "3", maxlength: String(HANDOFF.max_question_chars) });
    question.value = String(message.question || "").slice(0, HANDOFF.max_question_chars);
    var contactLabel = el("label", { for: id + "-c", text: "Your email address" });
    var contact = el("input", {
      id: id + "-c", type: "email", autocomplete: "email", inputmode: "email",
      maxlength: String(HANDOFF.max_contact_chars), "aria-describedby": id + "-privacy",
    });
    function choice(value, label, checked) {
      var input = el("input", { type: "radio", name: id + "-method", value: value, checked: checked });
      input.addEventListener("change", function () {
        var phone = value === "phone";
        contactLabel.textContent = phone ? "Your phone number" : "Your email address";
        contact.type = phone ? "tel" : "email";
        contact.setAttribute("autocomplete", phone ? "tel" : "email");
        contact.setAttribute("inputmode", phone ? "tel" : "email");
      });
      return el("label", { className: "choice" }, [input, " " + label]);
    }
    var status = el("p", { className: "handoff-status", role: "status", "aria-live": "polite" });
    var sendButton = el("button", { type: "submit", className: "send", text: "Send to the team" });
    var cancel = el("button", { type: "button", className: "clear", text: "Cancel" });
    var form = el("form", { className: "handoff-form", "aria-labelledby": id + "-title", novalidate: true }, [
      el("h3", { id: id + "-title", text: askTeam() }),
      el("p", { className: "next", text: HANDOFF.next_steps }),
      el("label", { for: id + "-q", text: "Your question (you can change it)" }),
      question,
      el("fieldset", {}, [el("legend", { text: "How should they reply?" }), choice("email", "Email", true), choice("phone", "Phone", false)]),
      contactLabel,
      contact,
      el("p", { id: id + "-privacy", className: "hint", text: "Only " + HANDOFF.team + " sees this. It is deleted when your request is closed." }),
      el("div", { className: "actions" }, [sendButton, cancel]),
      status,
    ]);
    var sending = false;

    function say(text, field) {
      status.textContent = text;
      status.className = "handoff-status error";
      if (field) field.focus();
    }

    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      if (sending) return;
      var method = form.querySelector("input[type=radio]:checked").value;
      if (!question.value.trim()) return say("Write your question first.", question);
      if (!contact.value.trim()) {
        return say(method === "phone" ? "Give a phone number the team can call." : "Give an email address the team can write to.", contact);
      }
      sending = true;
      sendButton.setAttribute("aria-disabled", "true");
      status.className = "handoff-status";
      status.textContent = "Sending\u2026";
      try {
        var body = await (await post("/api/handoff", {
          question: question.value.trim(), contact_method: method, contact: contact.value.trim(), audience: AUDIENCE,
        })).json();
        message.handoffReference = body.reference;
        message.handoffNext = body.next_steps;
        save();
        box.textContent = "";
        var sent = handoffSent(message);
        box.appendChild(sent);
        sent.focus();
      } catch (error) {
        say(error.message || "Sorry, your request could not be sent. Please try again.", /contact|email|phone/i.test(error.message || "") ? contact : null);
      } finally {
        sending = false;
        sendButton.removeAttribute("aria-disabled");
      }
    });
    cancel.addEventListener("click", closeForm);
    form.addEventListener("keydown", function (event) {
      // Escape closes this form only, not the whole chat.
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        closeForm();
      }
    });
    return { form: form, question: question };
  }

  function render(message) {
    if (message.role === "user") return renderUser(message.text);
    if (message.role === "error") return renderError(message.text);
    return renderAnswer(message);
  }

  function renderAll() {
    log.textContent = "";
    log.appendChild(intro());
    messages.forEach(function (m) { log.appendChild(render(m)); });
    scrollDown();
  }

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  function announce(text) {
    live.textContent = "";
    setTimeout(function () { live.textContent = text; }, 50);
  }

  // Citation links open the quoted passage in place (no page navigation).
  log.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.cite");
    if (!link) return;
    event.preventDefault();
    var target = shadow.getElementById(link.getAttribute("href").slice(1));
    if (!target) return;
    var details = target.querySelector("details");
    details.open = true;
    var summary = details.querySelector("summary");
    summary.focus();
    target.scrollIntoView({ block: "nearest" });
  });

  // -- asking ------------------------------------------------------------------------------------

  async function submit() {
    var text = input.value.trim();
    if (!text || pending) return;
    pending = true;
    send.setAttribute("aria-disabled", "true");
    var payload = { message: text, history: history(), audience: AUDIENCE };
    var userMessage = { role: "user", text: text };
    messages.push(userMessage);
    save();
    log.appendChild(renderUser(text));
    input.value = "";

    var bubble = el("div", { className: "msg bot", "aria-busy": "true" });
    var streaming = el("p", { className: "streaming thinking", text: "Looking in the council's documents" });
    bubble.appendChild(streaming);
    log.appendChild(bubble);
    scrollDown();
    announce("Looking for an answer.");
    var received = "";
    try {
      var reply = await ask(payload, function (piece) {
        if (!received) streaming.className = "streaming";
        received += piece;
        streaming.textContent = received.replace(/\*\*/g, "");
        scrollDown();
      });
      var message = {
        role: "assistant", text: reply.text, html: reply.html, status: reply.status,
        citations: reply.citations || [], question: text, rating: null,
      };
      if (reply.status === "safeguarding") await loadContacts();
      messages.push(message);
      save();
      var node = renderAnswer(message);
      log.replaceChild(node, bubble);
      // Show the start of the answer (for a crisis answer: the numbers to call), not its end.
      log.scrollTop = Math.max(0, node.offsetTop - 8);
      var spoken = node.querySelector(".answer").textContent.replace(/\s+/g, " ").trim();
      announce((reply.status === "safeguarding" ? "Important. " : "Answer: ") + spoken);
    } catch (error) {
      var errorMessage = { role: "error", text: error.message || "Sorry, something went wrong. Please try again." };
      messages.push(errorMessage);
      save();
      log.replaceChild(renderError(errorMessage.text), bubble);
      scrollDown();
      if (!input.value) input.value = text; // let them try again without retyping
    } finally {
      pending = false;
      send.removeAttribute("aria-disabled");
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    submit();
  });

  input.addEventListener("keydown", function (event) {
    // Enter sends; Shift+Enter is a new line; never interrupt an input method (IME) composing text.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });

  clear.addEventListener("click", function () {
    messages = [];
    save();
    renderAll();
    announce("Conversation cleared.");
    input.focus();
  });

  // -- opening, closing, focus -----------------------------------------------------------------

  function isOpen() {
    return !panel.hidden;
  }

  function open() {
    if (isOpen()) return;
    loadContacts();
    panel.hidden = false;
    launcher.hidden = true;
    launcher.setAttribute("aria-expanded", "true");
    scrollDown();
    input.focus();
  }

  function close() {
    if (!isOpen()) return;
    panel.hidden = true;
    launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  launcher.addEventListener("click", open);
  closeButton.addEventListener("click", close);

  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
      return;
    }
    if (event.key !== "Tab") return;
    // Keep focus inside the open dialog: Tab from the last control goes to the first, and back.
    var items = Array.prototype.filter.call(panel.querySelectorAll(FOCUSABLE), function (node) {
      return node.getClientRects().length > 0;
    });
    if (!items.length) return;
    var first = items[0];
    var last = items[items.length - 1];
    var active = shadow.activeElement;
    if (event.shiftKey && (active === first || !panel.contains(active))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && active === last) {
      event.preventDefault();
      first.focus();
    }
  });

  renderAll();

  function mount() {
    document.body.appendChild(host);
  }

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
