// The official npm SDK publishes a video and photos to every platform Postgate emulates.
// Only the base URL changes. Environment: POSTGATE_BASE_URL (…/api), POSTGATE_API_KEY,
// POSTGATE_EVERYWHERE_PROFILE (a profile connected to all eleven sandbox platforms as the
// first fake person), POSTGATE_VIDEO (an MP4 file), POSTGATE_THUMBNAIL_URL (a JPEG). Prints one line per call covered; exits
// non-zero on the first failure.
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { UploadPost } from "upload-post";

const client = new UploadPost(process.env.POSTGATE_API_KEY);
client.baseUrl = process.env.POSTGATE_BASE_URL;
const USER = process.env.POSTGATE_EVERYWHERE_PROFILE;
const VIDEO = process.env.POSTGATE_VIDEO;
// A poster image for the video, by URL as the SDK sends it (Reddit requires one).
const THUMBNAIL_URL = process.env.POSTGATE_THUMBNAIL_URL;
const here = path.dirname(fileURLToPath(import.meta.url));
const PHOTO = path.join(here, "..", "..", "fixtures", "media", "pixel.jpg");

const EVERY = ["tiktok", "instagram", "youtube", "facebook", "x", "threads", "linkedin",
  "pinterest", "bluesky", "reddit", "google_business"];
// YouTube has no photo posts in its API: Upload-Post's uploadPhotos does not offer it.
const PHOTO_PLATFORMS = EVERY.filter((p) => p !== "youtube");

const covered = (call) => console.log(`node: ${call} ok`);
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Polls an upload the way the SDK's users do until it is final; its status.
async function settled(answer) {
  assert.equal(answer.success, true, JSON.stringify(answer));
  let status;
  for (let i = 0; i < 1200; i++) {
    status = await client.getStatus(answer.request_id);
    if (status.status === "completed" || status.status === "failed") return status;
    await pause(100);
  }
  throw new Error(`the upload did not finish: ${JSON.stringify(status)}`);
}

function assertPublished(status, platforms) {
  const results = Object.fromEntries(status.results.map((r) => [r.platform, r]));
  assert.deepEqual(Object.keys(results).sort(), [...platforms].sort(), JSON.stringify(status));
  for (const [platform, result] of Object.entries(results)) {
    assert.equal(result.success, true, `${platform}: ${JSON.stringify(result)}`);
  }
}

const board = (await client.getPinterestBoards(USER)).boards[0].id;
const page = (await client.getFacebookPages(USER)).pages[0].page_id;
// The npm SDK cannot pick a Google Business location: the API can, as its users do.
const picked = await fetch(`${client.baseUrl}/uploadposts/google-business/locations/select`, {
  method: "POST",
  headers: { Authorization: `Apikey ${process.env.POSTGATE_API_KEY}`, "Content-Type": "application/json" },
  body: JSON.stringify({ location_id: "111111111", profile: USER }),
});
assert.equal(picked.status, 200, await picked.text());
const where = { pinterestBoardId: board, facebookPageId: page, redditSubreddit: "postgate" };

const video = await client.upload(VIDEO, {
  title: "A tour of the bakery", user: USER, platforms: EVERY,
  description: "Fresh bread every morning", youtubeThumbnailUrl: THUMBNAIL_URL, asyncUpload: true,
  ...where,
});
assertPublished(await settled(video), EVERY);
covered("upload everywhere");

const photos = await client.uploadPhotos([PHOTO], {
  title: "A loaf", user: USER, platforms: PHOTO_PLATFORMS, asyncUpload: true, ...where,
});
assertPublished(await settled(photos), PHOTO_PLATFORMS);
covered("uploadPhotos everywhere");
