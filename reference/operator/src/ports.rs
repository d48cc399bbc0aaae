//! Where Gateway ports really listen.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};

use portcullis_model::{ObjectKey, Snapshot};
use portcullis_translate::PortMap;

/// How declared ports map to local sockets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PortPolicy {
    /// Use the declared port when it can be bound, else a free one (for people running it).
    #[default]
    DeclaredFirst,
    /// Always a free port (for tests, which may run side by side).
    AlwaysFree,
}

/// Assigns each (Gateway, declared port) a local socket (on loopback unless told otherwise),
/// and keeps the assignment stable for as long as the port is declared, so Envoy never has to
/// rebind.
#[derive(Debug)]
pub struct PortAllocator {
    policy: PortPolicy,
    ip: IpAddr,
    assigned: PortMap,
}

fn bindable(ip: IpAddr, port: u16) -> bool {
    TcpListener::bind((ip, port)).is_ok()
}

fn free_port(ip: IpAddr) -> Option<u16> {
    TcpListener::bind((ip, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .ok()
}

impl PortAllocator {
    /// An allocator with a policy, on loopback.
    pub fn new(policy: PortPolicy) -> Self {
        Self::on(policy, IpAddr::V4(Ipv4Addr::LOCALHOST))
    }

    /// An allocator with a policy whose sockets listen on `ip` (`0.0.0.0` in a pod, so that
    /// traffic from outside reaches the listeners).
    pub fn on(policy: PortPolicy, ip: IpAddr) -> Self {
        PortAllocator {
            policy,
            ip,
            assigned: PortMap::new(),
        }
    }

    /// Updates the assignment for the Gateways in `snapshot` and returns it. Ports no longer
    /// declared are released.
    pub fn allocate(&mut self, snapshot: &Snapshot) -> &PortMap {
        let mut wanted = BTreeSet::new();
        for (key, gateway) in &snapshot.gateways {
            for listener in &gateway.spec.listeners {
                wanted.insert((key.clone(), listener.port));
            }
        }
        self.assigned.retain(|k, _| wanted.contains(k));
        let mut taken: BTreeSet<u16> = self.assigned.values().map(|a| a.port()).collect();
        for (key, port) in wanted {
            if self.assigned.contains_key(&(key.clone(), port)) {
                continue;
            }
            let declared = u16::try_from(port).ok().filter(|p| *p != 0);
            let chosen = match (self.policy, declared) {
                (PortPolicy::DeclaredFirst, Some(p)) if !taken.contains(&p) && bindable(self.ip, p) => {
                    Some(p)
                }
                _ => free_port(self.ip),
            };
            if let Some(local) = chosen {
                taken.insert(local);
                self.assigned.insert((key, port), SocketAddr::new(self.ip, local));
            } else {
                tracing::warn!(gateway = %key, port, "no free local port for listener");
            }
        }
        &self.assigned
    }

    /// The current assignment.
    pub fn assigned(&self) -> &PortMap {
        &self.assigned
    }
}

/// The local address of a Gateway port, if assigned.
pub fn local_address(map: &PortMap, gateway: &ObjectKey, port: i32) -> Option<SocketAddr> {
    map.get(&(gateway.clone(), port)).copied()
}

/// Ports grouped by Gateway, for printing.
pub fn by_gateway(map: &PortMap) -> BTreeMap<ObjectKey, Vec<(i32, SocketAddr)>> {
    let mut out: BTreeMap<ObjectKey, Vec<(i32, SocketAddr)>> = BTreeMap::new();
    for ((key, port), addr) in map {
        out.entry(key.clone()).or_default().push((*port, *addr));
    }
    out
}
