//! The journal: what the network received outlives the process, so a
//! resend after a restart is still the same message.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use blazz_provider::{ProviderError, ProviderEvent, ReceiptStatus};

use super::{linked, next, open, quick, text};
use crate::{Reloaded, SandboxNetwork, Timing};

fn journaled(path: &Path) -> (SandboxNetwork, Reloaded) {
    let net = SandboxNetwork::new(Timing {
        delivered_after: Duration::from_secs(600),
        ..quick()
    });
    let reloaded = net.open_journal(path).unwrap();
    (net, reloaded)
}

fn lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn every_accepted_send_is_one_line_of_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/journal.jsonl");
    let (net, reloaded) = journaled(&path);
    assert_eq!(
        reloaded,
        Reloaded {
            messages: 0,
            skipped: 0
        }
    );
    let (mut conn, _events, _) = linked(&net, "a").await;
    let message = text("+15550002000");
    conn.send(message.clone()).await.unwrap();
    conn.send(message.clone()).await.unwrap();
    let written = lines(&path);
    assert_eq!(written.len(), 1, "a resend is not written again");
    let line = &written[0];
    assert_eq!(line["account"], "a");
    assert_eq!(line["id"], message.id.as_str());
    assert_eq!(line["to"], "+15550002000");
    assert_eq!(
        line["body"],
        serde_json::json!({"type": "text", "text": "hi"})
    );
    assert!(line["at"].as_i64().unwrap() > 1_600_000_000_000, "{line}");
}

#[tokio::test]
async fn after_a_restart_the_network_knows_what_it_received_and_the_link() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    let (net, _) = journaled(&path);
    let (mut conn, _events, creds) = linked(&net, "a").await;
    let sent: Vec<_> = (0..3).map(|_| text("+15550002000")).collect();
    for m in &sent {
        conn.send(m.clone()).await.unwrap();
    }
    drop((conn, net));

    // Blazz restarts: a new network on the same journal.
    let (net, reloaded) = journaled(&path);
    assert_eq!(
        reloaded,
        Reloaded {
            messages: 3,
            skipped: 0
        }
    );
    let received = net.received("a", 100);
    assert_eq!(received.count, 3);
    let ids: Vec<&str> = received.messages.iter().map(|m| m.id.as_str()).collect();
    let want: Vec<&str> = sent.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, want);
    // The stored credentials still work, and a resend is the same message.
    let (conn, mut events) = open(&net, "a", Some(creds)).await;
    let mut conn = conn.unwrap();
    assert_eq!(next(&mut events).await, ProviderEvent::Connected);
    let again = conn.send(sent[1].clone()).await.unwrap();
    assert_eq!(again.provider_message_id, sent[1].id);
    match next(&mut events).await {
        ProviderEvent::Receipt {
            provider_message_id,
            status,
            ..
        } => assert_eq!(
            (provider_message_id, status),
            (sent[1].id.clone(), ReceiptStatus::Sent)
        ),
        other => panic!("expected the message's receipt again, got {other:?}"),
    }
    conn.send(text("+15550002000")).await.unwrap();
    assert_eq!(net.received("a", 100).count, 4);
    assert_eq!(lines(&path).len(), 4);
}

#[tokio::test]
async fn a_last_line_cut_short_is_skipped_and_the_next_line_stands_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    let (net, _) = journaled(&path);
    let (mut conn, _events, _) = linked(&net, "a").await;
    let first = text("+15550002000");
    conn.send(first.clone()).await.unwrap();
    drop((conn, net));
    // Killed in the middle of writing the second line.
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    file.write_all(br#"{"account":"a","id":"CUT","to":"+1555"#)
        .unwrap();
    drop(file);

    let (net, reloaded) = journaled(&path);
    assert_eq!(
        reloaded,
        Reloaded {
            messages: 1,
            skipped: 1
        }
    );
    let (mut conn, _events, _) = linked(&net, "a").await;
    // The cut message never counted: sent again, it is received.
    let mut cut = text("+15550002000");
    cut.id = "CUT".into();
    conn.send(cut).await.unwrap();
    conn.send(first).await.unwrap();
    assert_eq!(net.received("a", 100).count, 2);
    drop((conn, net));

    // The cut line is now a whole (unreadable) line of its own.
    let (net, reloaded) = journaled(&path);
    assert_eq!(
        reloaded,
        Reloaded {
            messages: 2,
            skipped: 1
        }
    );
    let ids: Vec<String> = net
        .received("a", 100)
        .messages
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(ids[1], "CUT");
}

#[tokio::test]
async fn a_journal_that_cannot_be_opened_fails_sends_rather_than_forget_them() {
    let dir = tempfile::tempdir().unwrap();
    let net = SandboxNetwork::new(quick());
    // A directory is no file to append to.
    assert!(net.open_journal(dir.path()).is_err());
    let (mut conn, _events, _) = linked(&net, "a").await;
    let refused = conn.send(text("+15550002000")).await;
    assert!(
        matches!(&refused, Err(ProviderError::Transient(why)) if why.contains("journal")),
        "{refused:?}"
    );
    assert_eq!(net.received("a", 100).count, 0);
}
