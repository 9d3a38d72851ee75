// Browser tests of the page (web/dist, built by web/build.sh) in Debian's
// chromium driven by Playwright: the numbers the page shows are the command
// line's for the same options, errors name their cell, the downloaded SVG is
// the command line's, and 1,000 studies take at most a second.
import { chromium } from "playwright-core";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import assert from "node:assert/strict";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const page_url = pathToFileURL(join(root, "web/dist/index.html")).href;
const cli = process.env.COCHRAN_BIN || join(root, "target/debug/cochran");
const shots = join(here, "screenshots");
const scratch = join(root, "target/web-tests");
mkdirSync(shots, { recursive: true });
mkdirSync(scratch, { recursive: true });

function cli_path() {
  return cli;
}

function cliJson(args) {
  return JSON.parse(execFileSync(cli, ["analyze", ...args, "--format", "json"], { cwd: root }).toString());
}

function close(actual, expected, what) {
  const ok = Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected));
  assert.ok(ok, `${what}: page ${actual}, command line ${expected}`);
}

async function shown(page, index = 0) {
  const summary = page.locator("p.summary").nth(index);
  // An error instead of a result fails at once, saying what it was.
  await page.waitForFunction((index) =>
    document.querySelectorAll("p.summary").length > index || document.getElementById("error").textContent !== "", index);
  const error = await page.locator("#error").textContent();
  assert.equal(error, "", "the page shows an error");
  await summary.waitFor();
  const data = await summary.evaluate((el) => ({ ...el.dataset }));
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Number(v)]));
}

function agree(page_values, json, what) {
  close(page_values.estimate, json.estimate, `${what} estimate`);
  close(page_values.ciLower, json.ci_lower, `${what} ci_lower`);
  close(page_values.ciUpper, json.ci_upper, `${what} ci_upper`);
  close(page_values.tau2, json.tau2, `${what} tau2`);
  close(page_values.i2, json.i2, `${what} i2`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--allow-file-access-from-files"],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
const failures = [];
async function test(name, body) {
  const page = await context.newPage();
  const requests = [];
  page.on("request", (r) => { if (!r.url().startsWith("file:") && !r.url().startsWith("blob:") && !r.url().startsWith("data:")) requests.push(r.url()); });
  try {
    await page.goto(page_url);
    await body(page);
    assert.deepEqual(requests, [], "the page made network requests");
    console.log(`ok - ${name}`);
  } catch (error) {
    failures.push(name);
    console.log(`not ok - ${name}\n${error.stack}`);
    await page.screenshot({ path: join(shots, `failed-${name.replace(/\W+/g, "_")}.png`), fullPage: true });
  } finally {
    await page.close();
  }
}

await test("the hip example, one analysis per instrument, matches the command line", async (page) => {
  await page.setInputFiles("#file", join(root, "datasets/hip_oa_msc.csv"));
  await page.selectOption("#measure", "MC");
  await page.fill("#r", "0.5");
  await page.selectOption("#impute_sd", "max");
  await page.check("#by_outcome");
  await page.check("#bayes");
  await page.click("#run");
  await page.locator("figure[aria-label='Bayesian posterior densities']").first().waitFor();
  const expected = cliJson(["datasets/hip_oa_msc.csv", "--measure", "MC", "--r", "0.5", "--impute-sd", "max", "--by", "outcome", "--bayes"]);
  const analysed = expected.outcomes.filter((o) => o.analysis);
  for (let i = 0; i < analysed.length; i++) agree(await shown(page, i), analysed[i].analysis, analysed[i].outcome);
  const report = await page.locator("pre.report").first().textContent();
  assert.ok(report.includes("P(improvement > MIC 15.90 | data)"), "the Bayesian section");
  assert.equal(await page.inputValue("#command"),
    "cochran analyze hip_oa_msc.csv --measure MC --r 0.5 --impute-sd max --by outcome --bayes");
  await page.screenshot({ path: join(shots, "hip.png"), fullPage: false });
  await page.locator("article").first().screenshot({ path: join(shots, "hip-results.png") });
});

await test("BCG from the bundled example matches the command line, and its SVG is the command line's", async (page) => {
  await page.click("#example-bcg");
  await page.click("#run");
  agree(await shown(page), cliJson(["datasets/bcg.csv", "--measure", "RR"]), "bcg");
  const svgPath = join(scratch, "bcg_forest.svg");
  execFileSync(cli, ["analyze", "datasets/bcg.csv", "--measure", "RR", "--forest", svgPath], { cwd: root });
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("text=analysis_forest.svg")]);
  const saved = join(scratch, "page_forest.svg");
  await download.saveAs(saved);
  assert.equal(readFileSync(saved, "utf8"), readFileSync(svgPath, "utf8"), "the downloaded SVG is the command line's");
  const [png] = await Promise.all([page.waitForEvent("download"), page.click("text=analysis_forest.png")]);
  const pngPath = join(scratch, "page_forest.png");
  await png.saveAs(pngPath);
  const bytes = readFileSync(pngPath);
  assert.equal(bytes.subarray(1, 4).toString(), "PNG");
  // Twice the SVG's size.
  const width = bytes.readUInt32BE(16);
  const svgWidth = Number(readFileSync(svgPath, "utf8").match(/width="(\d+)"/)[1]);
  assert.equal(width, 2 * svgWidth);
  await page.screenshot({ path: join(shots, "bcg.png"), fullPage: true });
});

await test("a GLMM of proportions matches the command line, and its forest plot is the command line's", async (page) => {
  await page.setInputFiles("#file", join(root, "datasets/pritz1997.csv"));
  await page.selectOption("#measure", "PLO");
  await page.selectOption("#method", "GLMM");
  await page.click("#run");
  const args = ["datasets/pritz1997.csv", "--measure", "PLO", "--method", "GLMM"];
  agree(await shown(page), cliJson(args), "pritz1997 GLMM");
  assert.equal(await page.inputValue("#command"), "cochran analyze pritz1997.csv --measure PLO --method GLMM");
  const svgPath = join(scratch, "glmm_forest.svg");
  execFileSync(cli, ["analyze", ...args, "--forest", svgPath], { cwd: root });
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("text=analysis_forest.svg")]);
  const saved = join(scratch, "page_glmm_forest.svg");
  await download.saveAs(saved);
  assert.equal(readFileSync(saved, "utf8"), readFileSync(svgPath, "utf8"), "the downloaded SVG is the command line's");
});

await test("a GLMM of odds ratios by each model matches the command line", async (page) => {
  for (const model of ["", "CM.EL", "CM.AL"]) {
    // A fresh page each time: the previous result is not read for this one.
    await page.goto(page_url);
    await page.setInputFiles("#file", join(root, "datasets/bcg.csv"));
    await page.selectOption("#measure", "OR");
    await page.selectOption("#method", "GLMM");
    await page.selectOption("#glmm_model", model);
    await page.click("#run");
    const args = ["datasets/bcg.csv", "--measure", "OR", "--method", "GLMM", ...(model ? ["--model", model] : [])];
    agree(await shown(page), cliJson(args), `bcg GLMM ${model || "UM.FS"}`);
    const command = `cochran analyze bcg.csv --measure OR --method GLMM${model ? ` --model ${model}` : ""}`;
    assert.equal(await page.inputValue("#command"), command);
  }
});

await test("text in a numeric cell is shown with its line and column", async (page) => {
  await page.click("summary");
  await page.fill("#paste", "study,yi,vi\nA,0.1,0.01\nB,abc,0.02\n");
  await page.click("#use-paste");
  await page.selectOption("#measure", "GEN");
  await page.fill("#r", "");
  await page.click("#run");
  await page.waitForFunction(() => document.getElementById("error").textContent.length > 0);
  const error = await page.locator("#error").textContent();
  assert.ok(/line 3/.test(error) && /`yi`/.test(error) && /abc/.test(error), error);
  // The cell itself is marked in a view of the file.
  assert.equal(await page.locator("td.at-fault").textContent(), "abc");
  await page.screenshot({ path: join(shots, "error.png") });
});

await test("the columns a measure needs are shown, mapped and run", async (page) => {
  await page.selectOption("#measure", "MC");
  await page.click("summary");
  await page.fill("#paste", "Study,Pre_Avg,Pre SD,Post mean,Post SD,N\nA,50,12,70,12,20\nB,48,11,72,10,30\n");
  await page.click("#use-paste");
  await page.locator("#map-mean_pre").waitFor();
  assert.equal(await page.inputValue("#map-mean_pre"), "pre_avg");
  assert.equal(await page.locator("#map-mean_pre >> xpath=../../td[2]").textContent(), "guessed: please check");
  assert.equal(await page.inputValue("#map-sd_pre"), "sd_pre");
  assert.equal(await page.inputValue("#columns"), "mean_pre=pre_avg");
  await page.click("#run");
  await shown(page);
  await page.screenshot({ path: join(shots, "mapping.png") });
});

await test("a header that looks like a missing column is offered as a mapping", async (page) => {
  await page.selectOption("#measure", "MC");
  await page.click("summary");
  await page.fill("#paste", "Study,Pre_Avg,Pre SD,Post mean,Post SD,N\nA,50,12,70,12,20\nB,48,11,72,10,30\n");
  await page.click("#use-paste");
  // The column table pre-fills the mapping; without it, the run's error
  // offers the same guess.
  await page.locator("#map-mean_pre").waitFor();
  await page.fill("#columns", "");
  await page.click("#run");
  await page.waitForFunction(() => document.getElementById("columns").value !== "");
  assert.match(await page.locator("#error").textContent(), /has no column `mean_pre`/);
  assert.equal(await page.inputValue("#columns"), "mean_pre=pre_avg");
  await page.click("#run");
  const values = await shown(page);
  const file = join(scratch, "guess.csv");
  writeFileSync(file, "Study,Pre_Avg,Pre SD,Post mean,Post SD,N\nA,50,12,70,12,20\nB,48,11,72,10,30\n");
  agree(values, cliJson([file, "--measure", "MC", "--r", "0.5", "--columns", "mean_pre=pre_avg"]), "mapped");
});

await test("a meta-regression on latitude shows the command line's coefficients", async (page) => {
  await page.click("#example-bcg");
  await page.fill("#r", "");
  await page.fill("#mods", "ablat");
  await page.click("#run");
  const line = page.locator("p.coefficients");
  await line.waitFor();
  const text = await line.textContent();
  const json = cliJson(["datasets/bcg.csv", "--measure", "RR", "--mods", "ablat"]);
  for (const c of json.coefficients) {
    assert.ok(text.includes(`${c.name}: ${c.estimate.toFixed(4)} [${c.ci_lower.toFixed(4)}, ${c.ci_upper.toFixed(4)}]`), text);
  }
  assert.equal(await page.inputValue("#command"), "cochran analyze bcg.csv --measure RR --mods ablat");
});

await test("usable by keyboard and readable at 200% zoom", async (page) => {
  // 200% zoom of a 1280-pixel laptop screen: a 640-pixel-wide layout.
  await page.setViewportSize({ width: 640, height: 900 });
  await page.click("#example-bcg");
  await page.fill("#r", "");
  await page.focus("#tau_prior");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.id), "run");
  await page.keyboard.press("Enter");
  await shown(page);
  // Nothing but the figures and the report (which scroll in their own boxes)
  // is wider than the window.
  const overflow = await page.evaluate(() =>
    [...document.querySelectorAll("input, select, button, label, p, h2, h3")]
      .map((el) => el.getBoundingClientRect().right - window.innerWidth)
      .reduce((a, b) => Math.max(a, b), -Infinity));
  assert.ok(overflow <= 0, `a control reaches ${overflow} px past the window`);
  await page.screenshot({ path: join(shots, "zoom200.png") });
});

await test("spreadsheets dropped on the page are read as the command line reads them", async (page) => {
  for (const name of ["bangertdrowns2004.xlsx", "bangertdrowns2004.ods"]) {
    const bytes = readFileSync(join(root, "tests/data", name)).toString("base64");
    // A real drop: a DataTransfer holding the file, dispatched on the drop zone.
    await page.evaluate(([name, bytes]) => {
      const data = Uint8Array.from(atob(bytes), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([data], name));
      document.getElementById("drop").dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true }));
    }, [name, bytes]);
    await page.waitForFunction((name) => document.getElementById("file-name").textContent.includes(name), name);
    await page.selectOption("#measure", "GEN");
    await page.click("#run");
    const args = [join("tests/data", name), "--measure", "GEN"];
    if (name.endsWith(".ods")) {
      // Its first sheet is a note: the page names the sheets to choose from.
      await page.waitForFunction(() => document.querySelectorAll("#sheets option").length > 0);
      const sheets = await page.$$eval("#sheets option", (options) => options.map((o) => o.value));
      assert.deepEqual(sheets, ["Read me", "Data"]);
      await page.fill("#sheet", "Data");
      await page.click("#run");
      args.push("--sheet", "Data");
    }
    agree(await shown(page), cliJson(args), name);
  }
  const bytes = readFileSync(join(root, "tests/data/bad_cell.xlsx")).toString("base64");
  await page.evaluate((bytes) => {
    const data = Uint8Array.from(atob(bytes), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([data], "bad_cell.xlsx"));
    document.getElementById("drop").dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true }));
  }, bytes);
  await page.waitForFunction(() => document.getElementById("file-name").textContent.includes("bad_cell"));
  await page.click("#run");
  await page.waitForFunction(() => document.getElementById("error").textContent.length > 0);
  const error = await page.locator("#error").textContent();
  const cli = (() => {
    try { execFileSync(cli_path(), ["analyze", "tests/data/bad_cell.xlsx", "--measure", "GEN"], { cwd: root, stdio: "pipe" }); return ""; }
    catch (e) { return e.stderr.toString(); }
  })();
  // The same sheet and cell as the command line names.
  const cell = cli.match(/sheet `[^`]+`, cell [A-Z]+\d+|[A-Za-z0-9]+![A-Z]+\d+/);
  assert.ok(cell && error.includes(cell[0]), `page: ${error}; command line: ${cli}`);
});

await test("1,000 studies are analysed within a second", async (page) => {
  let csv = "study,yi,vi\n";
  for (let i = 0; i < 1000; i++) csv += `S${i},${(0.3 + Math.sin(i) * 0.4).toFixed(6)},${(0.01 + (i % 17) * 0.003).toFixed(6)}\n`;
  const file = join(scratch, "thousand.csv");
  writeFileSync(file, csv);
  await page.setInputFiles("#file", file);
  await page.selectOption("#measure", "GEN");
  await page.fill("#r", "");
  await page.click("#run");
  const values = await shown(page);
  agree(values, cliJson([file, "--measure", "GEN"]), "1,000 studies");
  const ms = Number(await page.locator("#timing").getAttribute("data-ms"));
  console.log(`# 1,000 studies: ${ms.toFixed(0)} ms in the page`);
  assert.ok(ms <= 1000, `${ms} ms`);
});

await browser.close();
if (failures.length) {
  console.log(`${failures.length} failed: ${failures.join("; ")}`);
  process.exit(1);
}
