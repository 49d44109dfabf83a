//! Each lab owns one loopback block 127.A.0.0/16: every instance gets its own
//! admin IP in it, so services keep their real ports (ZooKeeper 2181,
//! PostgreSQL 5432, HTTP 80) without clashing, and several labs (parallel
//! tests) never meet.
//!
//! The claim is a listening socket on 127.A.255.254:CLAIM_PORT, held for the
//! daemon's lifetime (it is the control endpoint too): the kernel makes the
//! claim atomic between racing labs, and it vanishes with the process, so a
//! crashed lab never leaves a stale claim behind.

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};

use serde::{Deserialize, Serialize};

use crate::lab::error::LabError;

/// Below the kernel's ephemeral range, so an outgoing connection never sits
/// on it by chance.
const CLAIM_PORT: u16 = 29107;
const FIRST: u8 = 2;
const LAST: u8 = 254;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressBlock {
    /// The A of 127.A.0.0/16.
    pub a: u8,
}

impl AddressBlock {
    /// The n-th host address of the block (n from 1), skipping .0 and .255
    /// so every address looks like an ordinary host address.
    pub fn host(&self, n: u32) -> Ipv4Addr {
        let per_row = 254;
        let n = n.max(1) - 1;
        let y = (n / per_row).min(254) as u8;
        let z = (n % per_row) as u8 + 1;
        Ipv4Addr::new(127, self.a, y, z)
    }

    fn claim_addr(&self) -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::new(127, self.a, 255, 254), CLAIM_PORT)
    }

    pub fn cidr(&self) -> String {
        format!("127.{}.0.0/16", self.a)
    }
}

/// A held block: dropping the listener releases it.
pub struct ClaimedBlock {
    pub block: AddressBlock,
    pub listener: TcpListener,
    /// Set when the block the lab used before was taken by another lab.
    pub moved_from: Option<AddressBlock>,
}

/// Claims `preferred` (the block this lab used before), else the first free
/// block scanning from a point derived from `seed`, so labs in different
/// directories start their search in different places.
pub fn claim(preferred: Option<AddressBlock>, seed: &str) -> Result<ClaimedBlock, LabError> {
    if let Some(block) = preferred
        && let Some(listener) = try_claim(block)?
    {
        return Ok(ClaimedBlock {
            block,
            listener,
            moved_from: None,
        });
    }
    let span = u32::from(LAST - FIRST) + 1;
    let start = fnv1a(seed) % span;
    for i in 0..span {
        let a = FIRST + ((start + i) % span) as u8;
        let block = AddressBlock { a };
        if let Some(listener) = try_claim(block)? {
            return Ok(ClaimedBlock {
                block,
                listener,
                moved_from: preferred,
            });
        }
    }
    Err(LabError::NoFreeAddressBlock)
}

fn try_claim(block: AddressBlock) -> Result<Option<TcpListener>, LabError> {
    let addr = block.claim_addr();
    match TcpListener::bind(addr) {
        Ok(listener) => Ok(Some(listener)),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Ok(None),
        Err(cause) => Err(LabError::Listen {
            addr: addr.to_string(),
            cause,
        }),
    }
}

fn fnv1a(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_addresses_skip_zero_and_broadcast() {
        let block = AddressBlock { a: 9 };
        assert_eq!(block.host(1), Ipv4Addr::new(127, 9, 0, 1));
        assert_eq!(block.host(254), Ipv4Addr::new(127, 9, 0, 254));
        assert_eq!(block.host(255), Ipv4Addr::new(127, 9, 1, 1));
    }

    #[test]
    fn a_claimed_block_is_not_claimed_twice() {
        let first = claim(None, "/tmp/lab-a").expect("a free block");
        let second = claim(Some(first.block), "/tmp/lab-a").expect("another free block");
        assert_ne!(first.block, second.block);
        assert_eq!(second.moved_from, Some(first.block));
    }
}
