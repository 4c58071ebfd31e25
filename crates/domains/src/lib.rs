//! # Domain Watch
//!
//! Names are read by [`name`] (UTS #46, the Public Suffix List); institutions protect
//! their registrable domains, and [`lookalike`] finds the names that imitate them, with
//! the evidence, in a few hash lookups per name ([`keyboard`] models slipped fingers and
//! the Korean layout). [`unsafe_names`] flags what UTS #39 calls unsafe even when nothing
//! is protected. [`watch`] is the live service of `haechi serve` (protected names kept
//! per data directory, newness, retro-hunts), [`alerts`] what its findings raise.

pub mod alerts;
pub mod input;
pub mod keyboard;
pub mod lookalike;
pub mod name;
pub mod universe;
pub mod unsafe_names;
pub mod watch;

pub use lookalike::{Finding, Index, Protected};
pub use name::{Name, NameError, parse};
