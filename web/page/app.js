// The page: reads the file the user gives, passes it with the form's choices
// to the engine (WebAssembly, embedded in engine.js) and shows what comes back.
"use strict";

const state = { name: "", bytes: null, engine: null };

async function engine() {
  if (state.engine) return state.engine;
  const binary = Uint8Array.from(atob(window.COCHRAN_WASM), (c) => c.charCodeAt(0));
  const module = await WebAssembly.compile(binary);
  // The plotting library links browser bindings that the engine never calls
  // (it draws SVG as text): each import is a stub that says so if it is.
  const imports = {};
  for (const entry of WebAssembly.Module.imports(module)) {
    (imports[entry.module] ||= {})[entry.name] = () => {
      throw new Error(`the engine called ${entry.name}, which the page does not provide`);
    };
  }
  const instance = await WebAssembly.instantiate(module, imports);
  state.engine = instance.exports;
  return state.engine;
}

function put(exports, bytes) {
  const pointer = exports.cochran_alloc(bytes.length);
  new Uint8Array(exports.memory.buffer, pointer, bytes.length).set(bytes);
  return pointer;
}

async function analyse(request, bytes) {
  const e = await engine();
  const requestBytes = new TextEncoder().encode(JSON.stringify(request));
  const rp = put(e, requestBytes);
  const fp = put(e, bytes);
  const out = e.cochran_analyze(rp, requestBytes.length, fp, bytes.length);
  e.cochran_free(rp, Math.max(requestBytes.length, 1));
  e.cochran_free(fp, Math.max(bytes.length, 1));
  const length = new DataView(e.memory.buffer, out, 4).getUint32(0, true);
  const text = new TextDecoder().decode(new Uint8Array(e.memory.buffer, out + 4, length));
  e.cochran_free(out, length + 4);
  return JSON.parse(text);
}

function setFile(name, bytes) {
  state.name = name;
  state.bytes = bytes;
  document.getElementById("file-name").textContent = `File: ${name} (${bytes.length} bytes)`;
  document.getElementById("columns").value = "";
  document.getElementById("sheet").value = "";
  inspect();
}

// The columns the measure needs, each with the file's column it is read
// from: found, recognised, or guessed (and then put in the column mapping,
// as the command line's --columns would take it).
let inspections = 0;
async function inspect() {
  // A file loaded and a measure changed at once start two inspections: only
  // the latest may fill the mapping (an older one would map the old measure's columns).
  const mine = ++inspections;
  const box = document.getElementById("mapping");
  box.innerHTML = "";
  if (!state.bytes) return;
  const response = await analyse({ ...request(), columns: "", inspect: true }, state.bytes);
  if (mine !== inspections || !response.ok) return;
  const table = document.createElement("table");
  table.className = "mapping";
  const caption = document.createElement("caption");
  caption.textContent = `Columns ${document.getElementById("measure").value} needs, and where they are read from`;
  table.appendChild(caption);
  const words = { found: "found", recognised: "recognised", guessed: "guessed: please check", missing: "missing" };
  for (const use of response.columns) {
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    const id = `map-${use.needed}`;
    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = use.needed;
    th.appendChild(label);
    const select = document.createElement("select");
    select.id = id;
    select.dataset.needed = use.needed;
    const none = new Option("— (not in the file)", "");
    select.appendChild(none);
    for (const header of response.headers) select.appendChild(new Option(header, header));
    const chosen = use.how === "guessed" ? use.header : use.how === "missing" ? "" : use.needed;
    select.value = chosen;
    select.addEventListener("change", fillMapping);
    const td = document.createElement("td");
    td.appendChild(select);
    const how = document.createElement("td");
    how.className = `how ${use.how}`;
    how.textContent = use.how === "recognised" ? `recognised from “${use.header}”`
      : use.how === "missing" && /^r\d?$/.test(use.needed) ? "from the correlation set below"
      : words[use.how];
    tr.append(th, td, how);
    table.appendChild(tr);
  }
  box.appendChild(table);
  fillMapping();
}

function fillMapping() {
  const pairs = [...document.querySelectorAll("#mapping select")]
    .filter((s) => s.value && s.value !== s.dataset.needed)
    .map((s) => `${s.dataset.needed}=${s.value}`);
  document.getElementById("columns").value = pairs.join(",");
}

function request() {
  const form = document.getElementById("options");
  const value = (id) => form.elements[id].value;
  return {
    file_name: state.name,
    measure: value("measure"),
    method: value("method"),
    // The model of 2×2 tables belongs to the GLMM of odds ratios only (others refuse it).
    glmm_model: value("method") === "GLMM" && value("measure") === "OR" ? value("glmm_model") : "",
    test: value("test"),
    // The correlation belongs to before/after designs only (others refuse it).
    r: ["MC", "SMCC", "SMCR", "SMCRD", "MCD"].includes(value("measure")) ? value("r") : "",
    impute_sd: value("impute_sd"),
    by_outcome: form.elements.by_outcome.checked,
    by: value("by"),
    columns: value("columns"),
    mods: value("mods"),
    sheet: document.getElementById("sheet").value,
    bayes: form.elements.bayes.checked || value("tau_prior").trim() !== "",
    tau_prior: value("tau_prior"),
    mu_prior: "",
  };
}

function download(name, type, content) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([content], { type }));
  a.download = name;
  a.textContent = name;
  return a;
}

// A PNG of an SVG figure, drawn by the browser at twice its size (the SVG
// holds its text as outlines, so no font is needed).
function pngLink(name, svg) {
  const a = document.createElement("a");
  a.href = "#";
  a.textContent = name;
  a.addEventListener("click", async (event) => {
    if (a.dataset.ready) return;
    event.preventDefault();
    const image = new Image();
    image.src = "data:image/svg+xml;base64," + btoa(unescape(encodeURIComponent(svg)));
    await image.decode();
    const canvas = document.createElement("canvas");
    canvas.width = image.naturalWidth * 2;
    canvas.height = image.naturalHeight * 2;
    const context = canvas.getContext("2d");
    context.fillStyle = "white";
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.drawImage(image, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((done) => canvas.toBlob(done, "image/png"));
    a.href = URL.createObjectURL(blob);
    a.download = name;
    a.dataset.ready = "1";
    a.click();
  });
  return a;
}

function number(x) {
  return typeof x === "number" ? x.toFixed(4) : "NA";
}

function showAnalysis(container, shown) {
  const section = document.createElement("article");
  const title = document.createElement("h3");
  title.textContent = shown.outcome ? `Outcome: ${shown.outcome}` : "Analysis";
  section.appendChild(title);
  if (shown.error) {
    const p = document.createElement("p");
    p.className = "outcome-error";
    p.textContent = `Not analysed: ${shown.error}`;
    section.appendChild(p);
    container.appendChild(section);
    return;
  }
  const j = shown.json;
  if (j.coefficients) {
    const p = document.createElement("p");
    p.className = "coefficients";
    p.textContent = "Meta-regression: " + j.coefficients.map((c) => `${c.name}: ${number(c.estimate)} [${number(c.ci_lower)}, ${number(c.ci_upper)}]`).join("; ");
    section.appendChild(p);
  }
  const summary = document.createElement("p");
  summary.className = "summary";
  summary.dataset.estimate = j.estimate;
  summary.dataset.ciLower = j.ci_lower;
  summary.dataset.ciUpper = j.ci_upper;
  summary.dataset.tau2 = j.tau2;
  summary.dataset.i2 = j.i2;
  summary.textContent = `Pooled estimate ${number(j.estimate)} [${number(j.ci_lower)}, ${number(j.ci_upper)}]; ` +
    `τ² = ${number(j.tau2)}; I² = ${typeof j.i2 === "number" ? j.i2.toFixed(2) + "%" : "NA"}; k = ${j.k}`;
  section.appendChild(summary);
  const links = document.createElement("p");
  links.className = "downloads";
  const stem = (shown.outcome || "analysis").replace(/[^A-Za-z0-9]+/g, "_");
  links.appendChild(download(`${stem}.json`, "application/json", JSON.stringify(j, null, 2)));
  links.appendChild(download(`${stem}.csv`, "text/csv", shown.csv));
  if (shown.forest_svg) {
    links.appendChild(download(`${stem}_forest.svg`, "image/svg+xml", shown.forest_svg));
    links.appendChild(pngLink(`${stem}_forest.png`, shown.forest_svg));
  }
  if (shown.funnel_svg) links.appendChild(download(`${stem}_funnel.svg`, "image/svg+xml", shown.funnel_svg));
  section.appendChild(links);
  if (shown.posterior_svg) links.appendChild(download(`${stem}_posterior.svg`, "image/svg+xml", shown.posterior_svg));
  if (shown.shrinkage_svg) links.appendChild(download(`${stem}_shrinkage.svg`, "image/svg+xml", shown.shrinkage_svg));
  for (const [svg, label] of [[shown.forest_svg, "Forest plot"], [shown.funnel_svg, "Funnel plot"],
    [shown.shrinkage_svg, "Bayesian shrinkage plot"], [shown.posterior_svg, "Bayesian posterior densities"]]) {
    if (!svg) continue;
    const figure = document.createElement("figure");
    figure.className = "figure";
    figure.setAttribute("aria-label", label);
    figure.innerHTML = svg;
    section.appendChild(figure);
  }
  const report = document.createElement("pre");
  report.className = "report";
  report.textContent = shown.text;
  section.appendChild(report);
  container.appendChild(section);
}

async function run(event) {
  if (event) event.preventDefault();
  const error = document.getElementById("error");
  const results = document.getElementById("results");
  error.textContent = "";
  results.innerHTML = "";
  for (const el of document.querySelectorAll(".invalid")) el.classList.remove("invalid");
  if (!state.bytes) {
    error.textContent = "Choose a file, paste a table or start from an example first.";
    document.getElementById("drop").focus();
    return;
  }
  const started = performance.now();
  const response = await analyse(request(), state.bytes);
  const elapsed = performance.now() - started;
  document.getElementById("timing").textContent = `Analysed in ${elapsed.toFixed(0)} ms`;
  document.getElementById("timing").dataset.ms = elapsed;
  document.getElementById("command-box").hidden = false;
  document.getElementById("command").value = response.command;
  if (!response.ok) {
    error.textContent = response.error;
    // Point at the field the error concerns.
    const message = response.error || "";
    const field = /unknown measure/.test(message) ? "measure"
      : /has no column|maps/.test(message) ? "columns"
      : /correlation/.test(message) ? "r" : null;
    if (field) document.getElementById(field).classList.add("invalid");
    if (response.error_at) showCell(response.error_at);
    // A workbook whose sheet has no table: offer its sheets.
    const sheets = message.match(/the workbook's sheets are (.*?): /);
    if (sheets) {
      const list = document.getElementById("sheets");
      list.innerHTML = "";
      for (const m of sheets[1].matchAll(/`([^`]+)`/g)) list.appendChild(new Option(m[1], m[1]));
      const sheet = document.getElementById("sheet");
      sheet.classList.add("invalid");
      sheet.focus();
      return;
    }
    // A header the engine guessed at: offer its mapping, to check and run.
    const guess = message.match(/map them with \S+ (\S+?);/);
    if (guess) {
      const columns = document.getElementById("columns");
      columns.value = columns.value ? `${columns.value},${guess[1]}` : guess[1];
      document.getElementById("columns-help").textContent =
        "Filled in from the headers that look like the missing columns: check it and press Analyse.";
      columns.focus();
      return;
    }
    document.getElementById("results-heading").scrollIntoView();
    return;
  }
  document.getElementById("headers").textContent = `Columns read: ${response.headers.join(", ")}`;
  document.getElementById("results-heading").scrollIntoView();
  for (const shown of response.analyses) showAnalysis(results, shown);
}

// The rows around an error in a text file, with the cell at fault marked.
function showCell(at) {
  const results = document.getElementById("results");
  if (!at.row || at.sheet || !state.bytes) return;
  const lines = new TextDecoder().decode(state.bytes).split(/\r?\n/);
  const delimiter = [",", ";", "\t", "|"].find((d) => lines[0].includes(d)) || ",";
  const header = lines[0].split(delimiter).map((h) => h.trim().toLowerCase());
  const column = at.column ? header.indexOf(at.column.toLowerCase()) : -1;
  const table = document.createElement("table");
  table.className = "preview";
  table.setAttribute("aria-label", "The file around the error");
  const first = Math.max(2, at.row - 2);
  for (const n of [1, ...Array.from({ length: 5 }, (_, i) => first + i)]) {
    if (n > lines.length || (n > 1 && !lines[n - 1])) continue;
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    th.textContent = n === 1 ? "line" : String(n);
    tr.appendChild(th);
    lines[n - 1].split(delimiter).forEach((cell, i) => {
      const td = document.createElement(n === 1 ? "th" : "td");
      td.textContent = cell;
      if (n === at.row && i === column) {
        td.className = "at-fault";
        td.setAttribute("aria-label", `line ${n}, column ${header[i]}: ${cell} (the error)`);
      }
      tr.appendChild(td);
    });
    table.appendChild(tr);
  }
  results.appendChild(table);
}

function readFile(file) {
  file.arrayBuffer().then((buffer) => setFile(file.name, new Uint8Array(buffer)));
}

function useExample(name, measure, byOutcome) {
  const form = document.getElementById("options");
  form.elements.measure.value = measure;
  setFile(name, new TextEncoder().encode(window.COCHRAN_EXAMPLES[name]));
  form.elements.by_outcome.checked = byOutcome;
  if (name.startsWith("hip")) form.elements.impute_sd.value = "max";
}

window.addEventListener("DOMContentLoaded", () => {
  const drop = document.getElementById("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer.files.length) readFile(e.dataTransfer.files[0]);
  });
  drop.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") document.getElementById("file").click();
  });
  document.getElementById("file").addEventListener("change", (e) => {
    if (e.target.files.length) readFile(e.target.files[0]);
  });
  document.getElementById("use-paste").addEventListener("click", () => {
    setFile("pasted.csv", new TextEncoder().encode(document.getElementById("paste").value));
  });
  document.getElementById("example-hip").addEventListener("click", () => useExample("hip_oa_msc.csv", "MC", true));
  document.getElementById("example-bcg").addEventListener("click", () => useExample("bcg.csv", "RR", false));
  document.getElementById("options").addEventListener("submit", run);
  document.getElementById("measure").addEventListener("change", inspect);
  document.getElementById("sheet").addEventListener("change", inspect);
});
