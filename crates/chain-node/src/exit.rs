//! Exit codes: what a failure means to a calling script, decided from the typed errors in the
//! failure's chain (our [`CliError`], [`ChainError`] and its kind, the TCP transport's
//! [`TcpError`], `std::io::Error` kinds), never from the message text.

use chainp2p_core::{ChainError, ErrorKind};
use chainp2p_transport_tcp::TcpError;

/// Success.
pub const SUCCESS: u8 = 0;
/// Any failure not classified below.
pub const OTHER: u8 = 1;
/// Bad input or usage (clap's own usage errors exit 2 as well).
pub const USAGE: u8 = 2;
/// The thing asked for does not exist (no record, no provider).
pub const NOT_FOUND: u8 = 3;
/// The peer could not be reached (refused connection, dial timeout, no route, no address).
pub const UNREACHABLE: u8 = 4;
/// The peer answered but refused (protocol not supported, handshake failed, wrong peer id,
/// a limit exceeded).
pub const REFUSED: u8 = 5;
/// The command's `--timeout` passed (or a deadline after the peer was reached).
pub const TIMED_OUT: u8 = 6;

/// The failures chain-node itself decides (the others come from the stack's typed errors).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad command-line input found after parsing (an address, a number, a file).
    #[error("{0}")]
    Usage(String),
    /// Nothing found under the key asked for.
    #[error("{0}")]
    NotFound(String),
    /// The peer answered but refused what we asked (e.g. it does not serve our kad protocol).
    #[error("{0}")]
    Refused(String),
    /// The command ran out of time.
    #[error("{0}")]
    TimedOut(String),
}

/// The exit code of a failure.
pub fn code(err: &anyhow::Error) -> u8 {
    // Our own classification first (also found when it is a context of the error).
    if let Some(cli) = err.downcast_ref::<CliError>() {
        return match cli {
            CliError::Usage(_) => USAGE,
            CliError::NotFound(_) => NOT_FOUND,
            CliError::Refused(_) => REFUSED,
            CliError::TimedOut(_) => TIMED_OUT,
        };
    }
    let chain = err
        .downcast_ref::<ChainError>()
        .or_else(|| err.chain().find_map(|e| e.downcast_ref::<ChainError>()));
    if let Some(chain) = chain {
        return chain_code(chain);
    }
    if let Some(io) = err.chain().find_map(|e| e.downcast_ref::<std::io::Error>()) {
        return io_code(io.kind()).unwrap_or(OTHER);
    }
    OTHER
}

/// The exit code of a stack error.
fn chain_code(err: &ChainError) -> u8 {
    if let Some(tcp) = err.downcast_ref::<TcpError>() {
        return match tcp {
            TcpError::Unsupported { .. } | TcpError::NoTransport(_) => USAGE,
            TcpError::Refused(_) | TcpError::DialTimeout { .. } | TcpError::NoAddresses(_) => {
                UNREACHABLE
            }
            TcpError::Io { op, source, .. } => match io_code(source.kind()) {
                Some(code) => code,
                // A failed dial or name resolution: the peer was not reached.
                None if matches!(*op, "dial" | "resolve") => UNREACHABLE,
                None => OTHER,
            },
            _ => OTHER,
        };
    }
    if let Some(io) = err.downcast_ref::<std::io::Error>() {
        if let Some(code) = io_code(io.kind()) {
            return code;
        }
    }
    match err.kind() {
        ErrorKind::InvalidInput => USAGE,
        ErrorKind::NegotiationFailed | ErrorKind::Authentication | ErrorKind::LimitExceeded => {
            REFUSED
        }
        ErrorKind::Timeout => TIMED_OUT,
        _ => OTHER,
    }
}

/// The exit code an I/O error kind means by itself, if any.
fn io_code(kind: std::io::ErrorKind) -> Option<u8> {
    use std::io::ErrorKind as K;
    match kind {
        K::ConnectionRefused | K::HostUnreachable | K::NetworkUnreachable | K::AddrNotAvailable => {
            Some(UNREACHABLE)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn typed_errors_choose_the_code() {
        let usage: anyhow::Error = CliError::Usage("bad".into()).into();
        assert_eq!(code(&usage), USAGE);
        // A context of ours classifies what it wraps.
        let wrapped = Err::<(), _>(std::io::Error::other("x"))
            .context(CliError::NotFound("none".into()))
            .unwrap_err();
        assert_eq!(code(&wrapped), NOT_FOUND);
        let refused: anyhow::Error =
            ChainError::from(TcpError::Refused("/ip4/127.0.0.1/tcp/1".parse().unwrap())).into();
        assert_eq!(code(&refused), UNREACHABLE);
        let auth: anyhow::Error =
            ChainError::new("noise", ErrorKind::Authentication, "peer id mismatch").into();
        assert_eq!(code(&auth.context("dialing")), REFUSED);
        let na: anyhow::Error =
            ChainError::new("multistream", ErrorKind::NegotiationFailed, "na").into();
        assert_eq!(code(&na), REFUSED);
        let other: anyhow::Error = anyhow::anyhow!("something");
        assert_eq!(code(&other), OTHER);
        let io: anyhow::Error = std::io::Error::from(std::io::ErrorKind::ConnectionRefused).into();
        assert_eq!(code(&io), UNREACHABLE);
    }
}
