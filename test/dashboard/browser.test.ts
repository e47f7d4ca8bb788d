/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core)
 * against `riffle dev` on both runtimes: a key is asked for and a wrong one
 * refused; the graph of a three-task job shows its tasks, chains and partitioned
 * edges, and its records/s once records flow; a click on a task opens its view,
 * one row per partition with its records, last segment and watermark, and later
 * the poison record's error; the checkpoint count rises live; a savepoint taken from the page is listed;
 * a poison record reaches the dead-letter view and is replayed from it once fixed;
 * and the page logs no console error. With `RIFFLE_UPDATE_SCREENSHOTS=1` the
 * embedded run writes the screenshots in `docs/dashboard/`.
 */

import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emulators, stopEmulators } from "../support/aws-local-harness.ts";
import { consoleErrors, launchChromium } from "../support/browser.ts";
import { type DevProcess, startDev } from "../support/dev-process.ts";
import { uniquePrefix } from "../support/dynamo-local.ts";

const KEY = "dashboard-test-key";
const JOB_FILE = "test/fixtures/dashboard-job.ts";
const SHOTS = process.env.RIFFLE_UPDATE_SCREENSHOTS === "1" ? join(import.meta.dirname, "../../docs/dashboard") : "";

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await stopEmulators();
});

type Click = { user: string; page: string; at?: number };

/** Ingests `clicks` (routed by `key` when given); resolves with the ingest partition they went to. */
async function ingest(dev: DevProcess, clicks: Click[], key?: string): Promise<number> {
  const query = key === undefined ? "" : `?key=${encodeURIComponent(key)}`;
  const r = await fetch(`${dev.url}/jobs/dash/sources/clicks/events${query}`, {
    method: "POST",
    headers: { "x-api-key": KEY, "content-type": "application/json" },
    body: JSON.stringify(clicks),
  });
  expect(r.status).toBe(202);
  return ((await r.json()) as { partition: number }).partition;
}

/** Ingests timed clicks into both ingest partitions, so every downstream partition gets a watermark. */
async function ingestBoth(dev: DevProcess, at: number): Promise<void> {
  const seen = new Set<number>();
  for (let k = 0; seen.size < 2 && k < 64; k++) {
    seen.add(await ingest(dev, [{ user: `u${k}`, page: "/a", at: at + k }], `k${k}`));
  }
  expect(seen.size).toBe(2);
}

const PARALLELISM = 2;

async function lastCheckpoint(page: Page): Promise<number> {
  const text = (await page.getByTestId("last-checkpoint").textContent()) ?? "";
  return /^#\d+$/.test(text) ? Number(text.slice(1)) : 0;
}

async function logIn(page: Page, dev: DevProcess, key: string): Promise<void> {
  await page.goto(dev.dashboard);
  await page.fill('input[name="key"]', key);
  await page.click('button[type="submit"]');
}

async function shot(page: Page, runtime: string, view: string): Promise<void> {
  const dir = SHOTS && runtime === "embedded" ? SHOTS : mkdtempSync(join(tmpdir(), "riffle-shots-"));
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${view}.png`) });
}

async function checkGraph(page: Page): Promise<void> {
  await page.waitForSelector("svg.graph g.task");
  const tasks = await page
    .locator("svg.graph g.task")
    .evaluateAll((els) => els.map((e) => e.getAttribute("data-task")));
  expect(tasks).toEqual(["ingest-clicks-0", "filter-3", "process-4"]);
  const edges = await page
    .locator("svg.graph g.edge")
    .evaluateAll((els) => els.map((e) => [e.getAttribute("data-edge"), e.textContent?.trim()]));
  expect(Object.fromEntries(edges)).toEqual({
    "ingest-clicks-0->filter-3": "rebalance",
    "filter-3->process-4": "hash",
  });
  const chain = await page.locator('g[data-task="process-4"] text.op').allTextContents();
  expect(chain).toEqual(["process: process", "sink: sink(counts)"]);
}

/** The task view of process-4: one row per partition; records and segments after records flowed, and watermarks. */
async function checkTaskView(page: Page, at: number): Promise<void> {
  await page.click('svg.graph g[data-task="process-4"]');
  await page.waitForSelector('[data-task-view="process-4"]');
  const rows = () =>
    page
      .locator('[data-task-view="process-4"] tbody tr')
      .evaluateAll((els) => els.map((e) => e.getAttribute("data-partition")));
  expect(await rows()).toEqual(["0", "1"]);
  const cell = (p: number, col: string) =>
    page.locator(`tr[data-partition="${p}"] td[data-col="${col}"]`).textContent();
  const inTotal = async () => {
    let n = 0;
    for (let p = 0; p < PARALLELISM; p++) n += Number.parseInt((await cell(p, "in").catch(() => "0")) ?? "0", 10) || 0;
    return n;
  };
  await expect.poll(inTotal, { timeout: 90_000 }).toBeGreaterThanOrEqual(3);
  for (let p = 0; p < PARALLELISM; p++) {
    await expect.poll(async () => Number(await cell(p, "segment")), { timeout: 90_000 }).toBeGreaterThan(0);
    // The watermark is the earliest of the clicks' event times minus one (monotonous timestamps), or later.
    await expect
      .poll(async () => Date.parse(`${await cell(p, "watermark")}Z`), { timeout: 90_000 })
      .toBeGreaterThanOrEqual(at - 1);
  }
}

/** The task view of the ingest task shows the poison click's error on the partition that took it. */
async function checkTaskError(page: Page): Promise<void> {
  await page.click("button.tab:has-text('Graph')");
  await page.click('svg.graph g[data-task="ingest-clicks-0"]');
  await page.waitForSelector('[data-task-view="ingest-clicks-0"]');
  const errors = () => page.locator('[data-task-view="ingest-clicks-0"] td[data-col="error"]').allTextContents();
  await expect.poll(async () => (await errors()).join("|"), { timeout: 90_000 }).toMatch(/poison click by bob \(/);
}

async function checkSavepoint(page: Page): Promise<void> {
  await page.click("button.tab:has-text('Checkpoints')");
  const first = await lastCheckpoint(page);
  await expect.poll(() => lastCheckpoint(page), { timeout: 60_000 }).toBeGreaterThan(first + 1);
  await page.fill('input[name="savepoint"]', "from-the-page");
  await page.click("button:has-text('Take savepoint')");
  await page.waitForSelector('tr[data-savepoint="from-the-page"]', { timeout: 60_000 });
  expect(await page.getByRole("status").textContent()).toMatch(/^savepoint 'from-the-page' taken at checkpoint \d+$/);
}

async function checkReplay(page: Page, dev: DevProcess, fixFile: string): Promise<void> {
  await ingest(dev, [{ user: "bob", page: "/poison" }]);
  await page.click("button.tab:has-text('Dead letters')");
  await expect.poll(() => page.getByTestId("dlq-count").textContent(), { timeout: 90_000 }).toBe("1");
  expect(await page.locator("tr[data-letter] td.error").textContent()).toBe("poison click by bob");
  writeFileSync(fixFile, "fixed");
  await page.check("tr[data-letter] input[type=checkbox]");
  await page.click("button:has-text('Replay selected')");
  await page.waitForSelector("text=replayed 1 record");
  await page.waitForSelector("tr[data-letter].replayed", { timeout: 30_000 });
  await checkTaskError(page);
}

const RUNTIMES = ["embedded", "aws-local"] as const;

describe.each(RUNTIMES)("the dashboard on %s", (runtime) => {
  async function dev(fixFile: string): Promise<DevProcess> {
    if (runtime === "embedded")
      return startDev(JOB_FILE, ["-p", String(PARALLELISM)], { RIFFLE_API_KEYS: KEY, DASH_POISON_FIXED_FILE: fixFile });
    const { sqs, dynamo } = await emulators();
    const args = ["--runtime", "aws-local", "--prefix", uniquePrefix("dash"), "-p", String(PARALLELISM)];
    return startDev(JOB_FILE, args, {
      RIFFLE_API_KEYS: KEY,
      DASH_POISON_FIXED_FILE: fixFile,
      AWS_ENDPOINT_URL_SQS: sqs,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo,
    });
  }

  it("shows the graph, live checkpoints, a savepoint and a replay, with no console error", async () => {
    const fixFile = join(mkdtempSync(join(tmpdir(), "riffle-dash-")), "fixed");
    const d = await dev(fixFile);
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    try {
      const page = await context.newPage();
      const errors = consoleErrors(page);
      await logIn(page, d, KEY);
      await checkGraph(page);
      const at = Date.UTC(2026, 0, 1);
      await ingest(d, [
        { user: "ada", page: "/a", at },
        { user: "ada", page: "/b", at: at + 1 },
        { user: "cy", page: "/a", at: at + 2 },
      ]);
      await ingestBoth(d, at + 10);
      // Both runtimes count records per task: rates in the boxes (on aws-local from the partitions' acks).
      const meta = () => page.locator('g[data-task="process-4"] text.meta').textContent();
      let more = 0;
      const rateIn = async () => {
        // Records keep flowing (one click a poll), so a rate over the last seconds has some to count.
        await ingest(d, [{ user: "eve", page: "/e", at: at + 100 + more++ }]);
        return Number(/ · ([\d.]+)\/s in · [\d.]+\/s out$/.exec((await meta()) ?? "")?.[1] ?? 0);
      };
      await expect.poll(rateIn, { timeout: 90_000, interval: 1_000 }).toBeGreaterThan(0);
      // aws-local prices the run (cost in the header).
      if (runtime === "aws-local") {
        await expect
          .poll(() => page.locator("header .status").textContent(), { timeout: 30_000 })
          .toMatch(/ · cost \$/);
      }
      await shot(page, runtime, "graph");
      await checkTaskView(page, at);
      await shot(page, runtime, "task");
      await checkSavepoint(page);
      await shot(page, runtime, "checkpoints");
      await checkReplay(page, d, fixFile);
      await shot(page, runtime, "dead-letters");
      // The replayed record went through once fixed: no second letter. (On AWS an idle
      // job's coordinator sleeps, so a click keeps checkpoints coming.)
      await page.click("button.tab:has-text('Checkpoints')");
      const now = await lastCheckpoint(page);
      await ingest(d, [{ user: "cy", page: "/c" }]);
      await expect.poll(() => lastCheckpoint(page), { timeout: 60_000 }).toBeGreaterThan(now + 1);
      await page.click("button.tab:has-text('Dead letters')");
      expect(await page.getByTestId("dlq-count").textContent()).toBe("1");
      if (runtime === "embedded") expect(d.stdout()).toContain('{"sink":"counts","value":{"user":"bob","n":1}}');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
      await d.stop();
    }
  }, 300_000);

  it("refuses a wrong key and asks again", async () => {
    const d = await dev(join(tmpdir(), "riffle-dash-never"));
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const errors = consoleErrors(page);
      await logIn(page, d, "not-the-key");
      await page.waitForSelector("[role=alert]");
      expect(await page.getByRole("alert").textContent()).toMatch(/^key refused \(401\): /);
      expect(await page.locator('input[name="key"]').isVisible()).toBe(true);
      expect(await page.evaluate(() => sessionStorage.getItem("riffle.apiKey"))).toBeNull();
      // The browser itself logs each refused request; nothing else may be logged.
      expect(errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
    } finally {
      await context.close();
      await d.stop();
    }
  }, 120_000);
});
