//! HTTPRoutes and GRPCRoutes sharing a hostname on one listener. The Gateway API lets exactly
//! one of the two serve it: the older route, then the first by `namespace/name`. The other
//! loses that listener, and with its last one the parentRef gets Accepted=False.

use std::collections::BTreeMap;

use crate::gateway::AcceptedGateway;
use crate::hostname;
use crate::route::{ParentOutcome, RouteUnit};

/// The reason a route that lost every listener of a parentRef to a route of the other kind gets.
pub const HOSTNAME_CONFLICT: &str = "HostnameConflict";

/// Removes, from every parentRef outcome, the listeners its route loses to an older route of
/// the other kind whose hostnames overlap its own there.
pub(crate) fn resolve(
    units: &[RouteUnit],
    outcomes: &mut [Vec<ParentOutcome>],
    gateways: &[AcceptedGateway],
) {
    // (gateway, listener) → (unit, parentRef outcome) attached there.
    let mut by_listener: BTreeMap<(usize, usize), Vec<(usize, usize)>> = BTreeMap::new();
    for (u, unit) in units.iter().enumerate() {
        if unit.compiled.is_err() {
            continue;
        }
        for (p, outcome) in outcomes[u].iter().enumerate() {
            if let Ok(listeners) = &outcome.result {
                for (listener, _) in listeners {
                    by_listener
                        .entry((outcome.gw_index, *listener))
                        .or_default()
                        .push((u, p));
                }
            }
        }
    }
    let hosts_on =
        |outcomes: &[Vec<ParentOutcome>], (u, p): (usize, usize), listener: usize| -> Vec<String> {
            match &outcomes[u][p].result {
                Ok(listeners) => listeners
                    .iter()
                    .filter(|(l, _)| *l == listener)
                    .flat_map(|(_, hosts)| hosts.iter().cloned())
                    .collect(),
                Err(_) => Vec::new(),
            }
        };
    // (unit, outcome, listener, message) of every lost listener.
    let mut lost = Vec::new();
    for ((gw, listener), mut entries) in by_listener {
        if entries
            .iter()
            .all(|&(u, _)| units[u].kind == units[entries[0].0].kind)
        {
            continue; // one kind only: nothing to decide
        }
        entries.sort_by(|&(a, pa), &(b, pb)| {
            let (a, b) = (&units[a], &units[b]);
            (&a.created, &a.key, a.kind, pa).cmp(&(&b.created, &b.key, b.kind, pb))
        });
        let mut kept: Vec<(usize, usize)> = Vec::new();
        for entry in entries {
            let mine = hosts_on(outcomes, entry, listener);
            let winner = kept.iter().find(|&&other| {
                units[other.0].kind != units[entry.0].kind
                    && hosts_on(outcomes, other, listener)
                        .iter()
                        .any(|theirs| mine.iter().any(|h| hostname::overlaps(h, theirs)))
            });
            match winner {
                Some(&(w, _)) => {
                    let gateway = &gateways[gw];
                    let message = format!(
                        "listener {} of Gateway {}: its hostnames are served by {} {}, which takes precedence \
                         (older, or first by namespace/name)",
                        gateway.listeners[listener].name, gateway.key, units[w].kind, units[w].key
                    );
                    lost.push((entry.0, entry.1, listener, message));
                }
                None => kept.push(entry),
            }
        }
    }
    for (u, p, listener, message) in lost {
        let outcome = &mut outcomes[u][p];
        if let Ok(listeners) = &mut outcome.result {
            listeners.retain(|(l, _)| *l != listener);
            if listeners.is_empty() {
                outcome.result = Err((HOSTNAME_CONFLICT, message));
            }
        }
    }
}
