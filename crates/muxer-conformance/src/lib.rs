//! `muxer-conformance`: one suite of behaviour tests run unchanged against every muxer (work in progress).
