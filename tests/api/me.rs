//! `GET /api/uploadposts/me`.

use crate::support::{TestApp, send};
use crate::{assert_wire, cases};

cases![me_describes_the_account];

async fn me_describes_the_account(app: &TestApp) {
    app.create_profile("one").await;
    let (status, body) = send(app.get("/me")).await;
    assert_eq!(body["usage"]["profiles"], 2);
    assert_wire!("me_200", status, body, {".body.api_usage.last_reset" => "[period_start]"});
}
