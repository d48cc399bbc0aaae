//! Status write-back: the translator's statuses become server-side applies of each object's
//! `status` subresource.

pub mod body;
pub mod malformed;
pub mod writer;
