//! Feature extraction from a domain name alone: hashed character n-grams of the registrable
//! part (with `^`/`$` boundary markers), the hashed public suffix, and a few dense lexical
//! features. Everything works on stack buffers: no allocation per name.
//!
//! Two feature sets exist, chosen by [`crate::TrainConfig::host_features`] and recorded in the
//! model file:
//!
//! * **registrable** (`host_features = false`, the only one before host features existed, and
//!   what a model file without the key gets): n-grams of everything left of the public suffix
//!   as one string (`news.bbc` for `news.bbc.co.uk`), lexical features of that string.
//! * **host** (`host_features = true`, [`crate::DomainModel::default_config`]): the name is cut
//!   into *subdomain* labels, the *registrable label* (the label just left of the public
//!   suffix) and the suffix. N-grams of `^registrable$` use the hash of the registrable set;
//!   the 17 lexical features describe the registrable label. [`HOST_FEATURE_NAMES`] adds
//!   host-level features: hyphen runs (`---`; the `xn--` IDN prefix does not count), a commonly
//!   impersonated brand token ([`BRAND_TOKENS`]) in the subdomains or inside a registrable
//!   label that is not the brand's own ([`BRAND_OWNED_LABELS`]), credential words
//!   ([`CREDENTIAL_TOKENS`]), and whether the registrable part is a free-hosting /
//!   site-builder / dynamic-DNS suffix ([`FREE_HOSTS`]). Under such a suffix the subdomain
//!   labels are what the user chose, and only there are they read further: n-grams of
//!   `^sub.domain.labels$` with a differently salted hash (so the subdomain and registrable
//!   n-gram spaces are not shared by design, only by chance collisions as any two n-grams),
//!   the number of subdomain labels, the full-host length and the digits in subdomains.
//!   Reading them everywhere taught the model "has a subdomain ⇒ phishing" (the benign
//!   training names rarely have one): 64 % of the real DNS names of a lab capture scored
//!   ≥ 0.5 (docs/models/domains.md).
//!   The token lists are fixed, written from public knowledge (APWG-style most-phished-brand
//!   reports, the private section of the Public Suffix List); none is derived from the
//!   phishing training data. Tokens are matched on the lower-cased name; the bytes after
//!   the first two of a token are only compared when those two match (a 256-entry table per
//!   position), which keeps the scan cheap.

use serde::{Deserialize, Serialize};

/// Longest name we look at (DNS limit); longer inputs are truncated.
pub const MAX_NAME: usize = 253;

/// Feature-space configuration, stored in the model file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureConfig {
    /// The hashed n-gram/suffix space has `2^hash_bits` buckets (10..=24).
    pub hash_bits: u8,
    /// Smallest character n-gram.
    pub min_ngram: u8,
    /// Largest character n-gram (at most 8).
    pub max_ngram: u8,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig {
            hash_bits: 18,
            min_ngram: 2,
            max_ngram: 4,
        }
    }
}

/// Names of the dense lexical features, in weight order after the hashed space.
pub const LEXICAL_NAMES: [&str; 17] = [
    "len/16",
    "digit_ratio",
    "vowel_ratio",
    "consonant_ratio",
    "hyphen_ratio",
    "entropy/4",
    "max_consonant_run/8",
    "max_digit_run/8",
    "extra_labels",
    "char_class_switch_ratio",
    "len<=5",
    "len6-8",
    "len9-11",
    "len12-14",
    "len15-18",
    "len19-24",
    "len>=25",
];
pub(crate) const N_LEX: usize = LEXICAL_NAMES.len();

/// Names of the host-level features of the `host` feature set, in weight order after the
/// lexical features.
pub const HOST_FEATURE_NAMES: [&str; 8] = [
    "hyphen_run>=2",
    "brand_in_subdomain",
    "brand_in_registrable",
    "credential_words",
    "free_hosting_suffix",
    "free_host:subdomain_labels/4",
    "free_host:host_len/32",
    "free_host:subdomain_digits/8",
];
pub(crate) const N_HOST: usize = HOST_FEATURE_NAMES.len();

/// Brands commonly impersonated by phishing (the kind of list APWG and vendor phishing
/// reports publish: payment, big tech, parcel carriers, banks, crypto exchanges and wallets,
/// telecoms, streaming). `true`: matched only between non-letters (label edges, `-`, `.`,
/// digits), for tokens that occur inside ordinary words (`ups` in `groups`, `chase` in
/// `purchase`); `false`: matched anywhere in a label.
pub const BRAND_TOKENS: &[(&str, bool)] = &[
    ("paypal", false),
    ("apple", true),
    ("icloud", false),
    ("microsoft", false),
    ("office365", false),
    ("outlook", false),
    ("onedrive", false),
    ("sharepoint", false),
    ("amazon", false),
    ("netflix", false),
    ("facebook", false),
    ("instagram", false),
    ("whatsapp", false),
    ("google", false),
    ("gmail", false),
    ("yahoo", false),
    ("linkedin", false),
    ("dropbox", false),
    ("docusign", false),
    ("adobe", false),
    ("dhl", true),
    ("fedex", false),
    ("ups", true),
    ("usps", true),
    ("royalmail", false),
    ("auspost", false),
    ("chase", true),
    ("wellsfargo", false),
    ("bankofamerica", false),
    ("citibank", false),
    ("hsbc", true),
    ("santander", false),
    ("barclays", false),
    ("amex", true),
    ("americanexpress", false),
    ("itau", true),
    ("bradesco", false),
    ("nubank", false),
    ("caixa", true),
    ("mercadopago", false),
    ("mercadolibre", false),
    ("coinbase", false),
    ("binance", false),
    ("kraken", true),
    ("kucoin", false),
    ("bybit", false),
    ("okx", true),
    ("metamask", false),
    ("ledger", true),
    ("trezor", false),
    ("trustwallet", false),
    ("phantom", true),
    ("uniswap", false),
    ("opensea", false),
    ("blockchain", false),
    ("steam", true),
    ("roblox", false),
    ("discord", false),
    ("telegram", false),
    ("spotify", false),
    ("ebay", true),
    ("walmart", false),
    ("att", true),
    ("verizon", false),
    ("xfinity", false),
    ("comcast", false),
    ("rakuten", false),
];

/// Registrable labels that belong to a brand of [`BRAND_TOKENS`] although they are not the
/// bare token (`login.microsoftonline.com`, `s3.amazonaws.com`): a brand token inside or
/// left of one of these does not count. The bare token as registrable label
/// (`paypal.com`, `paypal.co.uk`) is always the brand's own.
pub const BRAND_OWNED_LABELS: &[&str] = &[
    "microsoftonline",
    "microsoftonline-p",
    "microsoftstore",
    "microsoft365",
    "onmicrosoft",
    "live",
    "office",
    "windows",
    "azure",
    "msn",
    "amazonaws",
    "amazonvideo",
    "amazontrust",
    "amazon-adsystem",
    "googleapis",
    "googleusercontent",
    "googlevideo",
    "googlesyndication",
    "googletagmanager",
    "googletagservices",
    "googleadservices",
    "google-analytics",
    "googlemail",
    "gstatic",
    "youtube",
    "facebookmail",
    "fbcdn",
    "cdninstagram",
    "paypalobjects",
    "paypal-objects",
    "dropboxusercontent",
    "dropboxapi",
    "adobelogin",
    "adobedtm",
    "yahooapis",
    "licdn",
    "icloud-content",
    "steampowered",
    "steamcommunity",
    "steamstatic",
    "discordapp",
    "spotifycdn",
    "ebayimg",
    "ebaystatic",
    "ledgerwallet",
];

/// Words of credential-harvesting host names (all matched anywhere in a label except
/// `auth`, `sso` and `pay`, which need non-letters around them).
pub const CREDENTIAL_TOKENS: &[(&str, bool)] = &[
    ("login", false),
    ("logon", false),
    ("signin", false),
    ("sign-in", false),
    ("secure", false),
    ("verify", false),
    ("verification", false),
    ("validate", false),
    ("confirm", false),
    ("account", false),
    ("update", false),
    ("wallet", false),
    ("support", false),
    ("recover", false),
    ("unlock", false),
    ("restore", false),
    ("suspend", false),
    ("billing", false),
    ("payment", false),
    ("invoice", false),
    ("refund", false),
    ("webmail", false),
    ("password", false),
    ("security", false),
    ("helpdesk", false),
    ("auth", true),
    ("sso", true),
    ("pay", true),
    ("airdrop", false),
    ("claim", false),
];

/// Registrable parts (registrable label + public suffix) of free hosting, site builders,
/// app platforms and dynamic DNS: whoever signs up gets a name under them. Taken from the
/// private section of the Public Suffix List and the platforms' own documentation, not
/// from phishing data. Only two-label entries (the model has no full suffix list).
pub const FREE_HOSTS: &[&str] = &[
    "pages.dev",
    "workers.dev",
    "r2.dev",
    "vercel.app",
    "now.sh",
    "netlify.app",
    "netlify.com",
    "weebly.com",
    "weeblysite.com",
    "webflow.io",
    "github.io",
    "gitlab.io",
    "bitbucket.io",
    "firebaseapp.com",
    "web.app",
    "blogspot.com",
    "wixsite.com",
    "wixstudio.io",
    "typedream.app",
    "edgeone.dev",
    "edgeone.app",
    "craftum.io",
    "cleverapps.io",
    "herokuapp.com",
    "appspot.com",
    "azurewebsites.net",
    "000webhostapp.com",
    "glitch.me",
    "repl.co",
    "replit.app",
    "replit.dev",
    "onrender.com",
    "fly.dev",
    "railway.app",
    "surge.sh",
    "ngrok.io",
    "ngrok.app",
    "ngrok-free.app",
    "trycloudflare.com",
    "square.site",
    "godaddysites.com",
    "myshopify.com",
    "wordpress.com",
    "tumblr.com",
    "livejournal.com",
    "wikidot.com",
    "webnode.page",
    "jimdosite.com",
    "jimdofree.com",
    "site123.me",
    "mystrikingly.com",
    "carrd.co",
    "notion.site",
    "gitbook.io",
    "framer.app",
    "framer.website",
    "yolasite.com",
    "duckdns.org",
    "ddns.net",
    "hopto.org",
    "zapto.org",
    "sytes.net",
    "serveo.net",
    "dynu.net",
    "freeddns.org",
    "mooo.com",
    "no-ip.org",
];

impl FeatureConfig {
    pub(crate) fn validate(&self) -> Result<(), String> {
        if !(10..=24).contains(&self.hash_bits) {
            return Err(format!("hash_bits {} outside 10..=24", self.hash_bits));
        }
        if self.min_ngram == 0 || self.min_ngram > self.max_ngram || self.max_ngram > 8 {
            return Err(format!(
                "n-gram range {}..={} invalid (need 1 <= min <= max <= 8)",
                self.min_ngram, self.max_ngram
            ));
        }
        Ok(())
    }
    pub(crate) fn hash_size(&self) -> usize {
        1usize << self.hash_bits
    }
    pub(crate) fn bias_index(&self) -> usize {
        self.hash_size() + N_LEX
    }
    /// Total number of weights of the domain model with or without the host features.
    pub(crate) fn domain_dim(&self, host: bool) -> usize {
        self.domain_bias_index(host) + 1
    }
    pub(crate) fn domain_bias_index(&self, host: bool) -> usize {
        self.hash_size() + N_LEX + if host { N_HOST } else { 0 }
    }
}

/// The name of dense feature `i` (lexical, then host features).
pub(crate) fn dense_name(i: usize) -> &'static str {
    if i < N_LEX {
        LEXICAL_NAMES[i]
    } else {
        HOST_FEATURE_NAMES[i - N_LEX]
    }
}

/// What a feature is, for explanations.
pub(crate) enum Kind<'a> {
    NGram(&'a [u8]),
    /// An n-gram of the subdomain labels (host feature set).
    SubNGram(&'a [u8]),
    Suffix(&'a [u8]),
    Lexical(usize),
    Bias,
}

/// A normalized name: `buf[0] = '^'`, the registrable body, `'$'`, then (elsewhere in `buf`)
/// the suffix bytes.
pub(crate) struct Normalized {
    buf: [u8; MAX_NAME + 2],
    body_len: usize,
    suffix: (usize, usize),
}

const TWO_LEVEL_SLD: [&[u8]; 10] = [
    b"co", b"com", b"net", b"org", b"gov", b"edu", b"ac", b"or", b"ne", b"go",
];

impl Normalized {
    /// Lower-case (ASCII), trim whitespace and a trailing dot, drop a leading `www.`, split off
    /// the public suffix (last label, or two labels for `co.uk`-style ccTLD suffixes).
    pub(crate) fn new(name: &str) -> Normalized {
        let mut s = name.trim().as_bytes();
        while let [rest @ .., b'.'] = s {
            s = rest;
        }
        if s.len() > 4 && s[..4].eq_ignore_ascii_case(b"www.") {
            s = &s[4..];
        }
        let s = &s[..s.len().min(MAX_NAME)];
        let mut buf = [0u8; MAX_NAME + 2];
        buf[0] = b'^';
        for (d, c) in buf[1..].iter_mut().zip(s) {
            *d = c.to_ascii_lowercase();
        }
        let n = s.len();
        let name = &buf[1..1 + n];
        let (body_len, suffix) = match name.iter().rposition(|&c| c == b'.') {
            None => (n, (1 + n, 1 + n)),
            Some(last) => {
                let tld_len = n - last - 1;
                let mut cut = last;
                if tld_len == 2
                    && let Some(prev) = name[..last].iter().rposition(|&c| c == b'.')
                    && TWO_LEVEL_SLD.contains(&&name[prev + 1..last])
                {
                    cut = prev;
                }
                (cut, (1 + cut + 1, 1 + n))
            }
        };
        buf[1 + body_len] = b'$';
        Normalized {
            buf,
            body_len,
            suffix,
        }
    }

    /// Where the registrable label starts in [`Normalized::body`] (0 when there are no
    /// subdomain labels; otherwise just after a `.`).
    pub(crate) fn registrable_start(&self) -> usize {
        self.body()
            .iter()
            .rposition(|&c| c == b'.')
            .map_or(0, |p| p + 1)
    }

    /// `^body$`
    pub(crate) fn marked_body(&self) -> &[u8] {
        &self.buf[..self.body_len + 2]
    }
    pub(crate) fn body(&self) -> &[u8] {
        &self.buf[1..1 + self.body_len]
    }
    pub(crate) fn suffix(&self) -> &[u8] {
        &self.buf[self.suffix.0..self.suffix.1]
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

#[inline]
fn fnv_step(h: u64, b: u8) -> u64 {
    (h ^ b as u64).wrapping_mul(FNV_PRIME)
}

#[inline]
fn bucket(h: u64, mask: u64) -> usize {
    ((h ^ (h >> 29)) & mask) as usize
}

/// Shannon entropy (bits per character) of the body, dots excluded.
pub(crate) fn entropy(body: &[u8]) -> f32 {
    let mut counts = [0u16; 256];
    let mut n = 0u32;
    for &c in body {
        if c != b'.' {
            counts[c as usize] += 1;
            n += 1;
        }
    }
    if n == 0 {
        return 0.0;
    }
    let nf = n as f32;
    let mut e = 0.0f32;
    // Visit each distinct character once (O(len), not O(alphabet)).
    for &c in body {
        let k = counts[c as usize];
        if k > 0 && c != b'.' {
            let p = k as f32 / nf;
            e -= p * p.log2();
            counts[c as usize] = 0;
        }
    }
    e
}

/// Fills the dense lexical features of a body.
pub(crate) fn lexical(body: &[u8], out: &mut [f32; N_LEX]) {
    let (mut chars, mut digits, mut vowels, mut consonants, mut hyphens, mut labels) =
        (0u32, 0u32, 0u32, 0u32, 0u32, 1u32);
    let (mut cons_run, mut max_cons_run, mut digit_run, mut max_digit_run) = (0u32, 0, 0u32, 0);
    let (mut switches, mut prev_class) = (0u32, 0u8);
    for &c in body {
        if c == b'.' {
            labels += 1;
            cons_run = 0;
            digit_run = 0;
            prev_class = 0;
            continue;
        }
        chars += 1;
        let class = if c.is_ascii_digit() {
            digits += 1;
            digit_run += 1;
            max_digit_run = max_digit_run.max(digit_run);
            cons_run = 0;
            1
        } else if matches!(c, b'a' | b'e' | b'i' | b'o' | b'u') {
            vowels += 1;
            cons_run = 0;
            digit_run = 0;
            2
        } else if c.is_ascii_lowercase() {
            consonants += 1;
            cons_run += 1;
            max_cons_run = max_cons_run.max(cons_run);
            digit_run = 0;
            2
        } else {
            if c == b'-' {
                hyphens += 1;
            }
            cons_run = 0;
            digit_run = 0;
            3
        };
        if prev_class != 0 && class != prev_class {
            switches += 1;
        }
        prev_class = class;
    }
    let n = chars.max(1) as f32;
    out.fill(0.0);
    out[0] = chars as f32 / 16.0;
    out[1] = digits as f32 / n;
    out[2] = vowels as f32 / n;
    out[3] = consonants as f32 / n;
    out[4] = hyphens as f32 / n;
    out[5] = entropy(body) / 4.0;
    out[6] = max_cons_run as f32 / 8.0;
    out[7] = max_digit_run as f32 / 8.0;
    out[8] = (labels - 1) as f32;
    out[9] = switches as f32 / n;
    let b = match chars {
        0..=5 => 0,
        6..=8 => 1,
        9..=11 => 2,
        12..=14 => 3,
        15..=18 => 4,
        19..=24 => 5,
        _ => 6,
    };
    out[10 + b] = 1.0;
}

/// Calls `f(index, value, kind)` for every active feature of `name` (including the bias)
/// in the feature set chosen by `host` (see the module docs). An n-gram occurring twice is
/// emitted twice.
#[inline]
pub(crate) fn for_each_feature(
    cfg: &FeatureConfig,
    host: bool,
    name: &str,
    f: impl FnMut(usize, f32, Kind<'_>),
) {
    let norm = Normalized::new(name);
    if host {
        host_features(cfg, &norm, f)
    } else {
        registrable_features(cfg, &norm, f)
    }
}

/// The `registrable` feature set (unchanged since the first model files).
#[inline]
fn registrable_features(
    cfg: &FeatureConfig,
    norm: &Normalized,
    mut f: impl FnMut(usize, f32, Kind<'_>),
) {
    let mask = (cfg.hash_size() - 1) as u64;
    let text = norm.marked_body();
    let (lo, hi) = (cfg.min_ngram as usize, cfg.max_ngram as usize);
    // One pass per start position: the FNV state of the prefix is shared by the n-grams that
    // start there; the n-gram length is mixed in last so `ab` and `abc` hash independently.
    for start in 0..text.len() {
        let mut h = FNV_OFFSET;
        for (k, &c) in text[start..text.len().min(start + hi)].iter().enumerate() {
            h = fnv_step(h, c);
            let n = k + 1;
            if n >= lo {
                f(
                    bucket(fnv_step(h, n as u8), mask),
                    1.0,
                    Kind::NGram(&text[start..start + n]),
                );
            }
        }
    }
    let suffix = norm.suffix();
    let mut h = fnv_step(FNV_OFFSET, 0xff);
    for &c in suffix {
        h = fnv_step(h, c);
    }
    f(bucket(h, mask), 1.0, Kind::Suffix(suffix));
    let mut lex = [0.0f32; N_LEX];
    lexical(norm.body(), &mut lex);
    let base = cfg.hash_size();
    for (i, &v) in lex.iter().enumerate() {
        if v != 0.0 {
            f(base + i, v, Kind::Lexical(i));
        }
    }
    f(cfg.bias_index(), 1.0, Kind::Bias);
}

/// Salt of the subdomain n-gram hash (so `^login$` as a subdomain and as a registrable label
/// are different features).
const SUB_SALT: u64 = 0x5375_6264_6f6d_6169;

/// Emits the hashed n-grams of `text` (already wrapped in `^…$`), hashing from `seed`.
#[inline]
fn ngrams<'t>(
    text: &'t [u8],
    (lo, hi): (usize, usize),
    seed: u64,
    mask: u64,
    kind: impl Fn(&'t [u8]) -> Kind<'t>,
    f: &mut impl FnMut(usize, f32, Kind<'t>),
) {
    for start in 0..text.len() {
        let mut h = seed;
        for (k, &c) in text[start..text.len().min(start + hi)].iter().enumerate() {
            h = fnv_step(h, c);
            let n = k + 1;
            if n >= lo {
                f(
                    bucket(fnv_step(h, n as u8), mask),
                    1.0,
                    kind(&text[start..start + n]),
                );
            }
        }
    }
}

/// A first-byte index over token lists: bit `i` of `FIRST[c]` is set when token `i` of the
/// concatenated list (brands, then credential words) starts with byte `c`.
const N_TOKENS: usize = BRAND_TOKENS.len() + CREDENTIAL_TOKENS.len();
const _: () = assert!(N_TOKENS <= 128);
const _: () = {
    let mut i = 0;
    while i < N_TOKENS {
        assert!(token(i).0.len() >= 3);
        i += 1;
    }
};

const fn token(i: usize) -> (&'static str, bool) {
    if i < BRAND_TOKENS.len() {
        BRAND_TOKENS[i]
    } else {
        CREDENTIAL_TOKENS[i - BRAND_TOKENS.len()]
    }
}

/// `TABLE[c]`: the tokens whose byte `at` is `c` (every token has at least 3 bytes).
const fn byte_table(at: usize) -> [u128; 256] {
    let mut t = [0u128; 256];
    let mut i = 0;
    while i < N_TOKENS {
        let b = token(i).0.as_bytes()[at];
        t[b as usize] |= 1u128 << i;
        i += 1;
    }
    t
}
const FIRST: [u128; 256] = byte_table(0);
const SECOND: [u128; 256] = byte_table(1);

/// `FREE_FIRST[c]`: the [`FREE_HOSTS`] entries starting with byte `c`.
const FREE_FIRST: [u128; 256] = {
    let mut t = [0u128; 256];
    let mut i = 0;
    while i < FREE_HOSTS.len() {
        t[FREE_HOSTS[i].as_bytes()[0] as usize] |= 1u128 << i;
        i += 1;
    }
    t
};
const _: () = assert!(FREE_HOSTS.len() <= 128);

/// True if `label` (a registrable label) is a brand's own.
fn brand_owned(label: &[u8]) -> bool {
    BRAND_OWNED_LABELS.iter().any(|o| o.as_bytes() == label)
        || BRAND_TOKENS.iter().any(|(t, _)| t.as_bytes() == label)
}

/// True if `reg.suffix` is a free-hosting registrable part.
fn free_host(reg: &[u8], suffix: &[u8]) -> bool {
    let Some(&first) = reg.first() else {
        return false;
    };
    let mut m = FREE_FIRST[first as usize];
    while m != 0 {
        let h = FREE_HOSTS[m.trailing_zeros() as usize].as_bytes();
        m &= m - 1;
        if h.len() == reg.len() + 1 + suffix.len()
            && h.starts_with(reg)
            && h[reg.len()] == b'.'
            && h.ends_with(suffix)
        {
            return true;
        }
    }
    false
}

/// The host-level features of a body (`sub.labels.registrable`, the registrable label
/// starting at `reg_start`) into `out`; returns whether the registrable part is a free host
/// (whose subdomain labels are then read as n-grams too).
fn host_dense(body: &[u8], reg_start: usize, suffix: &[u8], out: &mut [f32; N_HOST]) -> bool {
    let reg = &body[reg_start..];
    let (mut run, mut max_run, mut label_pos) = (0u32, 0u32, 0usize);
    for (i, &c) in body.iter().enumerate() {
        if c == b'-' {
            run += 1;
            // `xn--` (IDN) is not a hyphen run.
            let idn = run == 2 && label_pos == 3 && body[i - 3..i - 1] == *b"xn";
            if !idn {
                max_run = max_run.max(run);
            }
        } else {
            run = 0;
        }
        label_pos = if c == b'.' { 0 } else { label_pos + 1 };
    }
    // Whether the registrable label is a brand's own: looked up once, on the first brand hit.
    let mut owned: Option<bool> = None;
    let (mut brand_sub, mut brand_reg, mut creds) = (false, false, 0u32);
    let letter = |p: Option<&u8>| p.is_some_and(|c| c.is_ascii_lowercase());
    for i in 0..body.len().saturating_sub(2) {
        let mut m = FIRST[body[i] as usize] & SECOND[body[i + 1] as usize];
        while m != 0 {
            let t = m.trailing_zeros() as usize;
            m &= m - 1;
            let (tok, bounded) = token(t);
            let tok = tok.as_bytes();
            if !body[i..].starts_with(tok) {
                continue;
            }
            let end = i + tok.len();
            if bounded
                && (letter(i.checked_sub(1).and_then(|p| body.get(p))) || letter(body.get(end)))
            {
                continue;
            }
            if t >= BRAND_TOKENS.len() {
                creds += 1;
            } else if !*owned.get_or_insert_with(|| brand_owned(reg)) {
                if i >= reg_start {
                    brand_reg = true;
                } else {
                    brand_sub = true;
                }
            }
        }
    }
    let free = free_host(reg, suffix);
    out.fill(0.0);
    out[0] = if max_run >= 2 { 1.0 } else { 0.0 };
    out[1] = if brand_sub { 1.0 } else { 0.0 };
    out[2] = if brand_reg { 1.0 } else { 0.0 };
    out[3] = creds.min(3) as f32;
    if free {
        out[4] = 1.0;
    }
    if free && reg_start > 0 {
        let sub = &body[..reg_start - 1];
        let sub_labels = 1 + sub.iter().filter(|&&c| c == b'.').count();
        let host_len = body.len() + 1 + suffix.len();
        let sub_digits = sub.iter().filter(|c| c.is_ascii_digit()).count();
        out[5] = sub_labels.min(8) as f32 / 4.0;
        out[6] = host_len as f32 / 32.0;
        out[7] = sub_digits.min(16) as f32 / 8.0;
    }
    free
}

/// The `host` feature set (see the module docs).
#[inline]
fn host_features(cfg: &FeatureConfig, norm: &Normalized, mut f: impl FnMut(usize, f32, Kind<'_>)) {
    let mask = (cfg.hash_size() - 1) as u64;
    let range = (cfg.min_ngram as usize, cfg.max_ngram as usize);
    let body = norm.body();
    let reg_start = norm.registrable_start();
    // `^registrable$` and `^sub.labels$` in stack buffers.
    let mut buf = [0u8; MAX_NAME + 2];
    let reg = &body[reg_start..];
    buf[0] = b'^';
    buf[1..1 + reg.len()].copy_from_slice(reg);
    buf[1 + reg.len()] = b'$';
    ngrams(
        &buf[..reg.len() + 2],
        range,
        FNV_OFFSET,
        mask,
        Kind::NGram,
        &mut f,
    );
    let mut host = [0.0f32; N_HOST];
    let free = host_dense(body, reg_start, norm.suffix(), &mut host);
    // Subdomain labels are read only under a free-hosting suffix, where they are what the
    // user registered (see the module docs: elsewhere they made "has a subdomain" a sign of
    // phishing, as the benign training names rarely have one).
    if free && reg_start > 0 {
        let sub = &body[..reg_start - 1];
        let mut sbuf = [0u8; MAX_NAME + 2];
        sbuf[0] = b'^';
        sbuf[1..1 + sub.len()].copy_from_slice(sub);
        sbuf[1 + sub.len()] = b'$';
        ngrams(
            &sbuf[..sub.len() + 2],
            range,
            FNV_OFFSET ^ SUB_SALT,
            mask,
            Kind::SubNGram,
            &mut f,
        );
    }
    let suffix = norm.suffix();
    let mut h = fnv_step(FNV_OFFSET, 0xff);
    for &c in suffix {
        h = fnv_step(h, c);
    }
    f(bucket(h, mask), 1.0, Kind::Suffix(suffix));
    let base = cfg.hash_size();
    let mut lex = [0.0f32; N_LEX];
    lexical(reg, &mut lex);
    for (i, &v) in lex.iter().enumerate() {
        if v != 0.0 {
            f(base + i, v, Kind::Lexical(i));
        }
    }
    for (i, &v) in host.iter().enumerate() {
        if v != 0.0 {
            f(base + N_LEX + i, v, Kind::Lexical(N_LEX + i));
        }
    }
    f(cfg.domain_bias_index(true), 1.0, Kind::Bias);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization() {
        let n = Normalized::new("WWW.Example.COM.");
        assert_eq!(n.marked_body(), b"^example$");
        assert_eq!(n.suffix(), b"com");
        let n = Normalized::new("news.bbc.co.uk");
        assert_eq!(n.body(), b"news.bbc");
        assert_eq!(n.suffix(), b"co.uk");
        let n = Normalized::new("localhost");
        assert_eq!(n.body(), b"localhost");
        assert_eq!(n.suffix(), b"");
        let n = Normalized::new("");
        assert_eq!(n.marked_body(), b"^$");
        let long = "a".repeat(400);
        assert_eq!(Normalized::new(&long).body().len(), MAX_NAME);
    }

    /// The host features of `name`, by name.
    fn host_of(name: &str) -> Vec<(&'static str, f32)> {
        let n = Normalized::new(name);
        let mut out = [0.0; N_HOST];
        host_dense(n.body(), n.registrable_start(), n.suffix(), &mut out);
        HOST_FEATURE_NAMES
            .iter()
            .zip(out)
            .filter(|(_, v)| *v != 0.0)
            .map(|(k, v)| (*k, v))
            .collect()
    }

    #[test]
    fn host_features_of_phishing_style_names() {
        assert_eq!(
            host_of("app---ledger-live.pages.dev"),
            [
                ("hyphen_run>=2", 1.0),
                ("brand_in_subdomain", 1.0),
                ("free_hosting_suffix", 1.0),
                ("free_host:subdomain_labels/4", 0.25),
                ("free_host:host_len/32", 27.0 / 32.0),
            ]
        );
        assert_eq!(
            host_of("secure-paypal-login.com"),
            [("brand_in_registrable", 1.0), ("credential_words", 2.0)]
        );
        assert_eq!(
            host_of("ingresos-itau.vercel.app"),
            [
                ("brand_in_subdomain", 1.0),
                ("free_hosting_suffix", 1.0),
                ("free_host:subdomain_labels/4", 0.25),
                ("free_host:host_len/32", 24.0 / 32.0),
            ]
        );
        // The brand's own names, brand tokens inside ordinary words, IDN prefixes and
        // subdomains of an ordinary registrable part: nothing.
        for name in [
            "www.paypal.com",
            "outlook.live.com",
            "paypal.co.uk",
            "groups.example.org",
            "purchase.example.com",
            "xn--bcher-kva.example",
            "d12uj65dsn9ho1.cloudfront.net",
            "a.b.c.d.example.com",
        ] {
            assert_eq!(host_of(name), [], "{name}");
        }
        // A credential word counts wherever it is; the brand in a brand-owned label does not.
        assert_eq!(
            host_of("login.microsoftonline.com"),
            [("credential_words", 1.0)]
        );
        // Bounded tokens match at label edges and hyphens.
        assert_eq!(
            host_of("ups-tracking.example.com"),
            [("brand_in_subdomain", 1.0)]
        );
        assert_eq!(host_of("weebly.com"), [("free_hosting_suffix", 1.0)]);
    }

    #[test]
    fn host_feature_set_splits_subdomains_off() {
        let cfg = FeatureConfig::default();
        let collect = |host: bool, name: &str| {
            let mut v = Vec::new();
            for_each_feature(&cfg, host, name, |i, _, k| {
                let tag = match k {
                    Kind::NGram(g) => format!("n:{}", String::from_utf8_lossy(g)),
                    Kind::SubNGram(g) => format!("s:{}", String::from_utf8_lossy(g)),
                    Kind::Suffix(s) => format!("x:{}", String::from_utf8_lossy(s)),
                    Kind::Lexical(k) => format!("l:{}", dense_name(k)),
                    Kind::Bias => "bias".into(),
                };
                v.push((i, tag));
            });
            v
        };
        let f = collect(true, "xfinitymailin.weebly.com");
        assert!(f.iter().any(|(_, t)| t == "n:^we"));
        assert!(f.iter().any(|(_, t)| t == "s:^xf"));
        assert!(!f.iter().any(|(_, t)| t.contains("in.w")));
        assert_eq!(f.last().unwrap().0, cfg.domain_bias_index(true));
        // Salted: the same text as a subdomain and as a registrable label hashes apart.
        let sub = collect(true, "login.weebly.com");
        let reg = collect(true, "login.com");
        let idx = |v: &[(usize, String)], t: &str| v.iter().find(|(_, x)| x == t).unwrap().0;
        assert_ne!(idx(&sub, "s:^log"), idx(&reg, "n:^log"));
        // Outside free hosting, subdomain labels give no n-grams.
        let f = collect(true, "mail.example.com");
        assert!(!f.iter().any(|(_, t)| t.starts_with("s:")));
        assert!(f.iter().any(|(_, t)| t == "n:^exa"));
        assert!(f.iter().any(|(_, t)| t == "n:ple$"));
        // The registrable set is unchanged: the whole body, one bias index earlier.
        let old = collect(false, "mail.example.com");
        assert!(old.iter().any(|(_, t)| t == "n:l.ex"));
        assert_eq!(old.last().unwrap().0, cfg.bias_index());
    }

    #[test]
    fn lexical_values() {
        let mut out = [0.0; N_LEX];
        lexical(b"ab1-xyz", &mut out);
        assert_eq!(out[0], 7.0 / 16.0);
        assert!((out[1] - 1.0 / 7.0).abs() < 1e-6);
        assert!((out[2] - 1.0 / 7.0).abs() < 1e-6);
        assert_eq!(out[6], 3.0 / 8.0); // "xyz"
        assert_eq!(out[11], 1.0); // length bucket 6-8
        assert!((entropy(b"aaaa") - 0.0).abs() < 1e-6);
        assert!((entropy(b"abcd") - 2.0).abs() < 1e-6);
    }
}
