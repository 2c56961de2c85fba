//! IP allocation: the next free address of a pool, skipping addresses already
//! used in the spec and the recorded state, the gateway, and network/broadcast.

use std::collections::BTreeSet;
use std::net::IpAddr;

use infra_core::spec::{Pool, Spec, Value};
use infra_core::state::State;

/// Every address the spec or state uses (from `ip` and `address` attributes).
pub fn used(spec: &Spec, state: &State) -> BTreeSet<IpAddr> {
    let mut out = BTreeSet::new();
    let mut take = |v: Option<&Value>| {
        if let Some(s) = v.and_then(Value::as_str) {
            let addr = s.split('/').next().unwrap_or(s);
            if let Ok(ip) = addr.parse() {
                out.insert(ip);
            }
        }
    };
    for r in &spec.resources {
        take(r.attrs.get("ip"));
    }
    for r in state.resources.values() {
        take(r.attrs.get("ip"));
        take(r.attrs.get("address"));
    }
    out
}

/// The next free address of the pool, as `ADDR/PREFIX`.
pub fn allocate(pool: &Pool, used: &BTreeSet<IpAddr>) -> Result<String, String> {
    let net = pool
        .cidr
        .ok_or_else(|| format!("pool `{}` has no cidr", pool.name))?;
    let (first, last) = match pool.range {
        Some(r) => r,
        None => (net.network(), net.broadcast()),
    };
    let free = net
        .hosts()
        .filter(|ip| *ip >= first && *ip <= last)
        .filter(|ip| Some(*ip) != pool.gateway && *ip != net.network() && *ip != net.broadcast())
        .find(|ip| !used.contains(ip));
    match free {
        Some(ip) => Ok(format!("{ip}/{}", net.prefix_len())),
        None => Err(format!(
            "pool `{}` has no free address left in {first}–{last}",
            pool.name
        )),
    }
}

/// Is this address private (RFC 1918, loopback, link-local, ULA)?
pub fn is_private(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_private() || v4.is_loopback() || v4.is_link_local(),
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_used_gateway_and_network() {
        let pool = Pool {
            name: "lan".into(),
            cidr: Some("10.0.0.0/29".parse().unwrap()),
            range: None,
            gateway: Some("10.0.0.1".parse().unwrap()),
            loc: None,
        };
        let mut used = BTreeSet::new();
        assert_eq!(allocate(&pool, &used).unwrap(), "10.0.0.2/29");
        used.insert("10.0.0.2".parse().unwrap());
        assert_eq!(allocate(&pool, &used).unwrap(), "10.0.0.3/29");
        for i in 3..=6 {
            used.insert(format!("10.0.0.{i}").parse().unwrap());
        }
        assert!(allocate(&pool, &used)
            .unwrap_err()
            .contains("no free address"));
    }

    #[test]
    fn honours_the_range() {
        let pool = Pool {
            name: "lan".into(),
            cidr: Some("192.168.1.0/24".parse().unwrap()),
            range: Some((
                "192.168.1.50".parse().unwrap(),
                "192.168.1.60".parse().unwrap(),
            )),
            gateway: None,
            loc: None,
        };
        assert_eq!(
            allocate(&pool, &BTreeSet::new()).unwrap(),
            "192.168.1.50/24"
        );
    }
}
