//! The Kademlia key space: a [`Key`] is the SHA-256 digest of some key bytes (a PeerId's
//! multihash bytes, a record key, a content multihash), and [`Distance`] is the XOR of two
//! digests compared as a big-endian 256-bit integer (the libp2p Kademlia spec,
//! <https://github.com/libp2p/specs/blob/master/kad-dht/README.md>, section "Distance").
//!
//! Bucket index convention (used by [`crate::routing`]): the index of a key relative to a local
//! key is the common prefix length (CPL) = the number of leading zero bits of their distance,
//! `0..=255`; bucket 0 holds the farthest half of the key space. Identical digests have no
//! bucket.

use bytes::Bytes;
use chainp2p_core::identity::PeerId;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::fmt;

/// Length in bytes of a key-space digest.
pub const KEY_LEN: usize = 32;

/// A point in the key space: the SHA-256 digest of `preimage`, keeping the preimage (the bytes
/// that go on the wire as the message key).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Key {
    hash: [u8; KEY_LEN],
    preimage: Bytes,
}

impl Key {
    /// The key of arbitrary bytes (record key, provider multihash, or a PeerId's bytes).
    pub fn new(preimage: &[u8]) -> Self {
        Self::from_bytes(Bytes::copy_from_slice(preimage))
    }

    /// The key of owned bytes, without copying them.
    pub fn from_bytes(preimage: Bytes) -> Self {
        Self {
            hash: sha256(&preimage),
            preimage,
        }
    }

    /// The key of a peer: SHA-256 of its multihash bytes (`peer.to_bytes()`).
    pub fn from_peer(peer: &PeerId) -> Self {
        Self::from_bytes(Bytes::from(peer.to_bytes()))
    }

    /// The 32-byte digest.
    pub fn hash(&self) -> &[u8; KEY_LEN] {
        &self.hash
    }

    /// The bytes this key was derived from (what FIND_NODE / GET_VALUE carry as `key`).
    pub fn preimage(&self) -> &Bytes {
        &self.preimage
    }

    /// XOR distance to another key.
    pub fn distance(&self, other: &Key) -> Distance {
        Distance::between(&self.hash, &other.hash)
    }

    /// A key whose preimage is a well-formed SHA-256 PeerId (`0x12 0x20 <32 bytes>`) and whose
    /// bucket relative to `local` is `bucket` (its CPL), for bucket-refresh lookups.
    ///
    /// For `bucket < 16` this is a table look-up (like go-libp2p-kbucket's prefix table: one
    /// preimage for every 16-bit hash prefix, built once per process in ~0.3 s); deeper buckets
    /// try at most `max_tries` random preimages (about `2^(bucket+1)` are needed on average)
    /// and give up with `None`.
    pub fn random_in_bucket<R: RngCore + ?Sized>(
        local: &[u8; KEY_LEN],
        bucket: usize,
        rng: &mut R,
        max_tries: usize,
    ) -> Option<Key> {
        if bucket < 16 {
            let p = u16::from_be_bytes([local[0], local[1]]);
            let flip = 0x8000u16 >> bucket;
            let low = flip - 1;
            let random = (rng.next_u32() & 0xffff) as u16;
            let q = ((p ^ flip) & !low) | (random & low);
            let seed = prefix_table().get(usize::from(q)).copied()?;
            let pre = table_preimage(seed);
            return Some(Key {
                hash: sha256(&pre),
                preimage: Bytes::copy_from_slice(&pre),
            });
        }
        let mut pre = [0u8; 2 + KEY_LEN];
        pre[0] = 0x12;
        pre[1] = 0x20;
        for _ in 0..max_tries {
            if let Some(digest) = pre.get_mut(2..) {
                rng.fill_bytes(digest);
            }
            let hash = sha256(&pre);
            if Distance::between(local, &hash).bucket_index() == Some(bucket) {
                return Some(Key {
                    hash,
                    preimage: Bytes::copy_from_slice(&pre),
                });
            }
        }
        None
    }
}

/// The PeerId-shaped preimage of a prefix-table seed.
fn table_preimage(seed: u32) -> [u8; 2 + KEY_LEN] {
    let mut pre = [0u8; 2 + KEY_LEN];
    pre[0] = 0x12;
    pre[1] = 0x20;
    pre[2..6].copy_from_slice(&seed.to_be_bytes());
    pre
}

/// For every 16-bit prefix, a seed whose preimage's SHA-256 starts with it.
fn prefix_table() -> &'static [u32] {
    static TABLE: std::sync::OnceLock<Vec<u32>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = vec![u32::MAX; 1 << 16];
        let mut missing = table.len();
        let mut seed = 0u32;
        while missing > 0 && seed < u32::MAX {
            let h = sha256(&table_preimage(seed));
            if let Some(slot) = table.get_mut(usize::from(u16::from_be_bytes([h[0], h[1]]))) {
                if *slot == u32::MAX {
                    *slot = seed;
                    missing -= 1;
                }
            }
            seed += 1;
        }
        table
    })
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({})", hex(&self.hash))
    }
}

impl From<PeerId> for Key {
    fn from(peer: PeerId) -> Self {
        Key::from_peer(&peer)
    }
}

/// SHA-256 of a peer's multihash bytes (`peer.to_bytes()`), without allocating them.
pub fn peer_hash(peer: &PeerId) -> [u8; KEY_LEN] {
    let mh = peer.as_ref();
    let mut code = unsigned_varint::encode::u64_buffer();
    let mut size = unsigned_varint::encode::u8_buffer();
    let mut h = Sha256::new();
    h.update(unsigned_varint::encode::u64(mh.code(), &mut code));
    h.update(unsigned_varint::encode::u8(mh.size(), &mut size));
    h.update(mh.digest());
    h.finalize().into()
}

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; KEY_LEN] {
    Sha256::digest(bytes).into()
}

/// XOR distance between two digests; `Ord` is the big-endian 256-bit integer order.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Distance(pub [u8; KEY_LEN]);

impl Distance {
    /// The two big-endian 128-bit halves (fast comparison).
    fn halves(&self) -> (u128, u128) {
        let mut hi = [0u8; 16];
        let mut lo = [0u8; 16];
        let (a, b) = self.0.split_at(16);
        hi.copy_from_slice(a);
        lo.copy_from_slice(b);
        (u128::from_be_bytes(hi), u128::from_be_bytes(lo))
    }
}

impl Ord for Distance {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.halves().cmp(&other.halves())
    }
}

impl PartialOrd for Distance {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Distance {
    /// XOR of two digests.
    pub fn between(a: &[u8; KEY_LEN], b: &[u8; KEY_LEN]) -> Self {
        let mut d = [0u8; KEY_LEN];
        for ((o, x), y) in d.iter_mut().zip(a).zip(b) {
            *o = x ^ y;
        }
        Distance(d)
    }

    /// Number of leading zero bits (256 for the zero distance) = common prefix length.
    pub fn leading_zeros(&self) -> u32 {
        let mut n = 0;
        for b in &self.0 {
            if *b != 0 {
                return n + b.leading_zeros();
            }
            n += 8;
        }
        n
    }

    /// Bucket index (= CPL, `0..=255`); `None` for the zero distance (the local key itself).
    pub fn bucket_index(&self) -> Option<usize> {
        let lz = self.leading_zeros();
        (lz < 256).then_some(lz as usize)
    }
}

impl fmt::Debug for Distance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Distance({})", hex(&self.0))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn spec_vector_peer_key() {
        let peer: PeerId = "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq"
            .parse()
            .unwrap();
        let key = Key::from_peer(&peer);
        assert_eq!(
            hex(key.hash()),
            "dfd53212a4bd2beda3ea8e82d08285370c70a70cfe9c588e28754b23c8033121"
        );
        assert_eq!(&key.preimage()[..4], &[0x00, 0x24, 0x08, 0x01]);
        assert_eq!(Key::new(&peer.to_bytes()), key);
        assert_eq!(peer_hash(&peer), *key.hash());
    }

    #[test]
    fn distance_order_and_cpl() {
        let a = [0u8; 32];
        let mut b = [0u8; 32];
        b[0] = 0x80;
        let mut c = [0u8; 32];
        c[31] = 1;
        let dab = Distance::between(&a, &b);
        let dac = Distance::between(&a, &c);
        assert!(dac < dab);
        assert_eq!(dab.bucket_index(), Some(0));
        assert_eq!(dac.bucket_index(), Some(255));
        assert_eq!(Distance::between(&a, &a).bucket_index(), None);
        assert_eq!(Distance::between(&b, &c), Distance::between(&c, &b));
        let mut d = [0u8; 32];
        d[1] = 0x10;
        assert_eq!(Distance::between(&a, &d).leading_zeros(), 11);
    }

    #[test]
    fn random_key_lands_in_bucket() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let local = sha256(b"local");
        for bucket in [0usize, 1, 5, 10, 15, 16] {
            let k = Key::random_in_bucket(&local, bucket, &mut rng, 1 << 22).unwrap();
            assert_eq!(
                Distance::between(&local, k.hash()).bucket_index(),
                Some(bucket)
            );
            assert_eq!(sha256(k.preimage()), *k.hash());
            assert!(PeerId::from_bytes(k.preimage()).is_ok());
        }
        assert!(Key::random_in_bucket(&local, 200, &mut rng, 10).is_none());
    }
}
