//! identify stream bytes -> `chainp2p_identify::codec::DelimitedCodec` (default max message size); each
//! frame is decoded as the `Identify` protobuf and viewed as `IdentifyInfo` / `PushInfo`
//! (public key, multiaddrs), also merged as `read_merged` does.
#![no_main]

use bytes::BytesMut;
use chainp2p_identify::codec::DelimitedCodec;
use chainp2p_identify::proto::Identify;
use chainp2p_identify::{IdentifyConfig, IdentifyInfo, PushInfo};
use libfuzzer_sys::fuzz_target;
use prost::Message;
use tokio_util::codec::Decoder;

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = Identify::decode(data) {
        let _ = PushInfo::from_proto(msg.clone(), None);
        if let Ok(mut info) = IdentifyInfo::from_proto(msg, None) {
            if let Ok(push) = PushInfo::from_proto(Identify::default(), None) {
                info.merge(push);
            }
        }
    }
    let mut codec = DelimitedCodec::new(IdentifyConfig::default().max_message_size);
    let mut buf = BytesMut::from(data);
    while let Ok(Some(frame)) = codec.decode(&mut buf) {
        if let Ok(msg) = Identify::decode(frame) {
            let _ = IdentifyInfo::from_proto(msg, None);
        }
    }
});
