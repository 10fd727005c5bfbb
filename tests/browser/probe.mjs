// Drives headless Chromium through a plan read from stdin and prints what it saw as JSON.
// The Rust tests write the plan and make every assertion; this file only looks and reports.
//
// Plan: {"visits": [{"name", "viewport": {width, height}, "user_agent"?, "locale"?,
//         "is_mobile"?, "has_touch"?, "steps": [step, ...]}]}
// Steps: {"action": "goto", "url"} | {"action": "collect"} | {"action": "click", "selector"}
//        | {"action": "wait_for_url", "contains", "timeout_ms"?}
//        | {"action": "screenshot", "path", "full_page"?} | {"action": "tab", "count"}
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const STEP_TIMEOUT_MS = 10_000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Playwright's messages carry a coloured call log; keep the first line, without colour codes.
const clean = (e) => String(e?.message ?? e).replace(/\x1b\[[0-9;]*m/g, "").split("\n")[0];

function readStdin() {
  return new Promise((resolve, reject) => {
    let data = "";
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (chunk) => (data += chunk));
    process.stdin.on("end", () => resolve(data));
    process.stdin.on("error", reject);
  });
}

function isLocal(url) {
  try {
    const { hostname, protocol } = new URL(url);
    if (protocol === "data:" || protocol === "about:") return true;
    return hostname === "127.0.0.1" || hostname === "localhost" || hostname === "[::1]";
  } catch {
    return true;
  }
}

// Runs in the page: what a person would see and could use.
function collectInPage() {
  const visible = (el) => {
    if (el.closest("[aria-hidden=true]")) return false;
    const style = getComputedStyle(el);
    if (style.display === "none" || style.visibility === "hidden") return false;
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0;
  };
  const labelOf = (el) => {
    if (el.id) {
      const label = document.querySelector(`label[for="${CSS.escape(el.id)}"]`);
      if (label) return label.innerText.trim();
    }
    const parent = el.closest("label");
    return parent ? parent.innerText.trim() : null;
  };
  const controls = [
    ...document.querySelectorAll(
      "a[href], button, input:not([type=hidden]), select, textarea, [role=button]",
    ),
  ].map((el) => {
    const box = el.getBoundingClientRect();
    const form = el.form || el.closest("form");
    return {
      tag: el.tagName.toLowerCase(),
      text: (el.innerText || el.value || el.getAttribute("aria-label") || "").trim(),
      href: el.href || null,
      type: el.getAttribute("type"),
      name: el.getAttribute("name"),
      disabled: !!el.disabled,
      visible: visible(el),
      form_action: form ? form.action : null,
      form_method: form ? form.method : null,
      aria_label: el.getAttribute("aria-label"),
      label: labelOf(el),
      box: { x: box.x, y: box.y, width: box.width, height: box.height },
    };
  });
  return {
    url: location.href,
    title: document.title,
    lang: document.documentElement.lang,
    text: document.body ? document.body.innerText : "",
    horizontal_overflow: document.documentElement.scrollWidth > window.innerWidth,
    broken_images: [...document.images].filter((i) => i.complete && i.naturalWidth === 0).length,
    controls,
    headings: [...document.querySelectorAll("h1, h2, h3, h4, h5, h6")].map((h) => ({
      level: Number(h.tagName[1]),
      text: h.innerText.trim(),
    })),
    images: [...document.images].map((i) => ({
      src: i.src,
      alt: i.alt,
      visible: visible(i),
      natural_width: i.naturalWidth,
    })),
    stylesheets_loaded: [...document.styleSheets].length,
  };
}

async function runStep(page, step, lastStatus) {
  switch (step.action) {
    case "goto": {
      try {
        const resp = await page.goto(step.url, { waitUntil: "load", timeout: STEP_TIMEOUT_MS });
        return { status: resp ? resp.status() : null, url: page.url() };
      } catch (e) {
        // A failed load is followed by Chromium's error page; with routing on, a goto started
        // before that page has loaded is interrupted by it. Let it settle first.
        if (!page.url().startsWith("chrome-error:")) {
          await page
            .waitForEvent("framenavigated", { predicate: (f) => f === page.mainFrame(), timeout: 2_000 })
            .catch(() => {});
        }
        await page.waitForLoadState("load", { timeout: 2_000 }).catch(() => {});
        throw e;
      }
    }
    case "collect":
      return { status: lastStatus, ...(await page.evaluate(collectInPage)) };
    case "click": {
      const target = page.locator(step.selector).locator("visible=true").first();
      if ((await target.count()) === 0) return { error: `nothing visible matches ${step.selector}` };
      // wait_for_navigation: true waits up to the step timeout for a navigation; false never
      // waits; absent waits only if the click started one within a second.
      const mode = step.wait_for_navigation;
      const nav = page
        .waitForNavigation({ waitUntil: "load", timeout: STEP_TIMEOUT_MS })
        .then((resp) => ({ resp }), (err) => ({ err }));
      let started = false;
      const onRequest = (req) => {
        if (req.isNavigationRequest() && req.frame() === page.mainFrame()) started = true;
      };
      page.on("request", onRequest);
      try {
        await target.click({ timeout: STEP_TIMEOUT_MS });
        if (mode === false) return { status: null, url: page.url() };
        if (mode !== true) {
          const settled = await Promise.race([nav, sleep(1_000).then(() => null)]);
          if (!settled && !started) return { status: null, url: page.url() };
        }
        const { resp, err } = await nav;
        if (err) return { error: `no navigation after click: ${clean(err)}`, url: page.url() };
        return { status: resp ? resp.status() : null, url: page.url() };
      } finally {
        page.off("request", onRequest);
      }
    }
    case "wait_for_url": {
      const ok = await page
        .waitForURL((u) => u.toString().includes(step.contains), {
          timeout: step.timeout_ms || STEP_TIMEOUT_MS,
          waitUntil: "load",
        })
        .then(() => true)
        .catch(() => false);
      return { ok, url: page.url() };
    }
    case "screenshot":
      mkdirSync(dirname(step.path), { recursive: true });
      await page.screenshot({ path: step.path, fullPage: step.full_page !== false });
      return { path: step.path };
    case "tab": {
      // Start from the top: focus a throwaway element at the start of <body>, so Tab moves to
      // the first focusable element whatever was clicked or focused before.
      await page.evaluate(() => {
        document.activeElement && document.activeElement.blur();
        const start = document.createElement("span");
        start.tabIndex = -1;
        start.id = "__probe_tab_start";
        document.body.prepend(start);
        start.focus({ preventScroll: true });
      });
      const focused = [];
      for (let i = 0; i < (step.count || 1); i++) {
        await page.keyboard.press("Tab");
        if (i === 0) await page.evaluate(() => document.getElementById("__probe_tab_start")?.remove());
        focused.push(
          await page.evaluate(() => {
            const el = document.activeElement;
            if (!el || el === document.body) return null;
            const style = getComputedStyle(el);
            const outline = style.outlineStyle !== "none" && style.outlineWidth !== "0px";
            return {
              tag: el.tagName.toLowerCase(),
              text: (el.innerText || el.value || el.getAttribute("aria-label") || "").trim(),
              outline_visible: outline || style.boxShadow !== "none",
            };
          }),
        );
      }
      return { focused };
    }
    default:
      return { error: `unknown action ${step.action}` };
  }
}

async function runVisit(browser, visit) {
  const context = await browser.newContext({
    viewport: visit.viewport || { width: 1280, height: 800 },
    userAgent: visit.user_agent,
    locale: visit.locale,
    isMobile: !!visit.is_mobile,
    hasTouch: !!visit.has_touch,
  });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  const page = await context.newPage();
  const report = {
    name: visit.name,
    steps: [],
    console_errors: [],
    csp_violations: [],
    csp_messages: [],
    external_requests: [],
    failed_requests: [],
  };
  // CSP violations as objects, reported through a binding so none is lost to a navigation.
  // Chromium also logs each one to the console; those lines go to csp_messages.
  const seen = new Set();
  await page.exposeBinding("__probeCsp", (_source, v) => {
    const key = JSON.stringify(v);
    if (!seen.has(key)) seen.add(key), report.csp_violations.push(v);
  });
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      window.__probeCsp({
        violatedDirective: e.violatedDirective,
        blockedURI: e.blockedURI,
        sourceFile: e.sourceFile || null,
        lineNumber: e.lineNumber || null,
        disposition: e.disposition,
      });
    });
  });
  // Nothing leaves the machine: external requests are recorded and refused.
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (isLocal(url)) return route.continue();
    report.external_requests.push(url);
    return route.abort();
  });
  page.on("console", (msg) => {
    if (msg.type() !== "error") return;
    const text = msg.text();
    if (/Content Security Policy/i.test(text)) report.csp_messages.push(text);
    else report.console_errors.push(text);
  });
  page.on("pageerror", (err) => report.console_errors.push(String(err)));
  page.on("requestfailed", (req) => {
    if (isLocal(req.url())) {
      report.failed_requests.push({ url: req.url(), failure: req.failure()?.errorText });
    }
  });
  let lastStatus = null;
  for (const step of visit.steps) {
    let result;
    try {
      result = await runStep(page, step, lastStatus);
    } catch (e) {
      result = { error: clean(e) };
    }
    if (step.action === "goto" || step.action === "click") lastStatus = result.status ?? lastStatus;
    report.steps.push({ action: step.action, ...result });
  }
  await context.close();
  return report;
}

const plan = JSON.parse(await readStdin());
const executablePath = plan.chromium || process.env.CHROMIUM || "/usr/bin/chromium";
const browser = await chromium.launch({ executablePath, args: FLAGS });
try {
  const visits = [];
  for (const visit of plan.visits) visits.push(await runVisit(browser, visit));
  process.stdout.write(JSON.stringify({ visits }));
} finally {
  await browser.close();
}
