// The clerk's pairing panel, on the counter device's own screen only (the server refuses it elsewhere):
// "pair a tablet" shows a short-lived code until a tablet uses it; "unpair all" revokes every tablet.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  let ticker = null;

  async function call(url, method) {
    const reply = await fetch(url, { method: method || "GET" });
    if (!reply.ok) throw new Error(`${url}: ${reply.status}`);
    return reply.json();
  }

  function showCount(status) {
    $("pairing-count").textContent = `接続中のタブレット (paired tablets): ${status.paired}`;
  }

  function hideCode(note) {
    clearInterval(ticker);
    ticker = null;
    $("pairing-code").textContent = "";
    $("pairing-left").textContent = note || "";
  }

  async function newCode() {
    hideCode();
    const reply = await call("/api/pairing/start", "POST");
    $("pairing-code").textContent = reply.code;
    let left = reply.closes_in_s;
    $("pairing-left").textContent = `(${left} s)`;
    ticker = setInterval(async () => {
      left -= 1;
      $("pairing-left").textContent = `(${Math.max(0, left)} s)`;
      if (left % 2 !== 0) return;
      const status = await call("/api/pairing").catch(() => null);
      if (!status) return;
      showCount(status);
      if (!status.active) hideCode(left > 0 ? "接続しました (paired)" : "時間切れ (expired)");
    }, 1000);
  }

  async function closePanel() {
    hideCode();
    $("pairing-panel").hidden = true;
    $("pairing-button").setAttribute("aria-expanded", "false");
    await call("/api/pairing/stop", "POST").catch(() => null);
  }

  async function init() {
    let status;
    try {
      status = await call("/api/pairing");
    } catch (_e) {
      return; // a tablet: pairing is managed on the device
    }
    if (!status.required) return;
    const button = $("pairing-button");
    button.hidden = false;
    showCount(status);
    button.addEventListener("click", async () => {
      if (!$("pairing-panel").hidden) return closePanel();
      $("pairing-panel").hidden = false;
      button.setAttribute("aria-expanded", "true");
      await newCode().catch((err) => hideCode(String(err)));
    });
    $("pairing-new").addEventListener("click", () => newCode().catch((err) => hideCode(String(err))));
    $("pairing-revoke").addEventListener("click", async () => {
      hideCode();
      const reply = await call("/api/pairing/revoke", "POST").catch(() => null);
      $("pairing-left").textContent = reply ? `解除しました (unpaired ${reply.revoked})` : "失敗 (failed)";
      const fresh = await call("/api/pairing").catch(() => null);
      if (fresh) showCount(fresh);
    });
  }

  init();
})();
