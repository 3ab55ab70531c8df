//! `noise`: Noise_XX_25519_ChaChaPoly_SHA256 security layer with the libp2p handshake payload.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]
