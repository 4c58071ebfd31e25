//! The tantivy schema of a partition and how an event becomes a document.
//!
//! | tantivy field | holds | serves |
//! |---|---|---|
//! | `ts` | `@timestamp` (date, nanoseconds, indexed + fast) | time ranges, newest-first order, histograms |
//! | `org` | `organization.id` (raw string, indexed + fast) | tenant isolation filter |
//! | `kw` | one token `field\0value` per keyword value (lower-cased), plus `\x01field` for a present text field | term, wildcard, string-range and exists queries on any field |
//! | `msg`, `orig` | `message`, `event.original` (words, with positions) | free text, phrases |
//! | `num` | numeric values as a JSON object (fast) | numeric ranges on any field |
//! | `facet` | string values as a JSON object (fast, original case) | top-N counts by field |
//! | `ip_<field>` | the ECS IP fields (`source.ip`, …) as IPs (indexed + fast) | IP terms and CIDR ranges |
//! | `doc` | the event as flat JSON (stored, compressed) | returning events |
//!
//! The schema is fixed, whatever fields events carry: new device fields need no change.

use haechi_event::{Event, Value, ecs};
use std::net::{IpAddr, Ipv6Addr};
use tantivy::schema::{
    BytesOptions, DateOptions, DateTimePrecision, FAST, Field, IndexRecordOption, IpAddrOptions,
    JsonObjectOptions, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    LowerCaser, RawTokenizer, RemoveLongFilter, SimpleTokenizer, TextAnalyzer, TokenizerManager,
};
use tantivy::{DateTime, TantivyDocument};

/// Keyword values longer than this are indexed by their first `KW_MAX` bytes; matching
/// on such values considers that prefix. Free text covers the whole message.
pub const KW_MAX: usize = 8 * 1024;
/// Words longer than this are not indexed as free text.
pub const WORD_MAX: usize = 255;
/// Strings longer than this are not kept for top-N counts.
const FACET_MAX: usize = 512;

/// Separates field and value in a `kw` token.
pub const KW_SEP: char = '\0';
/// Starts the "field is present" token in `kw`.
pub const EXISTS_MARK: char = '\u{1}';

/// Handles to the fields of the partition schema.
#[derive(Clone)]
pub struct Fields {
    pub schema: Schema,
    pub ts: Field,
    pub org: Field,
    pub kw: Field,
    pub msg: Field,
    pub orig: Field,
    pub num: Field,
    pub facet: Field,
    pub doc: Field,
    /// `(ECS name, tantivy field)` for each of [`ecs::IP_FIELDS`].
    pub ips: Vec<(&'static str, Field)>,
}

/// The tantivy field name of an ECS IP field (`source.ip` → `ip_source_ip`).
pub fn ip_field_name(ecs_name: &str) -> String {
    format!("ip_{}", ecs_name.replace('.', "_"))
}

impl Fields {
    pub fn new() -> Fields {
        let mut b = Schema::builder();
        let ts = b.add_date_field(
            "ts",
            DateOptions::default()
                .set_indexed()
                .set_fast()
                .set_precision(DateTimePrecision::Nanoseconds),
        );
        let org = b.add_text_field("org", STRING | FAST);
        let kw_indexing = TextFieldIndexing::default()
            .set_tokenizer("kw")
            .set_index_option(IndexRecordOption::Basic);
        let kw = b.add_text_field(
            "kw",
            TextOptions::default().set_indexing_options(kw_indexing),
        );
        let words = TextFieldIndexing::default()
            .set_tokenizer("words")
            .set_index_option(IndexRecordOption::WithFreqsAndPositions);
        let msg = b.add_text_field(
            "msg",
            TextOptions::default().set_indexing_options(words.clone()),
        );
        let orig = b.add_text_field("orig", TextOptions::default().set_indexing_options(words));
        let num = b.add_json_field(
            "num",
            JsonObjectOptions::default()
                .set_fast("raw")
                .set_expand_dots_enabled(),
        );
        let facet = b.add_json_field(
            "facet",
            JsonObjectOptions::default()
                .set_fast("raw")
                .set_expand_dots_enabled(),
        );
        let doc = b.add_bytes_field("doc", BytesOptions::default().set_stored());
        let ips = ecs::IP_FIELDS
            .iter()
            .map(|name| {
                (
                    *name,
                    b.add_ip_addr_field(
                        &ip_field_name(name),
                        IpAddrOptions::default().set_indexed().set_fast(),
                    ),
                )
            })
            .collect();
        Fields {
            schema: b.build(),
            ts,
            org,
            kw,
            msg,
            orig,
            num,
            facet,
            doc,
            ips,
        }
    }

    /// Registers the analyzers the schema names on an index's tokenizer manager.
    pub fn register_tokenizers(tokenizers: &TokenizerManager) {
        tokenizers.register(
            "kw",
            TextAnalyzer::builder(RawTokenizer::default())
                .filter(LowerCaser)
                .build(),
        );
        tokenizers.register(
            "words",
            TextAnalyzer::builder(SimpleTokenizer::default())
                .filter(RemoveLongFilter::limit(WORD_MAX + 1))
                .filter(LowerCaser)
                .build(),
        );
    }

    pub fn ip_field(&self, ecs_name: &str) -> Option<Field> {
        self.ips
            .iter()
            .find(|(n, _)| *n == ecs_name)
            .map(|(_, f)| *f)
    }

    /// Builds the document for `event`, whose flat JSON form is `json` (stored as is).
    pub fn document(&self, event: &Event, json: &[u8]) -> TantivyDocument {
        let mut doc = TantivyDocument::default();
        doc.add_date(
            self.ts,
            DateTime::from_timestamp_nanos(event.timestamp.nanos()),
        );
        doc.add_text(self.org, &event.tenant);
        doc.add_bytes(self.doc, json);
        doc.add_text(self.kw, kw_token(ecs::ORGANIZATION_ID, &event.tenant));
        let mut nums: Vec<(String, tantivy::schema::OwnedValue)> = Vec::new();
        let mut facets: Vec<(String, tantivy::schema::OwnedValue)> = Vec::new();
        for (name, value) in &event.fields {
            // Text fields are searched by their words, not as one keyword: a whole log
            // line as a term would only bloat the term dictionary. They alone need a
            // presence token; a keyword field is present when it has any `field\0…` term.
            if name == ecs::MESSAGE || name == ecs::EVENT_ORIGINAL {
                doc.add_text(self.kw, exists_token(name));
                doc.add_text(
                    if name == ecs::MESSAGE {
                        self.msg
                    } else {
                        self.orig
                    },
                    value.as_text(),
                );
                continue;
            }
            let ip_field = self.ip_field(name);
            for scalar in value.scalars() {
                self.add_scalar(&mut doc, name, scalar, ip_field, &mut nums, &mut facets);
            }
        }
        if !nums.is_empty() {
            doc.add_field_value(self.num, &tantivy::schema::OwnedValue::Object(nums));
        }
        if !facets.is_empty() {
            doc.add_field_value(self.facet, &tantivy::schema::OwnedValue::Object(facets));
        }
        doc
    }

    fn add_scalar(
        &self,
        doc: &mut TantivyDocument,
        name: &str,
        value: &Value,
        ip_field: Option<Field>,
        nums: &mut Vec<(String, tantivy::schema::OwnedValue)>,
        facets: &mut Vec<(String, tantivy::schema::OwnedValue)>,
    ) {
        use tantivy::schema::OwnedValue as O;
        let text = value.as_text();
        doc.add_text(self.kw, kw_token(name, &text));
        match value {
            Value::Int(i) => nums.push((name.to_owned(), O::I64(*i))),
            Value::Float(x) => nums.push((name.to_owned(), O::F64(*x))),
            _ => {}
        }
        if let Some(f) = ip_field
            && let Some(ip) = value.as_ip()
        {
            doc.add_ip_addr(f, to_v6(ip));
        }
        if !matches!(value, Value::Int(_) | Value::Float(_)) && text.len() <= FACET_MAX {
            facets.push((name.to_owned(), O::Str(text.into_owned())));
        }
    }
}

impl Default for Fields {
    fn default() -> Self {
        Fields::new()
    }
}

/// The `kw` token of a field value: `field\0value`, the value cut to [`KW_MAX`] bytes.
/// (Lower-casing is the analyzer's job, the same for documents and queries.)
pub fn kw_token(field: &str, value: &str) -> String {
    let mut cut = value.len().min(KW_MAX);
    while !value.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut token = String::with_capacity(field.len() + 1 + cut);
    token.push_str(field);
    token.push(KW_SEP);
    token.push_str(&value[..cut]);
    token
}

/// The `kw` token saying that a field is present.
pub fn exists_token(field: &str) -> String {
    let mut token = String::with_capacity(field.len() + 1);
    token.push(EXISTS_MARK);
    token.push_str(field);
    token
}

/// tantivy keeps every IP as IPv6; IPv4 becomes IPv4-mapped.
pub fn to_v6(ip: IpAddr) -> Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}
