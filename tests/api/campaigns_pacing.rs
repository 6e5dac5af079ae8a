//! The sandbox proof that pacing keeps numbers alive: the same campaign
//! to 2,000 contacts from 4 sandbox numbers bans none of them with the
//! default pacing, and gets at least one banned with pacing off. The
//! pacer and the sandbox's ban model read one simulated clock, so the
//! days such a campaign takes pass in seconds.

use std::collections::HashSet;

use blazz::jobs::Registry;
use serde_json::json;

use crate::campaigns::{import, wait_campaign};
use crate::helpers::TestApp;
use crate::numbers::connected_account;

const CONTACTS: usize = 2_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_pacing_bans_no_number_and_no_pacing_gets_one_banned() {
    let app = TestApp::spawn_with(
        |c| {
            c.campaigns.simulated_clock = true;
            c.sandbox.enforce_pacing = true;
            c.sandbox.delivered_after_ms = 10;
            c.sandbox.read_after_ms = 10;
        },
        Registry::builtin(),
    )
    .await;
    let t = app.tenant("Toko").await;
    let mut numbers = Vec::new();
    for _ in 0..4 {
        numbers.push(connected_account(&app, &t.token).await);
    }
    import(&app, &t.token, 0, CONTACTS, "everyone", 0).await;
    let clock = app.state().campaigns.clock.clone();
    let started = clock.now_ms();
    let net = app.state().sessions.sandbox.clone().unwrap();

    let campaign = |name: &str, pacing: &str| {
        json!({"name": name, "text": "Halo {{contact.name}}, promo akhir tahun!",
               "account_ids": numbers, "audience": {"tags": ["everyone"]},
               "settings": {"pacing": pacing, "typing": false, "cooldown_hours": 0}})
    };
    let (status, c) = app
        .post(&t.token, "/api/v1/campaigns", campaign("Paced", "default"))
        .await;
    assert_eq!(status, 201, "{c}");
    let paced = c["id"].as_str().unwrap().to_string();
    let (status, c) = app
        .post(
            &t.token,
            &format!("/api/v1/campaigns/{paced}/start"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{c}");
    let done = wait_campaign(&app, &t.token, &paced, |c| c["status"] == "completed").await;
    assert_eq!(done["stats"]["sent"], CONTACTS, "{done}");
    assert_eq!(done["stats"]["failed"], 0, "{done}");
    for n in &numbers {
        assert!(!net.is_banned(n), "default pacing got {n} banned");
    }
    let mut reached = HashSet::new();
    for n in &numbers {
        for m in net.received(n, 100_000).messages {
            assert!(reached.insert(m.to.clone()), "{} got two messages", m.to);
        }
    }
    assert_eq!(reached.len(), CONTACTS);
    let days = (clock.now_ms() - started) as f64 / 86_400_000.0;
    // New numbers warm up (50 a day each at first): days, not minutes.
    assert!(
        days > 1.0,
        "2,000 messages from 4 new numbers took {days:.2} days"
    );
    println!("paced: {CONTACTS} messages over {days:.1} simulated days, no ban");

    // The same campaign again, unpaced.
    let (status, c) = app
        .post(&t.token, "/api/v1/campaigns", campaign("Unpaced", "off"))
        .await;
    assert_eq!(status, 201, "{c}");
    let unpaced = c["id"].as_str().unwrap().to_string();
    app.post(
        &t.token,
        &format!("/api/v1/campaigns/{unpaced}/start"),
        json!({}),
    )
    .await;
    let mut banned = Vec::new();
    for _ in 0..600 {
        banned = numbers
            .iter()
            .filter(|n| net.is_banned(n))
            .cloned()
            .collect();
        if !banned.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(!banned.is_empty(), "no number was banned without pacing");
    // The runner stops sending from a banned number and says why.
    let c = wait_campaign(&app, &t.token, &unpaced, |c| {
        c["numbers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["paused_reason"] == "banned")
    })
    .await;
    println!(
        "unpaced: {} of 4 numbers banned; stats {}",
        banned.len(),
        c["stats"]
    );
    let (status, _) = app
        .post(
            &t.token,
            &format!("/api/v1/campaigns/{unpaced}/cancel"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    app.finish().await;
}

/// A scheduled campaign starts at its time, and a sending window keeps
/// every message inside the recipient's local hours: on the simulated
/// clock, the runner waits for the window to open instead of sending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_campaign_starts_on_time_and_sends_only_inside_its_window() {
    let app = TestApp::spawn_with(
        |c| {
            c.campaigns.simulated_clock = true;
            c.sandbox.enforce_pacing = true;
        },
        Registry::builtin(),
    )
    .await;
    let t = app.tenant("Toko").await;
    let number = connected_account(&app, &t.token).await;
    import(&app, &t.token, 0, 30, "everyone", 0).await;
    let clock = app.state().campaigns.clock.clone();
    let now = clock.now_ms();
    let jakarta: chrono_tz::Tz = "Asia/Jakarta".parse().unwrap();
    let local = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .unwrap()
            .with_timezone(&jakarta)
    };
    // A window that is closed now: it opens two hours from now, local time,
    // and lasts an hour.
    let opens = local(now + 2 * 3_600_000);
    let window = json!({"start": opens.format("%H:00").to_string(),
                        "end": (opens + chrono::Duration::hours(1)).format("%H:00").to_string()});
    // Scheduled a minute ahead of the simulated clock.
    let start_at = chrono::DateTime::from_timestamp_millis(now + 60_000)
        .unwrap()
        .to_rfc3339();
    let (status, c) = app
        .post(
            &t.token,
            "/api/v1/campaigns",
            json!({"name": "Window", "text": "Selamat pagi {{contact.name}}",
                   "account_ids": [number], "audience": {"tags": ["everyone"]}, "start_at": start_at,
                   "settings": {"typing": false, "time_zone": "Asia/Jakarta", "window": window}}),
        )
        .await;
    assert_eq!(status, 201, "{c}");
    let id = c["id"].as_str().unwrap().to_string();
    let (status, c) = app
        .post(
            &t.token,
            &format!("/api/v1/campaigns/{id}/start"),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, c["status"].as_str()),
        (200, Some("scheduled")),
        "{c}"
    );
    // Not due yet: the scheduler leaves it be.
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    let (_, c) = app.get(&t.token, &format!("/api/v1/campaigns/{id}")).await;
    assert_eq!(c["status"], "scheduled");
    clock.sleep_until(now + 61_000).await;
    let done = wait_campaign(&app, &t.token, &id, |c| c["status"] == "completed").await;
    assert_eq!(done["stats"]["sent"], 30, "{done}");
    let (_, recipients) = app
        .get(
            &t.token,
            &format!("/api/v1/campaigns/{id}/recipients?limit=100"),
        )
        .await;
    let (start, end) = (
        window["start"].as_str().unwrap().to_string(),
        window["end"].as_str().unwrap().to_string(),
    );
    for r in recipients["data"].as_array().unwrap() {
        let at = chrono::DateTime::parse_from_rfc3339(r["sent_at"].as_str().unwrap()).unwrap();
        let hhmm = at.with_timezone(&jakarta).format("%H:%M").to_string();
        let inside = if start < end {
            hhmm >= start && hhmm < end
        } else {
            hhmm >= start || hhmm < end
        };
        assert!(inside, "sent at {hhmm} Jakarta time, outside {start}-{end}");
        assert!(
            at.timestamp_millis() >= now + 60_000,
            "sent before its start"
        );
    }
    app.finish().await;
}

/// The closed loop: a number whose campaign sends keep failing stops
/// sending for the campaign, with the reason shown, and the other number
/// takes its share.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_number_whose_sends_keep_failing_is_paused_and_the_other_takes_over() {
    let app = TestApp::spawn_with(
        |c| {
            c.campaigns.simulated_clock = true;
            c.sandbox.enforce_pacing = true;
        },
        Registry::builtin(),
    )
    .await;
    let t = app.tenant("Toko").await;
    let failing = connected_account(&app, &t.token).await;
    let healthy = connected_account(&app, &t.token).await;
    import(&app, &t.token, 0, 60, "everyone", 0).await;
    // The failing number's next ten sends are refused for good.
    let (status, r) = app
        .post(
            &t.token,
            &format!("/api/v1/sandbox/accounts/{failing}/send-failures"),
            json!({"count": 10, "kind": "permanent", "reason": "recipient blocked this number"}),
        )
        .await;
    assert_eq!(status, 204, "{r}");
    let (_, c) = app
        .post(
            &t.token,
            "/api/v1/campaigns",
            json!({"name": "Loop", "text": "Halo", "account_ids": [failing, healthy],
                   "audience": {"tags": ["everyone"]}, "settings": {"typing": false}}),
        )
        .await;
    let id = c["id"].as_str().unwrap().to_string();
    app.post(
        &t.token,
        &format!("/api/v1/campaigns/{id}/start"),
        json!({}),
    )
    .await;
    let done = wait_campaign(&app, &t.token, &id, |c| c["status"] == "completed").await;
    let stats = &done["stats"];
    assert_eq!(stats["failed"], 10, "{done}");
    assert_eq!(stats["sent"], 50, "{done}");
    let bad = &stats["by_number"][&failing];
    let attempts = bad["sent"].as_i64().unwrap() + bad["failed"].as_i64().unwrap();
    // Blocked sends count from the twentieth attempt on (5% allowed).
    assert!(
        (20..=22).contains(&attempts),
        "{attempts} attempts from the failing number: {done}"
    );
    assert_eq!(
        stats["by_number"][&healthy]["sent"].as_i64().unwrap(),
        60 - attempts
    );
    let reason = done["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["account_id"] == failing.as_str())
        .unwrap()["paused_reason"]
        .clone();
    assert_eq!(reason, "too_many_blocks", "{done}");
    app.finish().await;
}
