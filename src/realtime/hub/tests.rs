//! The hub without sockets: queues, presence, caps.

use serde_json::{json, Value};

use super::*;
use crate::realtime::protocol::{self, code};

fn hub(max_connections: usize, send_queue: usize) -> Arc<Hub> {
    Arc::new(Hub::new(
        Limits {
            max_connections,
            send_queue,
            max_presence_members: 2,
        },
        IntGauge::new("c", "c").unwrap(),
        IntCounter::new("s", "s").unwrap(),
    ))
}

fn next(reg: &mut Registration) -> Value {
    let f = reg.rx.try_recv().expect("a frame");
    let mut v: Value = serde_json::from_str(f.as_str()).unwrap();
    v["data"] = serde_json::from_str(v["data"].as_str().unwrap()).unwrap();
    v
}

fn member(id: &str) -> Option<Member> {
    Some(Member {
        user_id: id.into(),
        user_info: json!({"name": id}),
    })
}

#[test]
fn the_connection_cap_refuses_the_next_one() {
    let hub = hub(2, 8);
    let ws = WorkspaceId::new();
    let a = hub.register(ws).unwrap();
    let _b = hub.register(ws).unwrap();
    assert_eq!(hub.register(ws).err(), Some(Refused::OverCapacity));
    drop(a);
    assert!(hub.register(ws).is_ok());
}

#[test]
fn broadcasts_reach_subscribers_of_that_workspace_only() {
    let hub = hub(10, 8);
    let (w1, w2) = (WorkspaceId::new(), WorkspaceId::new());
    let mut a = hub.register(w1).unwrap();
    let mut b = hub.register(w2).unwrap();
    a.subscribe("orders", None).unwrap();
    b.subscribe("orders", None).unwrap();
    assert_eq!(
        next(&mut a)["event"],
        "pusher_internal:subscription_succeeded"
    );
    next(&mut b);
    assert_eq!(
        hub.broadcast(w1, "orders", None, || protocol::frame(
            "e",
            Some("orders"),
            "{}"
        )),
        1
    );
    assert_eq!(next(&mut a)["event"], "e");
    assert!(b.rx.try_recv().is_err());
    // Unsubscribed and dropped connections leave no channel behind.
    a.unsubscribe("orders");
    drop(b);
    assert!(hub.read().channels.is_empty());
    assert_eq!(hub.connections(), 1);
}

#[test]
fn a_full_queue_closes_the_slow_connection() {
    let hub = hub(10, 4);
    let ws = WorkspaceId::new();
    let mut slow = hub.register(ws).unwrap();
    slow.subscribe("c", None).unwrap();
    for _ in 0..10 {
        hub.broadcast(ws, "c", None, || "{}".into());
    }
    assert_eq!(slow.kill.reason().map(|r| r.0), Some(code::OVER_CAPACITY));
}

#[test]
fn presence_announces_a_user_once_however_many_sockets() {
    let hub = hub(10, 32);
    let ws = WorkspaceId::new();
    let ch = "presence-room";
    let mut ann = hub.register(ws).unwrap();
    ann.subscribe(ch, member("ann")).unwrap();
    let ok = next(&mut ann);
    assert_eq!(ok["data"]["presence"]["ids"], json!(["ann"]));
    assert_eq!(ok["data"]["presence"]["count"], 1);

    let mut bob1 = hub.register(ws).unwrap();
    bob1.subscribe(ch, member("bob")).unwrap();
    assert_eq!(next(&mut bob1)["data"]["presence"]["count"], 2);
    let added = next(&mut ann);
    assert_eq!(added["event"], "pusher_internal:member_added");
    assert_eq!(
        added["data"],
        json!({"user_id": "bob", "user_info": {"name": "bob"}})
    );

    // Bob's second tab: no second member_added.
    let mut bob2 = hub.register(ws).unwrap();
    bob2.subscribe(ch, member("bob")).unwrap();
    next(&mut bob2);
    assert!(ann.rx.try_recv().is_err());
    assert!(bob1.rx.try_recv().is_err());

    // A third user is over this hub's limit of two members.
    let mut cy = hub.register(ws).unwrap();
    assert_eq!(
        cy.subscribe(ch, member("cy")),
        Err(SubscribeError::TooManyMembers)
    );

    drop(bob1);
    assert!(ann.rx.try_recv().is_err(), "bob still has a socket here");
    drop(bob2);
    let removed = next(&mut ann);
    assert_eq!(removed["event"], "pusher_internal:member_removed");
    assert_eq!(removed["data"], json!({"user_id": "bob"}));
}

#[test]
fn relays_skip_the_sender_and_socket_ids_resolve_per_workspace() {
    let hub = hub(10, 8);
    let ws = WorkspaceId::new();
    let mut a = hub.register(ws).unwrap();
    let mut b = hub.register(ws).unwrap();
    a.subscribe("private-x", None).unwrap();
    b.subscribe("private-x", None).unwrap();
    next(&mut a);
    next(&mut b);
    assert_eq!(a.relay("private-x", || "{}".into()), 1);
    assert!(a.rx.try_recv().is_err());
    assert!(b.rx.try_recv().is_ok());
    assert_eq!(hub.find_socket(ws, &a.socket_id), Some(a.id));
    assert_eq!(hub.find_socket(WorkspaceId::new(), &a.socket_id), None);
    assert_eq!(hub.find_socket(ws, &format!("1.{}", a.id)), None);
    assert_eq!(hub.find_socket(ws, "garbage"), None);
}
