// The pairing page: send the code shown on the counter device; the server sets a cookie on success.
"use strict";

(function () {
  const form = document.getElementById("pair-form");
  const input = document.getElementById("pair-code");
  const message = document.getElementById("pair-message");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    message.textContent = "…";
    let reply;
    try {
      reply = await fetch("/api/pair", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ code: input.value.trim() }),
      });
    } catch (err) {
      message.textContent = `接続できません (${err})`;
      return;
    }
    if (reply.ok) {
      document.body.dataset.paired = "1";
      location.replace("/");
      return;
    }
    if (reply.status === 403) {
      message.textContent = "コードが違います。端末の画面を確認してください。 (Wrong code)";
    } else {
      const detail = await reply.json().then((body) => body.detail).catch(() => "");
      message.textContent = `接続できません。 (${detail || reply.status})`;
    }
    input.select();
  });
  input.focus();
})();
