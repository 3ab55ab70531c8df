//! `multistream`: multistream-select 1.0.0: sans-IO negotiation core and the handler that dispatches to the chosen StreamHandler.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]
