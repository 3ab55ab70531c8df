//! `mplex`: the mplex stream muxer (`/mplex/6.7.0`), a swap-in for yamux (work in progress).
