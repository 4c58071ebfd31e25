//! The live alert feed the console's queue listens to:
//!
//! * `GET /api/alerts/stream?min_level=` — Server-Sent Events. Each `alert` event carries
//!   one stored alert as JSON (an alert merged into an earlier one comes again with the
//!   same id). A caller bound to an institution receives only that institution's alerts.
//!   When the console falls behind by more than the feed holds, a `resync` event tells it
//!   to reload its list instead of silently missing alerts. A comment is sent every 15 s
//!   so that proxies keep the connection open.

use crate::{AppState, Caller, error};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream, StreamExt};
use haechi_event::{Alert, Level};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::{self, error::RecvError};

/// The sender side of the feed: every batch of stored alerts.
pub type LiveFeed = broadcast::Sender<Arc<Vec<Alert>>>;

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct StreamParams {
    min_level: Option<String>,
}

pub async fn stream(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<StreamParams>,
) -> Response {
    let Some(feed) = state.live.clone() else {
        return error(
            StatusCode::NOT_FOUND,
            "detection is off: there is no alert feed",
        );
    };
    let min_level = match params.min_level.as_deref().map(Level::parse) {
        None => Level::Informational,
        Some(Some(l)) => l,
        Some(None) => {
            return error(
                StatusCode::BAD_REQUEST,
                "min_level: use informational, low, medium, high or critical",
            );
        }
    };
    let scope = Scope {
        tenant: caller.tenant.clone(),
        min_level,
    };
    Sse::new(events(feed.subscribe(), scope))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

/// What one listener may and wants to see.
struct Scope {
    tenant: Option<String>,
    min_level: Level,
}

impl Scope {
    fn admits(&self, alert: &Alert) -> bool {
        alert.level >= self.min_level && self.tenant.as_deref().is_none_or(|t| t == alert.tenant)
    }
}

/// The SSE events of one listener: its alerts, or `resync` after falling behind.
fn events(
    rx: broadcast::Receiver<Arc<Vec<Alert>>>,
    scope: Scope,
) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold((rx, scope), |(mut rx, scope)| async move {
        loop {
            let batch: Vec<Event> = match rx.recv().await {
                Ok(batch) => batch
                    .iter()
                    .filter(|a| scope.admits(a))
                    .filter_map(|a| Event::default().event("alert").json_data(a).ok())
                    .collect(),
                Err(RecvError::Lagged(missed)) => {
                    vec![Event::default().event("resync").data(missed.to_string())]
                }
                Err(RecvError::Closed) => return None,
            };
            if !batch.is_empty() {
                return Some((stream::iter(batch.into_iter().map(Ok)), (rx, scope)));
            }
        }
    })
    .flatten()
}
