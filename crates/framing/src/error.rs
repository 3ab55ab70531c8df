//! [`impl_chain_error!`]: how a layer's typed error enum becomes a [`chainp2p_core::ChainError`]
//! naming the layer, the kind and the typed cause.

/// Implements, for a layer error enum `$ty` that has an `Io(std::io::Error)` variant and an
/// inherent `fn kind(&self) -> chainp2p_core::ErrorKind`:
/// - `pub fn into_chain(self) -> ChainError` (layer `$layer`; an I/O error that already
///   carries a lower layer's `ChainError` is passed through unchanged),
/// - `From<$ty> for ChainError`,
/// - with a trailing `, into_io`: `pub fn into_io(self) -> std::io::Error` (an I/O error is
///   returned as is, anything else carries the `ChainError`), for `AsyncRead`/`AsyncWrite`.
#[macro_export]
macro_rules! impl_chain_error {
    ($ty:ident, $layer:expr) => {
        impl $ty {
            /// Wraps into a [`ChainError`] of this layer. An I/O error that already carries a
            /// lower layer's [`ChainError`] is passed through unchanged.
            ///
            /// [`ChainError`]: chainp2p_core::ChainError
            pub fn into_chain(self) -> $crate::__private::ChainError {
                match self {
                    $ty::Io(e) => $crate::__private::ChainError::from_io($layer, e),
                    other => {
                        let kind = other.kind();
                        $crate::__private::ChainError::with_source($layer, kind, other)
                    }
                }
            }
        }

        impl From<$ty> for $crate::__private::ChainError {
            fn from(e: $ty) -> Self {
                e.into_chain()
            }
        }
    };
    ($ty:ident, $layer:expr, into_io) => {
        $crate::impl_chain_error!($ty, $layer);

        impl $ty {
            /// Converts into an `std::io::Error` carrying the [`ChainError`], for
            /// `AsyncRead`/`AsyncWrite`.
            ///
            /// [`ChainError`]: chainp2p_core::ChainError
            pub fn into_io(self) -> std::io::Error {
                match self {
                    $ty::Io(e) => e,
                    other => other.into_chain().into_io(),
                }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use chainp2p_core::{ChainError, ErrorKind};

    #[derive(Debug, thiserror::Error)]
    enum DemoError {
        #[error("too long")]
        TooLong,
        #[error("i/o error: {0}")]
        Io(#[from] std::io::Error),
    }

    impl DemoError {
        fn kind(&self) -> ErrorKind {
            match self {
                DemoError::TooLong => ErrorKind::LimitExceeded,
                DemoError::Io(_) => ErrorKind::Io,
            }
        }
    }

    crate::impl_chain_error!(DemoError, "demo", into_io);

    #[test]
    fn typed_errors_name_the_layer_and_kind() {
        let e = ChainError::from(DemoError::TooLong);
        assert_eq!(e.layer().as_str(), "demo");
        assert_eq!(e.kind(), ErrorKind::LimitExceeded);
        assert!(matches!(
            e.downcast_ref::<DemoError>(),
            Some(DemoError::TooLong)
        ));
        let io = DemoError::TooLong.into_io();
        let back = ChainError::from_io("other", io);
        assert_eq!(
            back.layer().as_str(),
            "demo",
            "the layer survives the io round trip"
        );
    }

    #[test]
    fn lower_layer_errors_pass_through() {
        let lower = ChainError::new("tcp", ErrorKind::Closed, "reset").into_io();
        let e = DemoError::Io(lower).into_chain();
        assert_eq!(e.layer().as_str(), "tcp");
        assert_eq!(e.kind(), ErrorKind::Closed);
        let plain = std::io::Error::other("x");
        assert_eq!(DemoError::Io(plain).into_io().to_string(), "x");
    }
}
