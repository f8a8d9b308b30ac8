// Opens logq explore's explore.html in Debian's headless chromium (playwright-core) and checks what
// a reader sees: no console errors or failed loads, every plot image decoded, one table row per
// point of explore.csv, a column that sorts on click; writes a full-page screenshot.
//   node explore_html.mjs DIR/explore.html SCREENSHOT.png
// Exit 0 pass, 1 fail (messages on stderr), 77 skip (no chromium).
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const [page_path, shot] = process.argv.slice(2);
const browser_path = process.env.LOGQ_CHROMIUM || "/usr/bin/chromium";
if (!page_path || !shot) {
  console.error("usage: node explore_html.mjs DIR/explore.html SCREENSHOT.png");
  process.exit(2);
}
if (!existsSync(browser_path)) {
  console.error(`SKIPPED: ${browser_path} is absent (apt-get install chromium)`);
  process.exit(77);
}

const problems = [];
const fail = (m) => problems.push(m);
const browser = await chromium.launch({ executablePath: browser_path, args: ["--no-sandbox"] });
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") fail(`console ${m.type()}: ${m.text()}`); });
  page.on("pageerror", (e) => fail(`page error: ${e.message}`));
  page.on("requestfailed", (r) => fail(`failed to load ${r.url()}: ${r.failure()?.errorText}`));
  await page.goto(pathToFileURL(resolve(page_path)).href, { waitUntil: "load" });

  // The plots: every <img> decoded with a real size.
  const imgs = await page.$$eval("img", (els) => els.map((e) => ({ src: e.getAttribute("src"), ok: e.complete && e.naturalWidth > 0, w: e.naturalWidth })));
  if (imgs.length !== 3) fail(`expected 3 plots, found ${imgs.length}`);
  for (const i of imgs) if (!i.ok || i.w < 400) fail(`plot ${i.src} did not load (width ${i.w})`);

  // One row per point of the CSV next to the page.
  const csv = readFileSync(join(dirname(page_path), "explore.csv"), "utf8").trim().split("\n");
  const rows = await page.$$eval("#points tbody tr", (els) => els.length);
  if (rows !== csv.length - 1) fail(`table has ${rows} rows, explore.csv ${csv.length - 1} points`);
  const pareto = await page.$$eval("#points tbody tr.pareto", (els) => els.length);
  if (pareto < 1) fail("no Pareto point is highlighted");

  // Sorting: top-1 ascending, then descending, numerically.
  const top1 = async () => page.$$eval("#points tbody tr", (els) => els.map((tr) => parseFloat(tr.children[4].textContent)));
  const head = page.locator("#points th", { hasText: "top-1" });
  await head.click();
  const up = await top1();
  if (up.some((v, i) => i > 0 && up[i - 1] > v)) fail(`top-1 not ascending after one click: ${up.join(" ")}`);
  await head.click();
  const down = await top1();
  if (down.some((v, i) => i > 0 && down[i - 1] < v)) fail(`top-1 not descending after two clicks: ${down.join(" ")}`);

  await page.screenshot({ path: shot, fullPage: true });
  if (!existsSync(shot) || statSync(shot).size < 20000) fail(`screenshot ${shot} missing or blank`);
} finally {
  await browser.close();
}
if (problems.length) {
  for (const p of problems) console.error(`FAIL: ${p}`);
  process.exit(1);
}
console.log(`explore.html ok: plots loaded, table sorted, screenshot ${shot}`);
