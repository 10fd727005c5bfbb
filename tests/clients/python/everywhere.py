"""The official Python SDK publishes a video and photos to every platform Postgate emulates.

Only the base URL changes. Environment: POSTGATE_BASE_URL (…/api), POSTGATE_API_KEY,
POSTGATE_EVERYWHERE_PROFILE (a profile connected to all eleven sandbox platforms as the
first fake person), POSTGATE_VIDEO (an MP4 file), POSTGATE_THUMBNAIL_URL (a JPEG). Prints one line per call covered; exits
non-zero on the first failure.
"""

import os
import time

from upload_post import UploadPostClient

client = UploadPostClient(api_key=os.environ["POSTGATE_API_KEY"])
client.BASE_URL = os.environ["POSTGATE_BASE_URL"]
USER = os.environ["POSTGATE_EVERYWHERE_PROFILE"]
VIDEO = os.environ["POSTGATE_VIDEO"]
# A poster image for the video, by URL as the SDK sends it (Reddit requires one).
THUMBNAIL_URL = os.environ["POSTGATE_THUMBNAIL_URL"]
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures", "media")
PHOTO = os.path.join(FIXTURES, "pixel.jpg")

EVERY = ["tiktok", "instagram", "youtube", "facebook", "x", "threads", "linkedin",
         "pinterest", "bluesky", "reddit", "google_business"]
# YouTube has no photo posts in its API: Upload-Post's upload_photos does not offer it.
PHOTO_PLATFORMS = [p for p in EVERY if p != "youtube"]


def covered(call):
    print(f"python: {call} ok", flush=True)


def settled(answer):
    """Polls an upload the way the SDK's users do until it is final; its status."""
    assert answer["success"] is True, answer
    for _ in range(1200):
        status = client.get_status(answer["request_id"])
        if status.get("status") in ("completed", "failed"):
            return status
        time.sleep(0.1)
    raise AssertionError(f"the upload did not finish: {status}")


def assert_published(status, platforms):
    results = {r["platform"]: r for r in status["results"]}
    assert set(results) == set(platforms), status
    for platform, result in results.items():
        assert result["success"] is True, (platform, result)
        assert result["post_url"] or result.get("platform_post_id"), (platform, result)


# Where posts go on the accounts that manage several: a board, a Page, a location.
board = client.get_pinterest_boards(USER)["boards"][0]["id"]
client.select_google_business_location("111111111", profile=USER)
page = client.get_facebook_pages(USER)["pages"][0]["page_id"]
where = dict(
    pinterest_board_id=board,
    facebook_page_id=page,
    subreddit="postgate",
)

video = client.upload_video(
    VIDEO, title="A tour of the bakery", user=USER, platforms=EVERY,
    description="Fresh bread every morning", thumbnail_url=THUMBNAIL_URL, async_upload=True,
    **where,
)
assert_published(settled(video), EVERY)
covered("upload_video everywhere")

photos = client.upload_photos(
    [PHOTO], title="A loaf", user=USER, platforms=PHOTO_PLATFORMS,
    async_upload=True, **where,
)
assert_published(settled(photos), PHOTO_PLATFORMS)
covered("upload_photos everywhere")
