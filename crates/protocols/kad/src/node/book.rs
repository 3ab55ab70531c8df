//! A small bounded address book: the addresses of peers learned from lookup responses, so that
//! later requests can dial peers that are not (yet) in the routing table.

use std::collections::{HashMap, VecDeque};

use chainp2p_core::identity::PeerId;
use chainp2p_core::multiaddr::Multiaddr;

/// Peers remembered, oldest forgotten first. Addresses per peer, newest first.
#[derive(Debug)]
pub(crate) struct AddressBook {
    max_peers: usize,
    max_addrs: usize,
    addrs: HashMap<PeerId, Vec<Multiaddr>>,
    order: VecDeque<PeerId>,
}

impl AddressBook {
    pub(crate) fn new(max_peers: usize, max_addrs: usize) -> Self {
        Self {
            max_peers: max_peers.max(1),
            max_addrs: max_addrs.max(1),
            addrs: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// Remembers `addrs` of `peer` (newest first, deduplicated, bounded). No-op without addrs.
    pub(crate) fn add(&mut self, peer: PeerId, addrs: &[Multiaddr]) {
        if addrs.is_empty() {
            return;
        }
        let max = self.max_addrs;
        if let Some(known) = self.addrs.get_mut(&peer) {
            let mut merged: Vec<Multiaddr> = addrs.iter().take(max).cloned().collect();
            for a in known.drain(..) {
                if merged.len() < max && !merged.contains(&a) {
                    merged.push(a);
                }
            }
            *known = merged;
            return;
        }
        while self.addrs.len() >= self.max_peers {
            match self.order.pop_front() {
                Some(old) => {
                    self.addrs.remove(&old);
                }
                None => break,
            }
        }
        let mut list: Vec<Multiaddr> = Vec::with_capacity(addrs.len().min(max));
        for a in addrs {
            if list.len() < max && !list.contains(a) {
                list.push(a.clone());
            }
        }
        self.addrs.insert(peer, list);
        self.order.push_back(peer);
    }

    /// The remembered addresses of `peer` (empty if unknown).
    pub(crate) fn get(&self, peer: &PeerId) -> Vec<Multiaddr> {
        self.addrs.get(peer).cloned().unwrap_or_default()
    }

    /// Number of peers remembered.
    pub(crate) fn len(&self) -> usize {
        self.addrs.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_in_peers_and_addrs() {
        let mut b = AddressBook::new(2, 2);
        let a: Multiaddr = "/ip4/1.2.3.4/tcp/1".parse().unwrap();
        let c: Multiaddr = "/ip4/1.2.3.4/tcp/2".parse().unwrap();
        let d: Multiaddr = "/ip4/1.2.3.4/tcp/3".parse().unwrap();
        let p = [PeerId::random(), PeerId::random(), PeerId::random()];
        b.add(p[0], std::slice::from_ref(&a));
        b.add(p[0], &[c.clone(), d.clone()]);
        assert_eq!(b.get(&p[0]), vec![c.clone(), d.clone()]);
        b.add(p[1], std::slice::from_ref(&a));
        b.add(p[2], std::slice::from_ref(&a));
        assert_eq!(b.len(), 2);
        assert!(b.get(&p[0]).is_empty());
        assert_eq!(b.get(&p[2]), vec![a]);
    }
}
