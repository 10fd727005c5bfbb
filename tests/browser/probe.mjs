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
    headings: [...document.querySelectorAll("h1, h2, h3")].map((h) => ({
      level: Number(h.tagName[1]),
      text: h.innerText.trim(),
    })),
    images: [...document.images].map((i) => ({ src: i.src, alt: i.alt, visible: visible(i) })),
    stylesheets_loaded: [...document.styleSheets].length,
  };
}

async function runStep(page, step, lastStatus) {
  switch (step.action) {
    case "goto": {
      const resp = await page.goto(step.url, { waitUntil: "load", timeout: STEP_TIMEOUT_MS });
      return { status: resp ? resp.status() : null, url: page.url() };
    }
    case "collect":
      return { status: lastStatus, ...(await page.evaluate(collectInPage)) };
    case "click": {
      const target = page.locator(step.selector).locator("visible=true").first();
      if ((await target.count()) === 0) return { error: `nothing visible matches ${step.selector}` };
      const [resp] = await Promise.all([
        page.waitForNavigation({ waitUntil: "load", timeout: STEP_TIMEOUT_MS }).catch(() => null),
        target.click({ timeout: STEP_TIMEOUT_MS }),
      ]);
      return { status: resp ? resp.status() : null, url: page.url() };
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
      await page.evaluate(() => document.activeElement && document.activeElement.blur());
      const focused = [];
      for (let i = 0; i < (step.count || 1); i++) {
        await page.keyboard.press("Tab");
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
  const page = await context.newPage();
  const report = {
    name: visit.name,
    steps: [],
    console_errors: [],
    csp_violations: [],
    external_requests: [],
    failed_requests: [],
  };
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
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
    if (/Content Security Policy|CSP violation/i.test(text)) report.csp_violations.push(text);
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
      result = { error: String(e) };
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
