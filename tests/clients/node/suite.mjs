// The official npm SDK (upload-post 2.14.0, unmodified) against a live Postgate.
// Only the base URL changes. Every call asserts on what comes back. Environment:
// POSTGATE_BASE_URL (…/api), POSTGATE_API_KEY, POSTGATE_WEBHOOK_URL (a receiver the caller
// watches). Prints one line per SDK method covered; exits non-zero on the first failure.
import assert from "node:assert/strict";
import { UploadPost } from "upload-post";

const client = new UploadPost(process.env.POSTGATE_API_KEY);
client.baseUrl = process.env.POSTGATE_BASE_URL;
const WEBHOOK_URL = process.env.POSTGATE_WEBHOOK_URL;

const covered = (method) => console.log(`node: ${method} ok`);
async function expectError(promise, needle) {
  await assert.rejects(promise, (e) => {
    assert.match(e.message, new RegExp(needle));
    return true;
  });
}
const tokenOf = (accessUrl) => new URL(accessUrl).searchParams.get("token");

// Users
const created = await client.createUser("node-bob");
assert.equal(created.success, true);
assert.equal(created.profile.username, "node-bob");
covered("createUser");
await expectError(client.createUser("node-bob"), "already exists");
const listed = await client.listUsers();
assert.ok(listed.profiles.some((p) => p.username === "node-bob"));
covered("listUsers");

// Connect links with every option; ui_labels {} is sent by this SDK and clears labels.
const link = await client.generateJwt("node-bob", {
  redirectUrl: "https://app.example.com/done",
  logoImage: "https://cdn.example.com/logo.png",
  redirectButtonText: "Back to the app",
  platforms: ["tiktok", "threads", "google_business"],
  showCalendar: false,
  readonlyCalendar: true,
  connectTitle: "Connect Example",
  connectDescription: "Pick your channels",
  language: "pl",
  uiLabels: { "connect.title": "Połącz" },
});
assert.equal(link.success, true);
assert.equal(link.duration, "48h");
assert.match(link.access_url, /\/connect\?token=/);
covered("generateJwt");

// The npm SDK validates with GET and the token as Bearer.
const valid = await client.validateJwt(tokenOf(link.access_url));
assert.equal(valid.success, true);
assert.equal(valid.isValid, true);
assert.equal(valid.profile.username, "node-bob");
assert.equal(valid.profile.language, "pl");
assert.deepEqual(valid.profile.ui_labels, { "connect.title": "Połącz" });
assert.deepEqual(valid.profile.platforms, ["tiktok", "threads", "google_business"]);
assert.equal(valid.profile.show_calendar, false);
assert.equal(valid.profile.readonly_calendar, true);
assert.equal(valid.profile.social_accounts.x, null);
await expectError(client.validateJwt("forged.token.value"), "Invalid or expired token");
covered("validateJwt");
const cleared = await client.generateJwt("node-bob", { uiLabels: {} });
const afterClear = await client.validateJwt(tokenOf(cleared.access_url));
assert.deepEqual(afterClear.profile.ui_labels, {});
await expectError(client.generateJwt("nobody"), "Profile not found");

// Preferences
const prefs = await client.getUserPreferences();
assert.ok([0, 1].includes(prefs.preferences.week_start_day));
covered("getUserPreferences");
const updated = await client.updateUserPreferences({ weekStartDay: 0 });
assert.deepEqual(updated.preferences, { weekStartDay: 0, week_start_day: 0 });
await client.updateUserPreferences({ weekStartDay: 1 });
await expectError(client.updateUserPreferences({ weekStartDay: 3 }), "weekStartDay must be 0");
covered("updateUserPreferences");

// Notification config on /users/notifications, read under `config` as the d.ts types it.
const config = await client.getNotificationConfig();
assert.equal(config.success, true);
covered("getNotificationConfig");
const saved = await client.updateNotificationConfig({
  webhookUrl: WEBHOOK_URL,
  webhookEvents: ["social_account_reauth_required"],
  channels: ["webhook", "telegram"],
  telegramChatId: "123456789",
});
assert.equal(saved.config.webhook_url, WEBHOOK_URL);
assert.match(saved.config.webhook_secret, /^whsec_/);
assert.equal(saved.config.channels.webhook, true);
assert.equal(saved.config.channels.telegram, true);
assert.equal(saved.config.webhook_events.social_account_reauth_required, true);
assert.equal(saved.config.webhook_events.upload_completed, false);
assert.equal(saved.config.telegram_chat_id, "123456789");
assert.deepEqual(saved.notifications, saved.config);
covered("updateNotificationConfig");
const test = await client.testNotifications();
assert.equal(test.success, true);
assert.match(test.delivery_id, /^dlv_/);
console.log(`node: testNotifications ok ${test.delivery_id}`);

// Pages, boards and locations of a profile the caller connected through the sandbox (as
// Alex Rivera), read the way the d.ts types them (`pages[].id/name`, `boards[].id/name`).
const PAGES = process.env.POSTGATE_PAGES_PROFILE;
const fb = await client.getFacebookPages(PAGES);
assert.deepEqual(fb.pages.map((p) => p.name), ["Alex Rivera's Bakery", "Alex Rivera Photography"]);
assert.ok(fb.pages.every((p) => p.id && p.id === p.page_id));
covered("getFacebookPages");
const li = await client.getLinkedinPages(PAGES);
assert.deepEqual(li.pages.map((p) => p.id), ["urn:li:organization:123411", "urn:li:organization:123412"]);
covered("getLinkedinPages");
const boards = await client.getPinterestBoards(PAGES);
assert.deepEqual(boards.boards.map((b) => b.name), ["Summer Recipes", "Home Ideas", "Drafts"]);
assert.equal(boards.pinterest_account_used, "alex.rivera");
covered("getPinterestBoards");
const { locations } = await client.getGoogleBusinessLocations(PAGES);
assert.equal(locations[0].name, "accounts/123456781/locations/111111111");
covered("getGoogleBusinessLocations");
// This SDK refuses location selection itself, before any request (its README says so).
await assert.rejects(() => client.selectGoogleBusinessLocation("111111111", PAGES), /not supported/);
covered("selectGoogleBusinessLocation");

// Publishing, to the X and Bluesky accounts the caller connected on the same profile.
const FIXTURES = new URL("../../fixtures/media/", import.meta.url);
const sent = await client.uploadText({
  user: PAGES,
  title: "Hello from the npm SDK",
  platforms: ["x", "bluesky", "linkedin"],
  idempotencyKey: "node-launch-1",
});
assert.equal(sent.success, true);
assert.equal(sent.results.x.success, true);
assert.equal(sent.results.bluesky.success, true);
// LinkedIn is connected too (as a person): text goes there as well.
assert.equal(sent.results.linkedin.success, true, JSON.stringify(sent));
covered("uploadText");
const again = await client.uploadText({
  user: PAGES,
  title: "Hello from the npm SDK",
  platforms: ["x", "bluesky", "linkedin"],
  idempotencyKey: "node-launch-1",
});
assert.equal(again.job_id, sent.job_id);
assert.equal(again.idempotent_replay, true);
covered("idempotencyKey");
const status = await client.getStatus(sent.request_id);
assert.equal(status.status, "completed");
assert.equal(status.success, true);
covered("getStatus");
const photos = await client.uploadPhotos([new URL("pixel.png", FIXTURES).pathname], {
  user: PAGES,
  title: "A pixel",
  platforms: ["bluesky"],
  asyncUpload: true,
});
let polled;
for (let i = 0; i < 300; i++) {
  polled = await client.getStatus(photos.request_id);
  if (polled.success === true || ["completed", "failed"].includes(polled.status)) break;
  await new Promise((r) => setTimeout(r, 50));
}
assert.equal(polled.success, true, JSON.stringify(polled));
covered("uploadPhotos");
const history = await client.getHistory({ page: 1, limit: 20 });
assert.equal(history.total, 4);
covered("getHistory");
const later = new Date(Date.now() + 3 * 3600 * 1000).toISOString();
const scheduled = await client.uploadText({
  user: PAGES,
  title: "Later from the npm SDK",
  platforms: ["x"],
  scheduledDate: later,
});
assert.ok(scheduled.job_id);
assert.equal((await client.getJobStatus(scheduled.job_id)).status, "pending");
covered("getJobStatus");
const schedule = await client.listScheduled();
assert.deepEqual(schedule.scheduled_posts.map((p) => p.job_id), [scheduled.job_id]);
covered("listScheduled");
const moved = await client.editScheduled(scheduled.job_id, { scheduledDate: later, timezone: "UTC" });
assert.equal(moved.success, true);
covered("editScheduled");
const cancelled = await client.cancelScheduled(scheduled.job_id);
assert.equal(cancelled.credits_refunded, 1);
covered("cancelScheduled");
await expectError(client.retryPost({ requestId: sent.request_id }), "Nothing to retry");
covered("retryPost");
const unpublished = await client.unpublishPost({ user: PAGES, platform: "bluesky", postId: sent.results.bluesky.post_id });
assert.equal(unpublished.message, "Post deleted successfully");
covered("unpublishPost");

const deleted = await client.deleteUser("node-bob");
assert.equal(deleted.success, true);
await expectError(client.validateJwt(tokenOf(link.access_url)), "Invalid or expired token");
await expectError(client.deleteUser("node-bob"), "Profile not found");
covered("deleteUser");
console.log("node: all good");
