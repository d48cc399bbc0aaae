//! `KubeSource` against a fake API server whose CRDs come and go: a kind installed after the
//! start is picked up, a kind deleted is dropped and found again, and the others keep working.

use std::time::Duration;

use portcullis_kube_fake::{FakeApi, GUARD};
use portcullis_kube_source::{KubeSource, KubeSourceOptions};
use serde_json::{Value, json};
use tokio::sync::watch;

const ROUTES: &str = "/apis/gateway.networking.k8s.io/v1/httproutes";
const APIS: &str = "/apis/dp.wso2.com/v1alpha3/apis";

/// Short, so that tests do not wait; how short does not change what they assert.
const EVERY: Duration = Duration::from_millis(20);

fn route(name: &str, version: u32) -> Value {
    json!({
        "metadata": {"name": name, "namespace": "default", "resourceVersion": version.to_string()},
        "spec": {"parentRefs": [{"name": "gw"}], "hostnames": [format!("{name}.example.com")]}
    })
}

fn api(name: &str, version: u32) -> Value {
    json!({
        "metadata": {"name": name, "namespace": "default", "resourceVersion": version.to_string()},
        "spec": {"apiName": name, "apiVersion": "1.0"}
    })
}

fn names(source: &KubeSource) -> Vec<String> {
    source
        .report()
        .resources
        .into_iter()
        .map(|(source, _)| source)
        .collect()
}

fn missing(source: &KubeSource, kind: &str) -> bool {
    source.missing_kinds().iter().any(|k| k == kind)
}

/// Waits for the next change and returns the report's names then.
async fn next_change(source: &KubeSource, changes: &mut watch::Receiver<u64>) -> Vec<String> {
    tokio::time::timeout(GUARD, changes.changed())
        .await
        .expect("a change")
        .expect("source alive");
    changes.borrow_and_update();
    names(source)
}

async fn started(fake_setup: impl FnOnce(&FakeApi)) -> (KubeSource, FakeApi) {
    let (client, fake, _applies) = FakeApi::start();
    fake_setup(&fake);
    let source =
        KubeSource::start_with_rediscovery(client, KubeSourceOptions::default(), EVERY).expect("start");
    tokio::time::timeout(GUARD, source.wait_until_synced())
        .await
        .expect("every kind synced");
    (source, fake)
}

#[tokio::test]
async fn a_kind_installed_after_the_start_is_watched_and_its_arrival_is_a_change() {
    let (source, fake) = started(|fake| {
        fake.serve(ROUTES, vec![route("a", 5)]);
    })
    .await;
    assert!(missing(&source, "API"), "{:?}", source.missing_kinds());
    let mut changes = source.changes();
    changes.borrow_and_update();

    // The APK CRDs are installed: nothing else changes, so the next change is their arrival,
    // and the report has the new kind's objects by then.
    fake.serve(APIS, vec![api("pets", 6)]);
    assert_eq!(
        next_change(&source, &mut changes).await,
        ["kube:HTTPRoute default/a", "kube:API default/pets"]
    );
    assert!(!missing(&source, "API"), "{:?}", source.missing_kinds());
    // Kinds still not installed stay missing.
    assert!(
        missing(&source, "RateLimitPolicy"),
        "{:?}",
        source.missing_kinds()
    );

    // The new kind is watched like the others, and the others still are.
    fake.push(APIS, &[("ADDED", api("store", 7))]).await;
    assert_eq!(
        next_change(&source, &mut changes).await,
        [
            "kube:HTTPRoute default/a",
            "kube:API default/pets",
            "kube:API default/store"
        ]
    );
    fake.push(ROUTES, &[("ADDED", route("b", 8))]).await;
    assert_eq!(
        next_change(&source, &mut changes).await,
        [
            "kube:HTTPRoute default/a",
            "kube:HTTPRoute default/b",
            "kube:API default/pets",
            "kube:API default/store"
        ]
    );
}

#[tokio::test]
async fn a_kind_no_longer_served_is_dropped_and_found_again() {
    let (source, fake) = started(|fake| {
        fake.serve(ROUTES, vec![route("a", 5)])
            .serve(APIS, vec![api("pets", 6)]);
    })
    .await;
    assert_eq!(
        names(&source),
        ["kube:HTTPRoute default/a", "kube:API default/pets"]
    );
    let mut changes = source.changes();
    changes.borrow_and_update();

    // The CRD is deleted: the API server ends the watch and answers 404 to the next one.
    fake.withdraw(APIS);
    assert_eq!(
        next_change(&source, &mut changes).await,
        ["kube:HTTPRoute default/a"]
    );
    assert!(missing(&source, "API"), "{:?}", source.missing_kinds());

    // Routes are still watched while the kind is missing.
    fake.push(ROUTES, &[("ADDED", route("b", 7))]).await;
    assert_eq!(
        next_change(&source, &mut changes).await,
        ["kube:HTTPRoute default/a", "kube:HTTPRoute default/b"]
    );

    // Installed again, with other objects.
    fake.serve(APIS, vec![api("store", 8)]);
    assert_eq!(
        next_change(&source, &mut changes).await,
        [
            "kube:HTTPRoute default/a",
            "kube:HTTPRoute default/b",
            "kube:API default/store"
        ]
    );
    assert!(!missing(&source, "API"), "{:?}", source.missing_kinds());

    // Deleted again, seen this time through a 410 on the watch and a 404 on the relist.
    fake.unserve(APIS);
    let gone = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "too old resource version", "reason": "Expired", "code": 410});
    fake.push(APIS, &[("ERROR", gone)]).await;
    assert_eq!(
        next_change(&source, &mut changes).await,
        ["kube:HTTPRoute default/a", "kube:HTTPRoute default/b"]
    );
    assert!(missing(&source, "API"), "{:?}", source.missing_kinds());

    // And found once more.
    fake.serve(APIS, vec![api("pets", 9)]);
    assert_eq!(
        next_change(&source, &mut changes).await,
        [
            "kube:HTTPRoute default/a",
            "kube:HTTPRoute default/b",
            "kube:API default/pets"
        ]
    );
}

#[tokio::test]
async fn a_zero_rediscovery_interval_is_refused() {
    let (client, _fake, _applies) = FakeApi::start();
    let Err(error) = KubeSource::start_with_rediscovery(client, KubeSourceOptions::default(), Duration::ZERO)
    else {
        panic!("a zero interval would be a hot loop");
    };
    assert!(error.to_string().contains("rediscovery"), "{error}");
}
