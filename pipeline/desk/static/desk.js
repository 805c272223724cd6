// The desk's only script: long work started by a button or a dropped file runs on the server;
// this asks how far it got every half second, shows it, and reloads the page when it is done.
"use strict";

function poll(id, box, next) {
  const bar = box.querySelector("progress");
  const text = box.querySelector(".job-message");
  if (bar) bar.hidden = false;
  fetch("/viec/" + id, {headers: {Accept: "application/json"}})
    .then((r) => r.json())
    .then((j) => {
      if (bar) {
        if (j.total) { bar.max = j.total; bar.value = j.done; } else { bar.removeAttribute("value"); }
      }
      if (j.state === "done") {
        if (text) text.textContent = (j.result && j.result.text) || "Xong.";
        window.location.href = next || window.location.pathname + window.location.search.replace(/[?&]viec=\d+/, "");
      } else if (j.state === "failed") {
        if (bar) bar.hidden = true;
        if (text) { text.textContent = j.message; text.classList.add("error"); }
        box.querySelectorAll("button").forEach((b) => { b.disabled = false; });
      } else {
        if (text) text.textContent = j.message || (j.state === "queued" ? "Đang chờ đến lượt…" : "Đang chạy…");
        setTimeout(() => poll(id, box, next), 400);
      }
    })
    .catch(() => setTimeout(() => poll(id, box, next), 1000));
}

function send(form, body) {
  const text = form.querySelector(".job-message");
  form.querySelectorAll("button").forEach((b) => { b.disabled = true; });
  fetch(form.action, {method: "POST", body: body, headers: {Accept: "application/json"}})
    .then((r) => r.json().then((j) => ({ok: r.ok, j: j})))
    .then(({ok, j}) => {
      if (!ok || j.error) {
        if (text) { text.textContent = j.error || "Không thực hiện được."; text.classList.add("error"); }
        form.querySelectorAll("button").forEach((b) => { b.disabled = false; });
        return;
      }
      poll(j.job, form, j.next);
    })
    .catch(() => { if (text) text.textContent = "Mất kết nối với máy chủ treem ui."; });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form.job").forEach((form) => {
    form.addEventListener("submit", (e) => { e.preventDefault(); send(form, new FormData(form)); });
  });
  const drop = document.getElementById("upload");
  if (drop) {
    const input = drop.querySelector("input[type=file]");
    const upload = (files) => {
      if (!files.length) return;
      const body = new FormData();
      for (const f of files) body.append("tep", f, f.name);
      const text = drop.querySelector(".job-message");
      if (text) text.textContent = "Đang tải lên " + files.length + " tệp…";
      send(drop, body);
    };
    input.addEventListener("change", () => upload(input.files));
    ["dragenter", "dragover"].forEach((t) => drop.addEventListener(t, (e) => { e.preventDefault(); drop.classList.add("over"); }));
    ["dragleave", "drop"].forEach((t) => drop.addEventListener(t, (e) => { e.preventDefault(); drop.classList.remove("over"); }));
    drop.addEventListener("drop", (e) => upload(e.dataTransfer.files));
  }
  document.querySelectorAll("button.copy").forEach((b) => {
    b.addEventListener("click", () => {
      const area = b.previousElementSibling;
      area.select();
      const done = () => { b.textContent = "Đã chép"; };
      if (navigator.clipboard) navigator.clipboard.writeText(area.value).then(done, () => { document.execCommand("copy"); done(); });
      else { document.execCommand("copy"); done(); }
    });
  });
  const busy = document.querySelector(".busy[data-job]");
  if (busy) poll(busy.dataset.job, busy, window.location.pathname + window.location.search.replace(/[?&]viec=\d+/, ""));
});
