//! Leader election against the fake API server's Lease store: one holder at a time, renewals
//! keep it, and another replica takes over once the holder stops.

use std::time::Duration;

use portcullis_kube_fake::{FakeApi, GUARD};
use portcullis_kube_source::{LeaderElection, LeaseOptions};
use tokio::sync::watch;

const LEASES: &str = "/apis/coordination.k8s.io/v1/namespaces/portcullis-system/leases";

fn options(identity: &str) -> LeaseOptions {
    let mut options = LeaseOptions::new("portcullis-system", "portcullis", identity);
    options.lease_duration = Duration::from_millis(1500);
    options.renew_every = Duration::from_millis(100);
    options
}

async fn becomes(leader: &mut watch::Receiver<bool>, wanted: bool) {
    tokio::time::timeout(GUARD, leader.wait_for(|l| *l == wanted))
        .await
        .expect("in time")
        .expect("the election runs");
}

#[tokio::test]
async fn one_replica_leads_until_it_stops_then_another_takes_over() {
    let (client, fake, _applies) = FakeApi::start();
    fake.store(LEASES);
    let a = LeaderElection::start(client.clone(), options("pod-a"));
    let mut a_leads = a.leader();
    becomes(&mut a_leads, true).await;
    let b = LeaderElection::start(client.clone(), options("pod-b"));
    let mut b_leads = b.leader();

    // Lease durations go by: a renews, so b never gets it.
    tokio::time::sleep(Duration::from_millis(4000)).await;
    assert!(*a_leads.borrow());
    assert!(!*b.leader().borrow());
    let lease = fake.stored(LEASES, "portcullis").expect("the Lease");
    assert_eq!(lease["spec"]["holderIdentity"], "pod-a");
    assert_eq!(lease["spec"]["leaseTransitions"], 0);

    // a stops renewing (its pod is gone): b takes over once the Lease expired.
    drop(a);
    becomes(&mut b_leads, true).await;
    let lease = fake.stored(LEASES, "portcullis").expect("the Lease");
    assert_eq!(lease["spec"]["holderIdentity"], "pod-b");
    assert_eq!(lease["spec"]["leaseTransitions"], 1);
    assert_eq!(
        lease["spec"]["leaseDurationSeconds"], 2,
        "1.5 s rounds up to whole seconds"
    );
}

#[tokio::test]
async fn a_replica_that_cannot_reach_the_lease_does_not_lead() {
    // No Lease collection: every request answers 404 (as for a missing namespace).
    let (client, _fake, _applies) = FakeApi::start();
    let election = LeaderElection::start(client, options("pod-a"));
    let mut leader = election.leader();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(!*leader.borrow_and_update());
}
