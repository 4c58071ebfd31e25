//! # Threat-intel indicators
//!
//! Haechi imports indicator feeds — harmful IPs and networks, domains, URLs, file hashes,
//! e-mail addresses — and checks every event against all of them. This crate owns that:
//! reading feeds, holding millions of indicators compactly, and matching.
//!
//! * A [`FeedConfig`] describes one feed: its file, its [`FeedFormat`] (plain list, CSV
//!   with a column mapping, STIX 2.1 bundle, MISP event), its source name and defaults.
//!   The [`load`] modules read each format.
//! * An [`IndicatorSetBuilder`] loads feeds ([`IndicatorSetBuilder::load_feed`]), each
//!   giving a [`LoadReport`] (indicators per [`IndicatorKind`], every skipped entry with
//!   its line and [`SkipReason`]) or a [`LoadError`] when a feed is unusable or over the
//!   [`Limits`] — after which the builder is as it was before that feed.
//! * [`IndicatorSetBuilder::build`] sorts everything into an [`IndicatorSet`]: one compact
//!   sorted table per kind (see [`set`] for the layout; about 8 bytes per IPv4 address, 36
//!   per SHA-256, 16 plus the text per domain), with metadata — source, confidence,
//!   description, ids, TLP ([`IndicatorMeta`]) — interned once and referenced by a 4-byte
//!   index. [`IndicatorSet::memory_bytes`] says what it holds.
//! * [`IndicatorSet::match_event`] (or a [`Matcher`] with another field table) looks up
//!   the fields of an event listed in [`FIELDS`] and [`ENDPOINT_FIELDS`] — the one place
//!   that says which ECS field is checked as what — and fills a reusable `Vec<`[`Hit`]`>`:
//!   which indicator, which field and value, and the indicator's metadata. Nothing is
//!   allocated unless something matches.
//! * [`SharedIndicators`] holds the current set behind an `Arc`, so that feeds update
//!   without a restart: build a new set in the background, [`SharedIndicators::replace`]
//!   it, and matchers pick it up at their next [`SharedIndicators::load`].
//!
//! Matching semantics, in short: a listed domain matches itself and every name below it
//! (`evil.com` matches `a.b.evil.com`, not `notevil.com`); an address matches listed
//! addresses and every listed CIDR range containing it (IPv4-mapped IPv6 addresses as
//! IPv4); an IP:port matches an event endpoint with both; URLs match in the normal form
//! of [`normalize`] (and an event URL's host is also looked up as a domain or address);
//! hashes and e-mail addresses match case-insensitively.
//!
//! ```
//! use haechi_ioc::{FeedConfig, FeedFormat, IndicatorSetBuilder};
//! use haechi_event::{Event, Timestamp, Value};
//!
//! let mut builder = IndicatorSetBuilder::default();
//! let feed = FeedConfig::new("my-list", "", FeedFormat::Plain);
//! let report = builder.load_feed_bytes(&feed, b"# bad hosts\nevil.com\n10.0.0.0/8 # lab\n")?;
//! assert_eq!(report.accepted.total(), 2);
//! let set = builder.build();
//!
//! let mut event = Event::new(Timestamp::now(), "seoul".into(), 2);
//! event.push("dns.question.name", "www.EVIL.com");
//! event.push("destination.ip", Value::Ip("10.1.2.3".parse().unwrap()));
//! let mut hits = Vec::new();
//! set.match_event(&event, &mut hits);
//! assert_eq!(hits.len(), 2);
//! assert_eq!((hits[0].indicator.as_str(), hits[0].field), ("evil.com", "dns.question.name"));
//! assert_eq!(hits[1].description(), Some("lab"));
//! # Ok::<(), haechi_ioc::LoadError>(())
//! ```

mod builder;
pub mod kind;
mod limits;
pub mod load;
pub mod matcher;
pub mod meta;
pub mod normalize;
pub mod report;
pub mod set;
mod shared;
mod table;

pub use builder::{IndicatorSetBuilder, MetaId};
pub use kind::{IndicatorKind, IndicatorValue};
pub use limits::Limits;
pub use load::{Column, FeedConfig, FeedFormat, IpPortPolicy, Reliability};
pub use matcher::{ENDPOINT_FIELDS, FIELDS, FieldRole, FieldSpec, Hit, Matcher};
pub use meta::IndicatorMeta;
pub use report::{KindCounts, LoadError, LoadReport, Location, SkipReason, Skipped};
pub use set::{IndicatorId, IndicatorSet, Observable};
pub use shared::SharedIndicators;
