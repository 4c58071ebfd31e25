// Haechi's SME self-assessment page: sends the answers and the chosen files (read as
// text in the browser) to /sme/assess and opens the report; on the report, the print
// button. Nothing is stored in the browser.
"use strict";

const MAX_FILE_BYTES = 4 * 1024 * 1024;

function status(text, isError) {
  const s = document.getElementById("status");
  s.textContent = text;
  s.className = isError ? "error" : "";
}

function readFile(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve({ name: file.name, content: r.result });
    r.onerror = () => reject(new Error(file.name + ": cannot be read"));
    r.readAsText(file);
  });
}

async function submit(ev) {
  ev.preventDefault();
  const form = ev.target;
  const company = document.getElementById("company").value.trim();
  if (!company) {
    status("Please give your company's name.", true);
    document.getElementById("company").focus();
    return;
  }
  const answers = {};
  let missing = 0;
  for (const q of form.querySelectorAll(".question")) {
    const id = q.dataset.question;
    const chosen = q.querySelector("input:checked");
    q.classList.toggle("missing", !chosen);
    if (chosen) answers[id] = chosen.value; else missing += 1;
  }
  const chosenFiles = Array.from(document.getElementById("files").files);
  for (const f of chosenFiles) {
    if (f.size > MAX_FILE_BYTES) {
      status(f.name + " is larger than 4 MiB.", true);
      return;
    }
  }
  const monitor = document.getElementById("monitor").checked;
  const contact = document.getElementById("contact").value.trim();
  if (monitor && !contact.includes("@")) {
    status("To be monitored, give a contact e-mail address.", true);
    return;
  }
  const button = document.getElementById("submit");
  button.disabled = true;
  status(missing ? missing + " question(s) unanswered count as \"don't know\". Assessing…" : "Assessing…", false);
  try {
    const files = await Promise.all(chosenFiles.map(readFile));
    const response = await fetch("/sme/assess", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        company, contact, monitor, files, answers,
        exposure: document.getElementById("exposure").value,
      }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.error || ("the server answered " + response.status));
    window.location.assign(body.report);
  } catch (e) {
    status(e.message, true);
    button.disabled = false;
  }
}

const form = document.getElementById("sme");
if (form) form.addEventListener("submit", submit);
const print = document.getElementById("print");
if (print) print.addEventListener("click", () => window.print());
