//! The client side: one perf run on an already-negotiated stream.

use std::time::Instant;

use chainp2p_core::ChainError;
use futures::{AsyncRead, AsyncWrite, AsyncWriteExt};

use crate::error::io_err;
use crate::protocol::encode_request;
use crate::stream::{drain, write_zeros};
use crate::{PerfError, PerfReport};

/// Asks the server for `download` bytes, uploads `upload` zero bytes, closes our write side,
/// then reads until EOF and checks that exactly `download` bytes came back.
pub async fn run<S>(io: &mut S, upload: u64, download: u64) -> Result<PerfReport, ChainError>
where
    S: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    let started = Instant::now();
    io.write_all(&encode_request(download))
        .await
        .map_err(io_err)?;
    write_zeros(io, upload).await.map_err(io_err)?;
    io.close().await.map_err(io_err)?;
    let uploaded = Instant::now();
    let got = match drain(io, download).await.map_err(io_err)? {
        Ok(got) => got,
        Err(_) => return Err(PerfError::LongDownload { expected: download }.into()),
    };
    if got != download {
        return Err(PerfError::ShortDownload {
            got,
            expected: download,
        }
        .into());
    }
    let done = Instant::now();
    Ok(PerfReport {
        upload_bytes: upload,
        download_bytes: download,
        upload_time: uploaded - started,
        download_time: done - uploaded,
        total_time: done - started,
    })
}
