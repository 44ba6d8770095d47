// The counter page: two sides (clerk in Japanese, resident in their language), one WebSocket.
// Every text from the server goes into the page with textContent, never as HTML — except the escaped
// Easy Japanese ruby HTML (renderRuby, the one exception).
"use strict";

(function () {
  const PROTOCOL = 1;
  const TARGET_RATE = 16000;
  const $ = (id) => document.getElementById(id);

  // Numbers the browser tests read (no conversation content).
  const stats = (window.madoguchiStats = {
    chunksReceived: 0,
    chunksStarted: 0,
    chunksPlayed: 0,
    speechEnded: 0,
    firstAudioBeforeTurnEnd: 0, // turns whose first speech chunk arrived before their turn_end
    latenciesMs: [],
    turnsEnded: 0,
    serverTimingsMs: [],
    errors: [],
    notices: [],
    partials: 0, // transcript_partial messages shown
    firstPartialMs: [], // start of talking -> first tentative text, per recording
  });

  const state = {
    ws: null,
    texts: null,
    status: null,
    phrases: [],
    residentLanguage: null,
    locked: false,
    proposed: null,
    recording: null, // what this page is recording: {speaker, mode, source}
    serverRecording: null, // what the server says is being recorded
    busy: false,
    capture: null, // {ctx, node, stream}
    playing: false,
    stopAt: null, // performance.now() of the last end of speech
    turnStopAt: {}, // turn_id -> stop time
    turnAudio: {}, // turn_id -> [wav base64]
    turns: {}, // turn_id -> {speaker, source, target}
    talkStartAt: null, // performance.now() when this page started recording
    fontScale: Number(localStorage.getItem("madoguchi.fontScale") || "1"),
  };

  // ---------------------------------------------------------------- helpers

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [key, value] of Object.entries(attrs)) {
        if (value === null || value === undefined) continue;
        if (key === "className") node.className = value;
        else node.setAttribute(key, value);
      }
    }
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function nativeName(code) {
    return (state.texts && state.texts.native_names[code]) || code;
  }

  function residentText(key, lang) {
    const table = state.texts && state.texts.resident_ui[key];
    if (!table) return "";
    return table[lang] || table.en || "";
  }

  function send(message) {
    if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(message));
  }

  // Render text with glossary marks. Offsets are code points (the server is Python).
  // Glossary terms the recogniser's words were corrected to (by reading) are underlined; "↶" undoes one.
  function correctionFor(span, corrections) {
    return (corrections || []).find((c) => c.start <= span.start && span.end <= c.end) || null;
  }

  function undoButton(correction, onUndo) {
    const label = `元に戻す: ${correction.original}`;
    const button = el("button", { type: "button", className: "undo-correction", title: label, "aria-label": label }, "↶");
    button.addEventListener("click", (e) => {
      e.stopPropagation();
      onUndo(correction);
    });
    return button;
  }

  function renderMarked(node, text, spans, info, lang, corrections, onUndo) {
    node.textContent = "";
    if (lang) node.setAttribute("lang", lang);
    const chars = Array.from(text || "");
    const shown = new Set();
    let pos = 0;
    for (const span of spans || []) {
      if (span.start < pos || span.end > chars.length) continue;
      if (span.start > pos) node.appendChild(document.createTextNode(chars.slice(pos, span.start).join("")));
      const details = (info && info[span.term_id]) || null;
      const mark = el("mark", { "data-term-id": span.term_id, tabindex: "0", role: "button" });
      mark.textContent = chars.slice(span.start, span.end).join("");
      if (details && !details.reviewed) {
        mark.classList.add("draft");
        mark.appendChild(el("span", { className: "draft-label", lang: "ja" }, "未確認"));
      }
      const open = () => showTerm(span.term_id, details, lang);
      mark.addEventListener("click", open);
      mark.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          open();
        }
      });
      node.appendChild(mark);
      const correction = onUndo ? correctionFor(span, corrections) : null;
      if (correction && !shown.has(correction)) {
        shown.add(correction);
        mark.classList.add("corrected");
        mark.title = `聞き取り: ${correction.original}`;
        node.appendChild(undoButton(correction, onUndo));
      }
      pos = span.end;
    }
    if (pos < chars.length) node.appendChild(document.createTextNode(chars.slice(pos).join("")));
    for (const correction of corrections || []) {
      if (!onUndo || shown.has(correction)) continue;
      const note = el("span", { className: "correction-note", lang: "ja" }, ` 補正: ${correction.original}→${correction.replacement}`);
      note.appendChild(undoButton(correction, onUndo));
      node.appendChild(note);
    }
  }

  function undoCorrection(turnId, text, correction) {
    const chars = Array.from(text || "");
    const reverted = chars.slice(0, correction.start).join("") + correction.original + chars.slice(correction.end).join("");
    send({ type: "edit", turn_id: turnId, text: reverted });
  }

  function showTerm(termId, details, lang) {
    const popup = $("term-popup");
    const body = popup.querySelector(".body");
    body.textContent = "";
    if (!details) {
      body.appendChild(el("p", null, termId));
    } else {
      body.appendChild(el("p", { className: "term-ja", lang: "ja" }, `${details.ja}（${details.reading}）`));
      if (details.withheld) {
        body.appendChild(el("p", { className: "unreviewed", lang: "ja" },
          "未確認の用語のため、訳語は表示していません（確認済みのみのモード）。"));
      }
      if (lang && lang !== "ja" && details.translation) {
        body.appendChild(el("p", { className: "term-tr", lang }, details.translation));
      }
      const resident = state.residentLanguage;
      if (resident && details.translations && details.translations[resident] && resident !== lang) {
        body.appendChild(el("p", { className: "term-tr", lang: resident }, details.translations[resident]));
      }
      if (details.easy_ja) body.appendChild(el("p", { lang: "ja" }, details.easy_ja));
      if (details.explanation_en) body.appendChild(el("p", { lang: "en" }, details.explanation_en));
      body.appendChild(
        el("p", { className: details.reviewed ? "reviewed" : "unreviewed", lang: "ja" },
          details.reviewed ? "確認済みの用語" : "未確認（翻訳者の確認前）の用語"),
      );
      body.appendChild(el("p", { className: "term-id", lang: "en" }, termId));
    }
    popup.hidden = false;
    popup.querySelector(".close").focus();
  }

  // ---------------------------------------------------------------- turns

  function sideOf(speaker, mine) {
    // The speaker's own side shows what was heard; the other side shows the translation.
    const speakerSide = speaker === "clerk" ? "clerk" : "resident";
    const other = speaker === "clerk" ? "resident" : "clerk";
    return mine ? speakerSide : other;
  }

  function turnNode(turnId, speaker, mine) {
    const side = sideOf(speaker, mine);
    const list = $(`${side}-turns`);
    let node = list.querySelector(`li[data-turn-id="${CSS.escape(turnId)}"]`);
    if (node) return node;
    node = el("li", { className: `turn ${mine ? "mine" : "theirs"} from-${speaker}`, "data-turn-id": turnId });
    if (mine) {
      node.appendChild(el("p", { className: "heard pending" }, "…"));
      const tools = el("div", { className: "tools" });
      const edit = el("button", { type: "button", className: "edit" }, side === "clerk" ? "修正" : "✎");
      edit.setAttribute("aria-label", side === "clerk" ? "聞き取り結果を修正" : "Edit");
      edit.addEventListener("click", () => startEdit(turnId, speaker));
      tools.appendChild(edit);
      node.appendChild(tools);
      node.appendChild(el("p", { className: "back" }));
    } else {
      node.appendChild(el("p", { className: "translation pending" }, "…"));
      const tools = el("div", { className: "tools" });
      const replay = el("button", { type: "button", className: "replay" }, "▶");
      replay.setAttribute("aria-label", side === "clerk" ? "もう一度再生" : "Replay");
      replay.hidden = true;
      replay.addEventListener("click", () => replayTurn(turnId));
      tools.appendChild(replay);
      node.appendChild(tools);
      node.appendChild(el("p", { className: "turn-notice" }));
    }
    list.appendChild(node);
    node.scrollIntoView({ block: "nearest" });
    return node;
  }

  function startEdit(turnId, speaker) {
    const node = turnNode(turnId, speaker, true);
    const heard = node.querySelector(".heard");
    if (node.querySelector("form")) return;
    const form = el("form", { className: "edit-form" });
    const input = el("textarea", { rows: "2", lang: heard.getAttribute("lang") || "" });
    input.value = heard.textContent.replace(/未確認/g, "");
    input.setAttribute("aria-label", speaker === "clerk" ? "修正した文" : "Corrected text");
    const ok = el("button", { type: "submit" }, speaker === "clerk" ? "訳し直す" : "OK");
    form.append(input, ok);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const text = input.value.trim();
      if (text) send({ type: "edit", turn_id: turnId, text });
      form.remove();
    });
    node.insertBefore(form, heard.nextSibling);
    input.focus();
  }

  // The tentative transcript: greyed, on the speaker's side, replaced by the turn once it starts.
  function liveNode(speaker) {
    const list = $(`${speaker === "clerk" ? "clerk" : "resident"}-turns`);
    let node = list.querySelector("li.live");
    if (!node) {
      node = el("li", { className: `turn mine live from-${speaker}` });
      node.appendChild(el("p", { className: "heard tentative" }));
      node.setAttribute("aria-live", "polite");
      list.appendChild(node);
    }
    return node;
  }

  function clearLive() {
    for (const node of document.querySelectorAll("li.live")) node.remove();
  }

  function onTranscriptPartial(msg) {
    const node = liveNode(msg.speaker);
    const heard = node.querySelector(".heard");
    heard.lang = msg.language || "";
    heard.textContent = "";
    const stable = msg.text.startsWith(msg.stable) ? msg.stable : "";
    heard.appendChild(el("span", { className: "stable" }, stable));
    heard.appendChild(el("span", { className: "unstable" }, msg.text.slice(stable.length)));
    node.scrollIntoView({ block: "nearest" });
    stats.partials += 1;
    if (msg.index === 0 && state.talkStartAt !== null) {
      stats.firstPartialMs.push(Math.round(performance.now() - state.talkStartAt));
    }
  }

  function onTurnStarted(msg) {
    clearLive();
    state.turns[msg.turn_id] = { speaker: msg.speaker };
    if (state.stopAt !== null) {
      state.turnStopAt[msg.turn_id] = state.stopAt;
      state.stopAt = null;
    }
    state.turnAudio[msg.turn_id] = [];
    turnNode(msg.turn_id, msg.speaker, true);
    const other = turnNode(msg.turn_id, msg.speaker, false);
    other.querySelector(".translation").classList.add("pending");
  }

  function onTranscript(msg) {
    const node = turnNode(msg.turn_id, msg.speaker, true);
    const heard = node.querySelector(".heard");
    heard.classList.remove("pending");
    const ruby = $("furigana") && $("furigana").checked && msg.language === "ja" && typeof msg.ruby_html === "string";
    if (ruby) renderRuby(heard, msg.ruby_html);
    else {
      const undo = (c) => undoCorrection(msg.turn_id, msg.text, c);
      renderMarked(heard, msg.text, msg.terms, msg.term_info, msg.language, msg.corrections, undo);
    }
    if (msg.kind === "phrase") node.querySelector(".edit").hidden = true;
    if (!msg.text) heard.textContent = msg.speaker === "clerk" ? "（聞き取れませんでした）" : "…?";
  }

  // The ONE place where HTML from the server enters the page: Easy Japanese with furigana. The server
  // builds it with every piece of text HTML-escaped (edge/easy_ja/furigana.py); only <ruby>/<rt> remain.
  function renderRuby(node, html) {
    node.innerHTML = html;
    node.lang = "ja";
  }

  function onTranslation(msg) {
    const node = turnNode(msg.turn_id, msg.speaker, false);
    const tr = node.querySelector(".translation");
    tr.classList.remove("pending");
    if (msg.language === "ja-easy" && typeof msg.ruby_html === "string") renderRuby(tr, msg.ruby_html);
    else renderMarked(tr, msg.text, msg.terms, msg.term_info, msg.language);
    if (msg.engine === "phrasebook") {
      node.classList.add("phrase");
      // "unreviewed" is the clerk's information: shown beside the Japanese, not to the resident.
      const heard = turnNode(msg.turn_id, msg.speaker, true).querySelector(".heard");
      if (msg.reviewed === false && !heard.querySelector(".draft-label")) {
        heard.appendChild(el("span", { className: "draft-label", lang: "ja" }, "未確認"));
      }
    }
    if (msg.flagged) node.classList.add("flagged");
    if (msg.maybe_cut && !tr.querySelector(".maybe-cut")) {
      // Decoding stopped at the model's maximum length: never show a cut translation as complete.
      const label = msg.speaker === "clerk" ? "(may be cut)" : "（途中で切れている可能性があります）";
      tr.appendChild(el("span", { className: "maybe-cut", lang: msg.speaker === "clerk" ? "en" : "ja" }, label));
    }
    const mine = turnNode(msg.turn_id, msg.speaker, true);
    if (msg.verified && !mine.querySelector(".verified")) {
      // The utterance read like a phrase-book sentence: its verified translation was served, not MT.
      mine.querySelector(".heard").appendChild(el("span", { className: "verified", lang: "ja", title: msg.verified.ja }, "✔ 定型文"));
      tr.appendChild(el("span", { className: "verified", "aria-label": "verified" }, " ✔"));
    }
    const old = mine.querySelector(".confirm-speak");
    if (old) old.remove();
    if (msg.awaiting_confirm) {
      const lang = msg.speaker === "clerk" ? "ja" : state.residentLanguage || "en";
      const label = msg.speaker === "clerk" ? "OK、読み上げる" : residentText("ok_speak", lang) || "OK ▶";
      const button = el("button", { type: "button", className: "confirm-speak", lang }, label);
      button.addEventListener("click", () => {
        audioContext();
        send({ type: "speak", turn_id: msg.turn_id });
        button.remove();
      });
      mine.querySelector(".tools").appendChild(button);
    }
  }

  function onSpeechEnd(msg) {
    stats.speechEnded += 1;
    const info = state.turns[msg.turn_id];
    if (info) turnNode(msg.turn_id, info.speaker, false).dataset.spoken = String(msg.chunks);
  }

  function onGlossary(msg) {
    if (state.status) state.status.glossary = { version: msg.version, source: msg.source };
    renderFooter();
    fetch("/api/phrases")
      .then((r) => r.json())
      .then((phrases) => {
        state.phrases = phrases.situations || [];
        buildPhrases();
      })
      .catch(() => {});
  }

  function renderFooter() {
    const glossary = (state.status && state.status.glossary) || {};
    const source = glossary.source === "synced" ? "配信" : glossary.source === "bundled" ? "同梱" : "";
    $("glossary-version").textContent = `用語集 ${glossary.version || "—"}${source ? ` (${source})` : ""}`;
    $("glossary-version").dataset.version = glossary.version || "";
  }

  function onBackTranslation(msg) {
    const node = turnNode(msg.turn_id, msg.speaker, true);
    const back = node.querySelector(".back");
    back.textContent = "";
    const speakerLang = msg.language;
    const label = msg.speaker === "clerk" ? "逆翻訳" : residentText("back_translation", speakerLang);
    back.appendChild(el("span", { className: "label" }, label + ": "));
    if (msg.available) {
      back.appendChild(el("span", { lang: speakerLang }, msg.text));
    } else {
      back.appendChild(el("span", { className: "unavailable", lang: "en" }, `— (${msg.reason || "unavailable"})`));
    }
  }

  function addNotice(side, text, code, isError) {
    const box = $(`${side}-notices`);
    const item = el("p", { className: isError ? "error" : "notice", lang: "en", "data-code": code || "" }, text);
    box.appendChild(item);
    while (box.childNodes.length > 4) box.removeChild(box.firstChild);
  }

  function onNotice(msg, isError) {
    (isError ? stats.errors : stats.notices).push(msg.code || "");
    addNotice("clerk", msg.text, msg.code, isError);
    if (msg.turn_id && msg.code === "voice_missing") {
      const info = state.turns[msg.turn_id];
      if (info) {
        const node = turnNode(msg.turn_id, info.speaker, false);
        node.querySelector(".turn-notice").textContent = info.speaker === "clerk" ? "(text only)" : "（音声なし・文字のみ）";
      }
    }
    if (msg.turn_id && isError) {
      const info = state.turns[msg.turn_id];
      if (info) {
        const node = turnNode(msg.turn_id, info.speaker, true);
        const heard = node.querySelector(".heard");
        if (heard.classList.contains("pending")) heard.textContent = "⚠";
      }
    }
  }

  function onState(msg) {
    state.residentLanguage = msg.resident_language;
    state.locked = msg.locked;
    state.proposed = msg.proposed_language;
    state.busy = msg.busy;
    document.body.classList.toggle("busy", !!msg.busy);
    document.body.dataset.turns = String(msg.turns);
    document.body.dataset.residentLanguage = msg.resident_language || "";
    document.body.dataset.locked = msg.locked ? "1" : "0";
    state.serverRecording = msg.recording;
    if (!msg.recording && !msg.busy) clearLive();
    for (const button of document.querySelectorAll(".talk")) {
      const on = !!(msg.recording && msg.recording.speaker === button.dataset.speaker);
      button.classList.toggle("recording", on);
      button.setAttribute("aria-pressed", on ? "true" : "false");
    }
    renderResidentSide();
  }

  function clearConversation() {
    for (const id of ["clerk-turns", "resident-turns", "clerk-notices", "resident-notices"]) $(id).textContent = "";
    state.turns = {};
    state.turnAudio = {};
    state.turnStopAt = {};
    state.stopAt = null;
    clearLive();
    $("term-popup").hidden = true;
    $("clerk-text").value = "";
    $("resident-text").value = "";
    stopPlayback();
  }

  // ---------------------------------------------------------------- resident side

  // How the chosen language is spoken: Japanese for Easy Japanese, a low-quality machine voice, or no
  // voice at all (text only). A language with a neural voice needs no line.
  function voiceKind(lang) {
    const code = lang === "ja-easy" ? "ja" : lang;
    const row = state.status && state.status.languages.find((r) => r.code === code);
    if (!row || !row.voice) return "none";
    if (row.voice_quality === "machine") return "machine";
    return lang === "ja-easy" ? "japanese" : "";
  }

  function renderVoiceLine(lang) {
    const line = $("resident-voice");
    const kind = lang ? voiceKind(lang) : "";
    line.hidden = !kind;
    line.dataset.voice = kind;
    line.setAttribute("lang", lang || "en");
    line.textContent = kind ? residentText(`voice_${kind}`, lang) : "";
  }

  function renderResidentSide() {
    const lang = state.residentLanguage;
    const resident = $("resident");
    resident.setAttribute("lang", lang || "en");
    $("picker-area").hidden = !!state.locked;
    const confirm = $("confirm");
    if (state.proposed && !state.locked) {
      confirm.hidden = false;
      confirm.setAttribute("lang", state.proposed);
      $("confirm-text").textContent = `${residentText("confirm_language", state.proposed)} — ${nativeName(state.proposed)}`;
      $("confirm-yes").textContent = residentText("yes", state.proposed);
      $("confirm-other").textContent = "≠";
      $("confirm-other").setAttribute("aria-label", "Choose another language");
    } else {
      confirm.hidden = true;
    }
    const chosen = $("resident-language");
    chosen.hidden = !state.locked;
    chosen.textContent = state.locked ? nativeName(lang) : "";
    renderVoiceLine(state.locked ? lang : null);
    const shown = lang || "en";
    $("promise").textContent = state.texts ? state.texts.promise[shown] || state.texts.promise.en : "";
    $("promise").setAttribute("lang", shown);
    $("not-official").textContent = state.texts ? state.texts.not_official[shown] || state.texts.not_official.en : "";
    $("not-official").setAttribute("lang", shown);
    $("resident-talk").setAttribute("lang", shown);
    renderTalkLabels();
    for (const button of $("picker").querySelectorAll("button")) {
      button.setAttribute("aria-pressed", button.dataset.lang === lang ? "true" : "false");
    }
  }

  // Push-to-talk says "hold"; hands-free says "tap to start", then "Listening…" while it listens.
  function renderTalkLabels() {
    const handsfree = $("handsfree").checked;
    const rec = state.serverRecording || state.recording;
    const listening = (speaker) => !!(rec && rec.mode === "handsfree" && rec.speaker === speaker);
    const clerk = $("clerk-talk");
    clerk.textContent = !handsfree
      ? "押しながら話す（スペースキー）"
      : listening("clerk") ? "聞いています…（タップで停止）" : "タップして聞き取り開始";
    clerk.dataset.mode = !handsfree ? "ptt" : listening("clerk") ? "listening" : "handsfree";
    const lang = state.residentLanguage || "en";
    const resident = $("resident-talk");
    const key = !handsfree ? "hold_to_speak" : listening("resident") ? "listening" : "start_listening";
    resident.textContent = residentText(key, lang);
    resident.dataset.mode = !handsfree ? "ptt" : listening("resident") ? "listening" : "handsfree";
  }

  function buildPicker() {
    const picker = $("picker");
    picker.textContent = "";
    const codes = [...(state.texts.resident_languages || []), ...(state.texts.extra_picker_languages || [])];
    for (const code of codes) {
      const row = state.status && state.status.languages.find((r) => r.code === code);
      const button = el("button", { type: "button", lang: code, "data-lang": code, className: "lang" }, nativeName(code));
      if (row && !row.voice) button.appendChild(el("span", { className: "badge", "aria-hidden": "true", title: "text only" }, "(text)"));
      if (row && row.voice_quality === "machine") {
        button.appendChild(el("span", { className: "badge machine-voice", title: "low-quality machine voice (espeak-ng)" }, "(machine voice)"));
      }
      button.addEventListener("click", () => send({ type: "set_language", language: code }));
      picker.appendChild(button);
    }
  }

  // ---------------------------------------------------------------- phrase book

  function buildPhrases() {
    const root = $("phrase-groups");
    root.textContent = "";
    const query = $("phrase-search").value.trim().toLowerCase();
    for (const group of state.phrases) {
      const matches = group.phrases.filter((p) => {
        if (!query) return true;
        const hay = [p.ja, p.easy_ja, p.id, ...Object.values(p.translations)].join(" ").toLowerCase();
        return hay.includes(query);
      });
      if (!matches.length) continue;
      const box = el("section", { className: "phrase-group" });
      box.appendChild(el("h3", null, `${group.label.ja}`));
      for (const phrase of matches) {
        const button = el("button", { type: "button", className: "phrase", "data-phrase-id": phrase.id }, phrase.ja);
        if (!phrase.reviewed) button.appendChild(el("span", { className: "draft-label" }, "未確認"));
        button.addEventListener("click", () => {
          if (!state.residentLanguage) {
            addNotice("clerk", "choose the resident's language first / 先に相手の言語を選んでください", "no_language", true);
            return;
          }
          send({ type: "phrase", phrase_id: phrase.id });
        });
        box.appendChild(button);
      }
      root.appendChild(box);
    }
  }

  // ---------------------------------------------------------------- speech out

  const player = { ctx: null, gain: null, nextTime: 0, sources: new Set(), idleTimer: null };

  function audioContext() {
    if (!player.ctx) {
      player.ctx = new (window.AudioContext || window.webkitAudioContext)();
      player.gain = player.ctx.createGain();
      player.gain.gain.value = Number($("volume").value);
      player.gain.connect(player.ctx.destination);
    }
    if (player.ctx.state === "suspended") player.ctx.resume();
    return player.ctx;
  }

  function setPlaying(on) {
    if (state.playing === on) return;
    state.playing = on;
    send({ type: "playback", playing: on });
  }

  function base64ToBuffer(b64) {
    const bin = atob(b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return bytes.buffer;
  }

  async function playWav(b64, turnId) {
    const ctx = audioContext();
    let buffer;
    try {
      buffer = await ctx.decodeAudioData(base64ToBuffer(b64));
    } catch (err) {
      addNotice("clerk", `audio could not be decoded: ${err}`, "audio_decode", true);
      return;
    }
    clearTimeout(player.idleTimer);
    setPlaying(true);
    const source = ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(player.gain);
    const at = Math.max(ctx.currentTime + 0.02, player.nextTime);
    player.nextTime = at + buffer.duration;
    const delayMs = Math.max(0, (at - ctx.currentTime) * 1000);
    setTimeout(() => {
      stats.chunksStarted += 1;
      const stoppedAt = turnId ? state.turnStopAt[turnId] : undefined;
      if (stoppedAt !== undefined) {
        stats.latenciesMs.push(Math.round(performance.now() - stoppedAt));
        delete state.turnStopAt[turnId];
      }
    }, delayMs);
    source.onended = () => {
      stats.chunksPlayed += 1;
      player.sources.delete(source);
      if (player.sources.size === 0) {
        player.idleTimer = setTimeout(() => setPlaying(false), 300); // the room echo dies down first
      }
    };
    player.sources.add(source);
    source.start(at);
  }

  function stopPlayback() {
    for (const source of player.sources) {
      try {
        source.stop();
      } catch (_e) {
        /* already stopped */
      }
    }
    player.sources.clear();
    player.nextTime = 0;
    setPlaying(false);
  }

  function onSpeechAudio(msg) {
    stats.chunksReceived += 1;
    (state.turnAudio[msg.turn_id] = state.turnAudio[msg.turn_id] || []).push(msg.wav_base64);
    const info = state.turns[msg.turn_id];
    if (info) turnNode(msg.turn_id, info.speaker, false).querySelector(".replay").hidden = false;
    playWav(msg.wav_base64, msg.turn_id);
  }

  function replayTurn(turnId) {
    for (const wav of state.turnAudio[turnId] || []) playWav(wav, null);
  }

  // ---------------------------------------------------------------- microphone

  async function openBrowserMic() {
    if (state.capture) return state.capture;
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
    const ctx = new (window.AudioContext || window.webkitAudioContext)();
    const source = ctx.createMediaStreamSource(stream);
    const sink = ctx.createGain();
    sink.gain.value = 0;
    sink.connect(ctx.destination);
    let node;
    const onPcm = (buffer) => {
      if (state.recording && state.recording.source === "browser" && !state.playing) state.ws.send(buffer);
    };
    if (ctx.audioWorklet) {
      await ctx.audioWorklet.addModule("/static/capture-worklet.js");
      node = new AudioWorkletNode(ctx, "pcm16-downsampler", {
        processorOptions: { targetRate: TARGET_RATE, frameSamples: 1600 },
      });
      node.port.onmessage = (e) => onPcm(e.data);
    } else {
      // Older browsers: ScriptProcessor with the same decimation.
      node = ctx.createScriptProcessor(4096, 1, 1);
      const ratio = ctx.sampleRate / TARGET_RATE;
      let pos = 0;
      node.onaudioprocess = (e) => {
        const input = e.inputBuffer.getChannelData(0);
        const out = [];
        for (; pos < input.length; pos += ratio) out.push(input[Math.floor(pos)]);
        pos -= input.length;
        const pcm = new Int16Array(out.length);
        out.forEach((v, i) => (pcm[i] = Math.max(-1, Math.min(1, v)) * 0x7fff));
        onPcm(pcm.buffer);
      };
    }
    source.connect(node);
    node.connect(sink);
    state.capture = { ctx, node, stream };
    return state.capture;
  }

  async function startTalking(speaker) {
    audioContext(); // a user gesture: unlock audio output now
    if (state.busy) {
      addNotice("clerk", "翻訳中です。少しお待ちください。", "busy", false);
      return;
    }
    stopPlayback();
    state.pressed = speaker;
    const choice = $("mic-source").value;
    const source = choice === "browser" ? "browser" : "device";
    const device = choice.startsWith("device:") ? Number(choice.slice("device:".length)) : null;
    const mode = $("handsfree").checked ? "handsfree" : "ptt";
    if (source === "browser") {
      try {
        const capture = await openBrowserMic();
        if (capture.ctx.state === "suspended") await capture.ctx.resume();
      } catch (err) {
        addNotice("clerk", `microphone unavailable: ${err.message || err} (https or localhost needed)`, "mic", true);
        return;
      }
    }
    if (mode === "ptt" && state.pressed !== speaker) return; // released before the mic opened
    state.recording = { speaker, mode, source };
    state.talkStartAt = performance.now();
    clearLive();
    send({ type: "start", speaker, mode, sample_rate: TARGET_RATE, source, device });
    renderTalkLabels();
  }

  function stopTalking() {
    state.pressed = null;
    for (const done of document.querySelectorAll(".done")) done.hidden = true;
    if (!state.recording) return;
    if (state.recording.mode === "ptt") state.stopAt = performance.now();
    state.recording = null;
    send({ type: "stop" });
    renderTalkLabels();
  }

  function bindDoneButtons() {
    for (const done of document.querySelectorAll(".done")) {
      done.addEventListener("click", () => {
        done.hidden = true;
        if (state.recording && state.recording.mode === "handsfree") send({ type: "end_utterance" });
      });
    }
  }

  function bindTalkButton(button) {
    const speaker = button.dataset.speaker;
    const handsfree = () => $("handsfree").checked;
    button.addEventListener("pointerdown", (e) => {
      e.preventDefault();
      if (handsfree()) {
        if (state.recording) stopTalking();
        else startTalking(speaker);
      } else {
        button.setPointerCapture && button.setPointerCapture(e.pointerId);
        startTalking(speaker);
      }
    });
    const release = () => {
      if (!handsfree() && state.recording && state.recording.speaker === speaker) stopTalking();
    };
    button.addEventListener("pointerup", release);
    button.addEventListener("pointercancel", release);
    // Keyboard: Enter toggles; Space is handled globally (hold to talk).
    button.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.repeat) {
        e.preventDefault();
        if (state.recording) stopTalking();
        else startTalking(speaker);
      }
    });
  }

  function typingTarget(node) {
    return node && (node.tagName === "INPUT" || node.tagName === "TEXTAREA" || node.tagName === "SELECT");
  }

  document.addEventListener("keydown", (e) => {
    if (e.code !== "Space" || e.repeat || typingTarget(document.activeElement)) return;
    const focused = document.activeElement;
    if (focused && focused.tagName === "BUTTON" && !focused.classList.contains("talk")) return;
    e.preventDefault();
    const speaker = focused && focused.id === "resident-talk" ? "resident" : "clerk";
    if ($("handsfree").checked) {
      if (state.recording) stopTalking();
      else startTalking(speaker);
    } else {
      startTalking(speaker);
    }
  });
  document.addEventListener("keyup", (e) => {
    if (e.code !== "Space" || typingTarget(document.activeElement)) return;
    if (!$("handsfree").checked) {
      e.preventDefault();
      stopTalking();
    }
  });

  // ---------------------------------------------------------------- connection

  const handlers = {
    hello: (msg) => setClerkVoice(msg.speak_to_clerk !== false, false),
    state: onState,
    turn_started: onTurnStarted,
    transcript: onTranscript,
    transcript_partial: onTranscriptPartial,
    translation: onTranslation,
    back_translation: onBackTranslation,
    speech_audio: onSpeechAudio,
    speech_end: onSpeechEnd,
    glossary: onGlossary,
    notice: (m) => onNotice(m, false),
    error: (m) => onNotice(m, true),
    vad: (m) => {
      document.body.classList.toggle("speech", m.event === "speech_started");
      // Hands-free: while someone speaks, "done" ends the utterance at once (no waiting for silence).
      for (const done of document.querySelectorAll(".done")) {
        const mine = state.recording && state.recording.speaker === done.dataset.speaker;
        done.hidden = !(mine && m.event === "speech_started");
      }
      if (m.event === "speech_stopped") state.stopAt = performance.now();
    },
    turn_end: (m) => {
      stats.turnsEnded += 1;
      if ((state.turnAudio[m.turn_id] || []).length) stats.firstAudioBeforeTurnEnd += 1;
      if (m.timings_ms) stats.serverTimingsMs.push(m.timings_ms);
      const info = state.turns[m.turn_id];
      if (info) {
        const tr = turnNode(m.turn_id, info.speaker, false).querySelector(".translation");
        if (tr.classList.contains("pending")) {
          // No MT path: show the speaker's own words, labelled, rather than nothing.
          tr.classList.remove("pending");
          tr.classList.add("untranslated");
          const heard = turnNode(m.turn_id, info.speaker, true).querySelector(".heard");
          tr.textContent = "";
          tr.appendChild(el("span", { className: "label" }, info.speaker === "clerk" ? "(no translation) " : "（翻訳なし・原文）"));
          const original = el("span", { lang: heard.getAttribute("lang") || "" }, heard.textContent);
          tr.appendChild(original);
        }
      }
      const node = document.querySelector(`#clerk-turns li[data-turn-id="${CSS.escape(m.turn_id)}"]`);
      if (node) node.dataset.engine = m.engine || "";
    },
    conversation_ended: (m) => {
      clearConversation();
      if (m.reason === "idle") addNotice("clerk", "操作がなかったため会話を消去しました。", "idle", false);
    },
  };

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws`);
    ws.binaryType = "arraybuffer";
    state.ws = ws;
    ws.onopen = () => {
      $("connection").textContent = "接続済み";
      document.body.dataset.connected = "1";
      ws.send(JSON.stringify({ type: "hello", protocol: PROTOCOL }));
    };
    ws.onmessage = (event) => {
      if (typeof event.data !== "string") return;
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch (_e) {
        return;
      }
      const handler = handlers[msg.type];
      if (handler) handler(msg);
    };
    ws.onclose = () => {
      document.body.dataset.connected = "0";
      $("connection").textContent = "接続が切れました。再接続します…";
      clearConversation(); // the server erased this conversation
      setTimeout(connect, 1000);
    };
  }

  // ---------------------------------------------------------------- status and controls

  function renderStatus() {
    const body = $("status-table").querySelector("tbody");
    body.textContent = "";
    for (const row of state.status.languages) {
      const tr = el("tr");
      tr.appendChild(el("th", { scope: "row", lang: row.code }, `${row.native_name} (${row.code})`));
      tr.appendChild(el("td", null, row.asr ? "✓" : "✗"));
      tr.appendChild(el("td", null, row.code === "ja" ? "—" : row.mt_to_resident || "✗"));
      tr.appendChild(el("td", null, row.code === "ja" ? "—" : row.mt_to_staff || "✗"));
      const voice = row.voice ? (row.voice_quality === "machine" ? `${row.voice} (machine voice, low quality)` : row.voice) : "text only";
      tr.appendChild(el("td", { className: row.voice_quality === "machine" ? "machine-voice" : "" }, voice));
      tr.appendChild(el("td", null, (row.notes || []).join("; ")));
      body.appendChild(tr);
    }
  }

  function applyFont() {
    document.documentElement.style.setProperty("--font-scale", String(state.fontScale));
    localStorage.setItem("madoguchi.fontScale", String(state.fontScale));
  }

  function setClerkVoice(on, tell) {
    const button = $("clerk-voice");
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.textContent = on ? "返事を音声で聞く：オン" : "返事を音声で聞く：オフ";
    if (tell) send({ type: "clerk_voice", on });
  }

  function bindControls() {
    $("clerk-voice").addEventListener("click", () => {
      setClerkVoice($("clerk-voice").getAttribute("aria-pressed") !== "true", true);
    });
    $("font-up").addEventListener("click", () => {
      state.fontScale = Math.min(2.5, +(state.fontScale + 0.15).toFixed(2));
      applyFont();
    });
    $("font-down").addEventListener("click", () => {
      state.fontScale = Math.max(0.7, +(state.fontScale - 0.15).toFixed(2));
      applyFont();
    });
    $("flip").addEventListener("click", () => {
      const on = document.body.classList.toggle("flipped");
      $("flip").setAttribute("aria-pressed", on ? "true" : "false");
    });
    $("volume").addEventListener("input", () => {
      if (player.gain) player.gain.gain.value = Number($("volume").value);
    });
    $("end").addEventListener("click", () => {
      stopTalking();
      clearConversation();
      send({ type: "end_conversation" });
    });
    $("interpreter-button").addEventListener("click", () => {
      const note = $("interpreter-note");
      note.hidden = !note.hidden;
      $("interpreter-button").setAttribute("aria-expanded", note.hidden ? "false" : "true");
    });
    $("status-button").addEventListener("click", () => {
      const panel = $("status-panel");
      panel.hidden = !panel.hidden;
      $("status-button").setAttribute("aria-expanded", panel.hidden ? "false" : "true");
    });
    $("confirm-yes").addEventListener("click", () => send({ type: "set_language", language: state.proposed }));
    $("confirm-other").addEventListener("click", () => {
      $("confirm").hidden = true;
      $("picker-area").hidden = false;
      $("picker").querySelector("button").focus();
    });
    $("term-popup").querySelector(".close").addEventListener("click", () => ($("term-popup").hidden = true));
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape") $("term-popup").hidden = true;
    });
    $("phrase-search").addEventListener("input", buildPhrases);
    $("handsfree").addEventListener("change", renderTalkLabels);
    $("clerk-text-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const text = $("clerk-text").value.trim();
      if (!text) return;
      audioContext();
      send({ type: "text", speaker: "clerk", text });
      $("clerk-text").value = "";
    });
    $("resident-text-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const text = $("resident-text").value.trim();
      if (!text) return;
      audioContext();
      send({ type: "text", speaker: "resident", text });
      $("resident-text").value = "";
    });
    bindTalkButton($("clerk-talk"));
    bindTalkButton($("resident-talk"));
    bindDoneButtons();
  }

  // The clerk's microphone picker: this screen's microphone, or one of the device's input devices.
  async function loadDevices() {
    const select = $("mic-source");
    const saved = localStorage.getItem("madoguchi.micSource");
    try {
      const reply = await fetch("/api/devices").then((r) => r.json());
      for (const dev of reply.devices || []) {
        const option = el("option", { value: `device:${dev.index}` }, `本体: ${dev.name}`);
        select.appendChild(option);
      }
    } catch (_e) {
      /* no device list: the browser and default device microphones remain */
    }
    if (saved && Array.from(select.options).some((o) => o.value === saved)) select.value = saved;
    select.addEventListener("change", () => localStorage.setItem("madoguchi.micSource", select.value));
  }

  async function init() {
    applyFont();
    bindControls();
    const [texts, status, phrases] = await Promise.all(
      ["/api/texts", "/api/status", "/api/phrases"].map((url) => fetch(url).then((r) => r.json())),
    );
    state.texts = texts;
    state.status = status;
    state.phrases = phrases.situations || [];
    $("interpreter-note").textContent = texts.interpreter_note;
    renderStatus();
    renderFooter();
    loadDevices();
    buildPicker();
    buildPhrases();
    renderResidentSide();
    connect();
    document.body.dataset.ready = "1";
  }

  init();
})();
