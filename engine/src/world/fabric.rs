//! The fabric between hosts: which host holds an address, the links and their latency and
//! MTU, whether a host is up, and the fault rules that decide each segment's fate
//! (turmoil-net's fabric and rules). It knows nothing of TCP.

use crate::addr::Ipv4;
use crate::ids::{HostId, Table};
use crate::rng::Rng;
use crate::scenario::{Fault, HostSpec, Scenario};
use crate::vecmap::VecMap;
use crate::wire::{Wire, LOOPBACK_MTU};
use crate::world::fault_rule::{FaultRule, Hop, Verdict};

/// One-way latency between two sockets of the same host.
pub(crate) const LOOPBACK_LATENCY_US: u64 = 5;

#[derive(Clone, Copy)]
pub(crate) struct Link {
    pub latency_us: u64,
    pub mtu: u32,
}

/// Where a segment goes: the destination host, the one-way latency and the path's MTU.
#[derive(Clone, Copy)]
pub(crate) struct Route {
    pub to: HostId,
    pub latency_us: u64,
    pub mtu: u32,
}

pub(crate) struct Fabric {
    host_by_addr: VecMap<Ipv4, HostId>,
    links: VecMap<(HostId, HostId), Link>,
    rules: Vec<FaultRule>,
    host_down: Table<HostId, bool>,
}

impl Fabric {
    pub fn new(scenario: &Scenario) -> Fabric {
        let hosts: Table<HostId, &HostSpec> = scenario.hosts.iter().collect();
        let host_by_addr = hosts.with_ids().map(|(id, host)| (host.addr, id)).collect();
        let index_of = |name: &str| hosts.find(|host| host.name == name);
        let mut links = VecMap::new();
        if scenario.links.is_empty() {
            // Without links every pair of hosts is joined by the default link.
            let link = Link { latency_us: crate::scenario::default_latency_us(), mtu: crate::scenario::default_mtu() };
            for a in hosts.ids() {
                for b in hosts.ids().filter(|&b| b > a) {
                    links.insert((a, b), link);
                }
            }
        } else {
            for spec in &scenario.links {
                // validate() has checked that both names exist.
                if let (Some(a), Some(b)) = (index_of(&spec.a), index_of(&spec.b)) {
                    links.insert((a.min(b), a.max(b)), Link { latency_us: spec.latency_us, mtu: spec.mtu });
                }
            }
        }
        let rules = scenario
            .faults
            .iter()
            .enumerate()
            .filter(|(_, fault)| !matches!(fault, Fault::Crash { .. } | Fault::Reboot { .. }))
            .map(|(index, fault)| FaultRule::new(fault.clone(), index))
            .collect();
        Fabric { host_by_addr, links, rules, host_down: hosts.iter().map(|_| false).collect() }
    }

    /// The host that holds `addr`.
    pub fn host_of(&self, addr: Ipv4) -> Option<HostId> {
        self.host_by_addr.get(&addr).copied()
    }

    /// Where a segment from `host` to `dst` goes.
    pub fn route(&self, host: HostId, dst: Ipv4) -> Option<Route> {
        let to = self.host_of(dst)?;
        if to == host {
            return Some(Route { to, latency_us: LOOPBACK_LATENCY_US, mtu: LOOPBACK_MTU });
        }
        let link = self.links.get(&(host.min(to), host.max(to)))?;
        Some(Route { to, latency_us: link.latency_us, mtu: link.mtu })
    }

    /// The MTU of the path from `host` towards `dst` (the loopback MTU when there is no route,
    /// which only a segment that already arrived can ask about).
    pub fn path_mtu(&self, host: HostId, dst: Ipv4) -> u32 {
        self.route(host, dst).map_or(LOOPBACK_MTU, |route| route.mtu)
    }

    /// The first rule that has a verdict decides a segment's fate (turmoil-net's `Verdict`).
    pub fn verdict(&mut self, hop: &Hop<'_>, wire: &Wire, now: u64, rng: &mut Rng) -> Verdict {
        self.rules.iter_mut().find_map(|rule| rule.on_segment(hop, wire, now, rng)).unwrap_or(Verdict::UNTOUCHED)
    }

    pub fn is_down(&self, host: HostId) -> bool {
        self.host_down[host]
    }

    pub fn set_down(&mut self, host: HostId, down: bool) {
        self.host_down[host] = down;
    }
}
