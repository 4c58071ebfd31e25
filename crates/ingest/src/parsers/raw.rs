//! `raw`: a line kept as it is. What `auto` falls back to for lines of no known format, so
//! that nothing is lost and the text is still searchable.

use crate::{Format, ParseContext, ParseError, RecordParser, normalize};
use haechi_event::{Event, ecs};

/// Keeps each record as `message`, stamped with the time it was received.
pub struct RawParser;

impl RecordParser for RawParser {
    fn format(&self) -> Format {
        Format::Raw
    }

    fn parse(&mut self, record: &str, ctx: &ParseContext) -> Result<Option<Event>, ParseError> {
        let text = record.trim_end_matches(['\r', '\n']);
        if text.trim().is_empty() {
            return Ok(None);
        }
        let mut event = Event::new(ctx.received, ctx.tenant.clone(), 3);
        event.push(ecs::MESSAGE, text);
        normalize::categorize(&mut event, "event", &[], &[]);
        Ok(Some(event))
    }
}
