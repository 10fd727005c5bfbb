"""The official Python SDK (upload-post 2.13.0, unmodified) against a live Postgate.

Only the base URL changes. Every call asserts on what comes back. Environment:
POSTGATE_BASE_URL (…/api), POSTGATE_API_KEY, POSTGATE_WEBHOOK_URL (a receiver the caller
watches). Prints one line per SDK method covered; exits non-zero on the first failure.
"""

import datetime
import os
import sys
import time
import urllib.parse

from upload_post import UploadPostClient
from upload_post.api_client import UploadPostError

client = UploadPostClient(api_key=os.environ["POSTGATE_API_KEY"])
client.BASE_URL = os.environ["POSTGATE_BASE_URL"]
WEBHOOK_URL = os.environ["POSTGATE_WEBHOOK_URL"]
# A profile the caller connected to Facebook, LinkedIn, Pinterest and Google Business
# through Postgate's sandbox, as its first fake person (Alex Rivera).
PAGES = os.environ["POSTGATE_PAGES_PROFILE"]


def covered(method):
    print(f"python: {method} ok", flush=True)


def expect_error(call, needle):
    try:
        call()
    except UploadPostError as e:
        assert needle in str(e), f"{needle!r} not in {e}"
        return
    raise AssertionError(f"expected an error containing {needle!r}")


def token_of(access_url):
    query = urllib.parse.urlparse(access_url).query
    return urllib.parse.parse_qs(query)["token"][0]


# Users
created = client.create_user("py-alice")
assert created["success"] is True
assert created["profile"]["username"] == "py-alice"
assert created["profile"]["social_accounts"]["tiktok"] == ""
covered("create_user")
expect_error(lambda: client.create_user("py-alice"), "already exists")
listed = client.list_users()
assert "py-alice" in [p["username"] for p in listed["profiles"]]
assert listed["limit"] == 10 and listed["plan"]
covered("list_users")

# Connect links, with every option the SDK has.
link = client.generate_jwt(
    "py-alice",
    redirect_url="https://app.example.com/done",
    logo_image="https://cdn.example.com/logo.png",
    redirect_button_text="Back to the app",
    platforms=["tiktok", "instagram", "linkedin", "youtube", "x"],
    show_calendar=True,
    readonly_calendar=False,
    connect_title="Connect Example",
    connect_description="Pick your channels",
    language="tr",
    ui_labels={"connect.connectButton": "Bağlan"},
)
assert link["success"] is True and link["duration"] == "48h"
assert "/connect?token=" in link["access_url"]
covered("generate_jwt")

# The Python SDK validates with POST {jwt} under the API key.
valid = client.validate_jwt(token_of(link["access_url"]))
assert valid["success"] is True and valid["isValid"] is True
profile = valid["profile"]
assert profile["username"] == "py-alice"
assert profile["language"] == "tr"
assert profile["ui_labels"] == {"connect.connectButton": "Bağlan"}
assert profile["platforms"] == ["tiktok", "instagram", "linkedin", "youtube", "x"]
assert profile["redirect_url"] == "https://app.example.com/done"
assert profile["logo_image"] == "https://cdn.example.com/logo.png"
assert profile["redirect_button_text"] == "Back to the app"
assert profile["connect_title"] == "Connect Example"
assert profile["connect_description"] == "Pick your channels"
assert profile["show_calendar"] is True and profile["readonly_calendar"] is False
assert profile["social_accounts"]["tiktok"] is None
invalid = client.validate_jwt("not-a-token")
assert invalid["success"] is False and invalid["isValid"] is False
covered("validate_jwt")

# Falsy options are dropped by the SDK: a bare link keeps the stored labels and language.
bare = client.generate_jwt("py-alice")
again = client.validate_jwt(token_of(bare["access_url"]))["profile"]
assert again["ui_labels"] == {"connect.connectButton": "Bağlan"}
assert again["language"] == "tr"
assert again["platforms"][0] == "tiktok" and len(again["platforms"]) == 11
expect_error(lambda: client.generate_jwt("nobody"), "Profile not found")
expect_error(lambda: client.generate_jwt("py-alice", language="it"), "language must be one of")

# Preferences: the SDK sends week_start_day, and an empty POST when given nothing.
prefs = client.get_user_preferences()
assert prefs["preferences"]["week_start_day"] in (0, 1)
covered("get_user_preferences")
updated = client.update_user_preferences(week_start_day=0)
assert updated["preferences"] == {"weekStartDay": 0, "week_start_day": 0}
unchanged = client.update_user_preferences()
assert unchanged["preferences"]["week_start_day"] == 0
client.update_user_preferences(week_start_day=1)
expect_error(lambda: client.update_user_preferences(week_start_day=5), "weekStartDay must be 0")
covered("update_user_preferences")

# Notification config on the SDK's own path, /notification-config.
config = client.get_notification_config()
assert config["success"] is True
covered("get_notification_config")
saved = client.update_notification_config(
    webhook_events=["social_account_connected", "social_account_disconnected"],
    webhook_url=WEBHOOK_URL,
)
cfg = saved["config"]
assert cfg["webhook_url"] == WEBHOOK_URL
assert cfg["webhook_secret"].startswith("whsec_")
assert cfg["webhook_events"]["social_account_connected"] is True
assert cfg["webhook_events"]["upload_completed"] is False
# No arguments: the SDK POSTs no body at all, which changes nothing.
same = client.update_notification_config()
assert same["config"] == cfg
assert client.get_notification_config()["config"]["webhook_url"] == WEBHOOK_URL
covered("update_notification_config")

# Pages, boards and locations of connected accounts, listed live from the (emulated)
# platforms, and the location pin the SDK knows as "select".
pages = client.get_facebook_pages(PAGES)
assert pages["success"] is True
assert [p["name"] for p in pages["pages"]] == ["Alex Rivera's Bakery", "Alex Rivera Photography"], pages
assert all(p["page_id"] == p["id"] and p["profile"] == PAGES for p in pages["pages"])
assert len(client.get_facebook_pages()["pages"]) >= 2
covered("get_facebook_pages")
linkedin = client.get_linkedin_pages(PAGES)
assert [p["id"] for p in linkedin["pages"]] == ["urn:li:organization:123411", "urn:li:organization:123412"], linkedin
assert linkedin["pages"][0]["vanityName"] == "consulting"
covered("get_linkedin_pages")
boards = client.get_pinterest_boards(PAGES)
assert [b["name"] for b in boards["boards"]] == ["Summer Recipes", "Home Ideas", "Drafts"], boards
assert boards["pinterest_account_used"] == "alex.rivera"
covered("get_pinterest_boards")
locations = client.get_google_business_locations(PAGES)
assert [l["name"] for l in locations["locations"]] == [
    "accounts/123456781/locations/111111111",
    "accounts/123456781/locations/222222221",
], locations
assert locations["locations"][0]["title"] == "Main Street Store"
covered("get_google_business_locations")
selected = client.select_google_business_location("222222221", profile=PAGES)
assert selected["google_business_id"] == "accounts/123456781/locations/222222221", selected
assert selected["display_name"] == "Harbor Kiosk"
covered("select_google_business_location")
expect_error(lambda: client.get_facebook_pages("nobody-here"), "Profile not found")

# Publishing, to the X and Bluesky accounts the caller connected on the same profile.
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures", "media")
sent = client.upload_text("Hello from the Python SDK", user=PAGES, platforms=["x", "bluesky", "threads"])
assert sent["success"] is True, sent
assert sent["results"]["x"]["success"] is True, sent
assert sent["results"]["bluesky"]["success"] is True, sent
assert sent["results"]["threads"]["skipped"] is True, sent
assert sent["usage"]["count"] == 2, sent
covered("upload_text")
status = client.get_status(sent["request_id"])
assert status["status"] == "completed" and status["success"] is True, status
assert {r["platform"] for r in status["results"]} == {"x", "bluesky", "threads"}, status
covered("get_status")
photos = client.upload_photos(
    [os.path.join(FIXTURES, "pixel.png")], title="A pixel", user=PAGES, platforms=["x"],
    async_upload=True,
)
assert photos["success"] is True and photos["request_id"], photos
for _ in range(300):
    polled = client.get_status(photos["request_id"])
    if polled.get("success") is True or polled["status"] in ("completed", "failed"):
        break
    time.sleep(0.05)
assert polled["success"] is True, polled
covered("upload_photos")
history = client.get_history(page=1, limit=20)
assert history["total"] == 4, history
assert {r["media_type"] for r in history["history"]} == {"text", "photo"}, history
covered("get_history")
later = (datetime.datetime.now() + datetime.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S")
scheduled = client.upload_text(
    "Later from the Python SDK", user=PAGES, platforms=["x"], scheduled_date=later,
    timezone="Europe/Berlin",
)
job_id = scheduled["job_id"]
assert scheduled["scheduled_date"].endswith("Z"), scheduled
assert client.get_job_status(job_id)["status"] == "pending"
covered("get_job_status")
listed = client.list_scheduled()
assert [p["job_id"] for p in listed["scheduled_posts"]] == [job_id], listed
assert listed["scheduled_posts"][0]["original_timezone"] == "Europe/Berlin", listed
covered("list_scheduled")
moved = client.edit_scheduled(job_id, scheduled_date=later, timezone="UTC")
assert moved["success"] is True and moved["scheduled_date"].endswith("Z"), moved
covered("edit_scheduled")
cancelled = client.cancel_scheduled(job_id)
assert cancelled["credits_refunded"] == 1, cancelled
covered("cancel_scheduled")
expect_error(lambda: client.retry_post(request_id=sent["request_id"]), "Nothing to retry")
covered("retry_post")
x_post = sent["results"]["x"]["post_id"]
gone_post = client.unpublish_post(PAGES, "x", x_post)
assert gone_post["message"] == "Post deleted successfully", gone_post
covered("unpublish_post")

# Deleting, last: the profile and its link go.
deleted = client.delete_user("py-alice")
assert deleted["success"] is True
gone = client.validate_jwt(token_of(link["access_url"]))
assert gone["isValid"] is False
expect_error(lambda: client.delete_user("py-alice"), "Profile not found")
covered("delete_user")
print("python: all good")
sys.exit(0)
